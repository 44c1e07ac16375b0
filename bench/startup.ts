/**
 * How long `npm start` takes until it serves, over several starts, and what the
 * phases took (synthesis, DynamoDB Local, the bundles, the tables, warming one
 * environment per function). With `--checkout DIR` the same is measured for
 * another checkout of this repository (e.g. an older commit) in the same run, so
 * the two can be compared as a ratio on a noisy machine.
 *
 *   npx tsx bench/startup.ts [--runs 3] [--checkout ../other]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../local/stack.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, checkout: { type: 'string' } } });
const runs = Number(values.runs);

/** One start: the banner's "ready in" figure and its phases; the stack is stopped at once. */
async function start(cwd: string): Promise<{ seconds: number; phases: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd,
    env: { ...process.env, PORT: '0', WS_PORT: '0', LOCAL_STACK_FILE: `/tmp/startup-bench-${process.pid}.json` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /Local stack ready in ([\d.]+) s(?: \(([^)]*)\))?/.exec(output);
      if (match) resolve(match);
    });
    child.on('exit', (code) => reject(new Error(`the stack exited (${code}) before it served:\n${output.slice(-2000)}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { seconds: Number(ready[1]), phases: ready[2] ?? '' };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const checkouts = [PROJECT_ROOT, ...(values.checkout ? [values.checkout] : [])];
const results = new Map<string, number[]>(checkouts.map((checkout) => [checkout, []]));
// Interleaved, so a burst of load elsewhere hits both alike.
for (let run = 1; run <= runs; run++) {
  for (const checkout of checkouts) {
    const { seconds, phases } = await start(checkout);
    results.get(checkout)?.push(seconds);
    console.log(`${checkout} run ${run}: ready in ${seconds.toFixed(1)} s${phases ? ` (${phases})` : ''}`);
  }
}
for (const [checkout, seconds] of results) {
  console.log(
    `${checkout}: median ${median(seconds).toFixed(1)} s over ${seconds.length} starts (min ${Math.min(...seconds).toFixed(1)}, max ${Math.max(...seconds).toFixed(1)})`,
  );
}
if (values.checkout) {
  console.log(`ratio this/other: ${(median(results.get(PROJECT_ROOT) ?? []) / median(results.get(values.checkout) ?? [])).toFixed(2)}`);
}
