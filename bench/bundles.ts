/**
 * Every function's deployment bundle: its size, its budget (lib/bundle-budgets.ts),
 * what is largest in it, and its import (init) time in a fresh Node.js process,
 * beside a hello-world handler bundled the same way as the floor.
 *
 * The functions are the template's (every function with `app:entry`), bundled with
 * the deployment options (lib/app-function.ts `BUNDLING`, via local/lambda/bundles.ts).
 * Each import runs in a new `node` process (this Node.js, i.e. the project's Node 24
 * under npm/npx) with the function's own environment from the template, so its
 * module-scope work (clients, environment checks) is part of the figure, as it is of
 * Lambda's INIT. Runs are interleaved across functions so load elsewhere on the
 * machine hits them alike; the figure is the median.
 *
 *   npx tsx bench/bundles.ts [--runs 7] [--top 0]
 *
 * Each import is timed twice per run: with the function's NODE_OPTIONS (which
 * include `--enable-source-maps`, lib/app-function.ts) and without that flag, to
 * show what source-mapped stack traces cost at init. `--top N` also prints the N
 * largest packages in each bundle (esbuild's metafile).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { bundleBudget } from '../lib/bundle-budgets.js';
import { functionsOf, LocalResolver, synthesizeTemplate } from '../local/cloudformation/template.js';
import { buildBundles, bundlePath, esbuildOptions } from '../local/lambda/bundles.js';
import { LOCAL_ACCOUNT, PROJECT_ROOT } from '../local/stack.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, top: { type: 'string', default: '0' } },
});
const runs = Number(values.runs);
const top = Number(values.top);

const functions = functionsOf(new LocalResolver(await synthesizeTemplate(), LOCAL_ACCOUNT));
const outdir = await mkdtemp(path.join(tmpdir(), 'bench-bundles-'));
try {
  await buildBundles(
    functions.map(({ logicalId, entry }) => ({ logicalId, entry })),
    PROJECT_ROOT,
    outdir,
  );
  // The floor: a handler that imports nothing, bundled with the same options.
  const hello = path.join(outdir, 'hello.ts');
  await writeFile(hello, "export const handler = async () => ({ statusCode: 200, body: 'hello' });\n");
  await build({ ...esbuildOptions(), absWorkingDir: outdir, entryPoints: [{ in: hello, out: 'HelloWorld/index' }], outdir, outExtension: { '.js': '.mjs' } });

  const rows = [
    { name: 'hello world', entry: '(floor)', bundle: bundlePath(outdir, 'HelloWorld'), environment: { NODE_OPTIONS: '--enable-source-maps' } },
    ...functions.map((fn) => ({ name: fn.logicalId, entry: fn.entry, bundle: bundlePath(outdir, fn.logicalId), environment: fn.environment })),
  ];
  const times = new Map<string, number[]>(rows.map((row) => [row.name, []]));
  const timesWithoutMaps = new Map<string, number[]>(rows.map((row) => [row.name, []]));
  const importTime = (row: (typeof rows)[number], sourceMaps: boolean): number => {
    const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(row.bundle).href)}); process.stdout.write(String(performance.now() - t0));`;
    const nodeOptions = sourceMaps ? (row.environment.NODE_OPTIONS ?? '') : (row.environment.NODE_OPTIONS ?? '').replace('--enable-source-maps', '').trim();
    const env = {
      PATH: process.env.PATH ?? '',
      ...row.environment,
      NODE_OPTIONS: nodeOptions,
      AWS_REGION: LOCAL_ACCOUNT.region,
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_LAMBDA_FUNCTION_NAME: row.name,
    };
    return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] }).toString('utf8'));
  };
  for (let run = 0; run < runs; run++) {
    for (const row of rows) {
      times.get(row.name)?.push(importTime(row, true));
      timesWithoutMaps.get(row.name)?.push(importTime(row, false));
    }
  }

  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? Number.NaN;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  console.log(
    `Node.js ${process.version}; import time: median of ${runs} fresh processes; load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `${'function'.padEnd(36)} ${'entry'.padEnd(38)} ${'bundle'.padStart(8)} ${'map'.padStart(8)} ${'budget'.padStart(8)} ${'import'.padStart(9)} ${'w/o maps'.padStart(9)}`,
  );
  let over = 0;
  for (const row of rows) {
    const size = (await stat(row.bundle)).size;
    const map = await stat(`${row.bundle}.map`).then(
      (file) => kb(file.size),
      () => '-',
    );
    const budget = row.entry === '(floor)' ? undefined : bundleBudget(row.entry);
    if (budget !== undefined && size > budget) over++;
    const flag = budget !== undefined && size > budget ? '  OVER' : '';
    console.log(
      `${row.name.padEnd(36)} ${row.entry.padEnd(38)} ${kb(size).padStart(8)} ${map.padStart(8)} ${(budget ? kb(budget) : '-').padStart(8)} ${`${median(times.get(row.name) ?? []).toFixed(1)} ms`.padStart(9)} ${`${median(timesWithoutMaps.get(row.name) ?? []).toFixed(1)} ms`.padStart(9)}${flag}`,
    );
  }
  console.log(over === 0 ? 'every bundle is within its budget' : `${over} bundle(s) over budget`);

  if (top > 0) {
    // What each bundle is made of, by package, from esbuild's metafile.
    const { metafile } = await build({
      ...esbuildOptions(),
      absWorkingDir: PROJECT_ROOT,
      entryPoints: functions.map(({ logicalId, entry }) => ({ in: entry, out: `${logicalId}/index` })),
      outdir: path.join(outdir, 'meta'),
      outExtension: { '.js': '.mjs' },
      metafile: true,
      write: false,
    });
    for (const [file, output] of Object.entries(metafile.outputs)) {
      if (!output.entryPoint) continue;
      const byPackage = new Map<string, number>();
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
        const key = match?.[1] ?? input.split('/').slice(0, 2).join('/');
        byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
      }
      const largest = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top);
      console.log(
        `\n${path.dirname(path.relative(path.join(outdir, 'meta'), file))} (${kb(output.bytes)}): ${largest.map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ')}`,
      );
    }
  }
} finally {
  await rm(outdir, { recursive: true, force: true });
}
