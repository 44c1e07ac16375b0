/**
 * `npm run console:bench`: the console's size (each file and all together, raw and
 * gzipped, against its 150 KB budget) and its first render on the offline stack:
 * from navigation to the sign-in form shown, and, signed in, to the jobs table
 * filled from the API, in headless Chromium (Debian's). Needs a running
 * `npm start` (found through LOCAL_STACK_FILE, default .local-stack.json).
 *
 *   RUNS   how many cold page loads to time (5); each in a fresh browser context
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { buildConsoleSync, CONSOLE_BUDGET_GZIP_BYTES, consoleSizes } from '../console/build.js';
import { PROJECT_ROOT } from '../local/stack.js';
import { launchChromium } from '../test/e2e/console/browser.js';

const outdir = mkdtempSync(path.join(tmpdir(), 'console-bench-'));
buildConsoleSync(outdir);
const sizes = consoleSizes(outdir);
rmSync(outdir, { recursive: true, force: true });
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.log('file          raw        gzip');
for (const { file, bytes, gzipBytes } of sizes) console.log(`${file.padEnd(13)} ${kb(bytes).padStart(9)}  ${kb(gzipBytes).padStart(9)}`);
const total = sizes.reduce((sum, { gzipBytes }) => sum + gzipBytes, 0);
console.log(`total gzipped ${kb(total)} of a ${kb(CONSOLE_BUDGET_GZIP_BYTES)} budget (${((100 * total) / CONSOLE_BUDGET_GZIP_BYTES).toFixed(1)} %)`);

const stateFile = process.env.LOCAL_STACK_FILE ?? path.join(PROJECT_ROOT, '.local-stack.json');
let state: { consoleUrl?: string | null; devApiKey: string };
try {
  state = JSON.parse(readFileSync(stateFile, 'utf8'));
} catch {
  console.log(`\nfirst render: not measured (no running stack at ${stateFile}: start one with npm start)`);
  process.exit(0);
}
const runs = Number(process.env.RUNS ?? 5);
const browser = await launchChromium();
try {
  const signIn: number[] = [];
  const jobsShown: number[] = [];
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    let started = performance.now();
    await page.goto(state.consoleUrl as string);
    await page.getByLabel('API key').waitFor();
    signIn.push(performance.now() - started);
    // Signed in (the key in sessionStorage, as after a first sign-in), a cold load straight to the jobs list.
    await page.evaluate((key) => sessionStorage.setItem('regression-jobs.apiKey', key), state.devApiKey);
    started = performance.now();
    await page.reload();
    await page.locator('table.jobs tbody tr').first().waitFor();
    jobsShown.push(performance.now() - started);
    await context.close();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  console.log(`\nfirst render, ${runs} cold loads (median, min-max):`);
  console.log(`  sign-in form shown        ${median(signIn).toFixed(0)} ms (${Math.min(...signIn).toFixed(0)}-${Math.max(...signIn).toFixed(0)})`);
  console.log(`  jobs list filled (signed) ${median(jobsShown).toFixed(0)} ms (${Math.min(...jobsShown).toFixed(0)}-${Math.max(...jobsShown).toFixed(0)})`);
  console.log(
    `load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await browser.close();
}
