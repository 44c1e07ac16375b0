import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleSync, CONSOLE_BUDGET_GZIP_BYTES, consoleSizes } from '../../../console/build.js';

/** The console as it ships (console/build.ts): what the page loads, and its size budget. */
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'console-build-'));
  buildConsoleSync(outdir);
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('console build', () => {
  it('is the page, its script and its stylesheet, each of which the page loads', () => {
    expect(
      consoleSizes(outdir)
        .map(({ file }) => file)
        .sort(),
    ).toEqual(['console.css', 'console.js', 'index.html']);
    const html = readFileSync(path.join(outdir, 'index.html'), 'utf8');
    expect(html).toContain('<script type="module" src="console.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="console.css">');
  });

  it(`stays under ${CONSOLE_BUDGET_GZIP_BYTES / 1024} KB gzipped, all files together`, () => {
    const total = consoleSizes(outdir).reduce((sum, { gzipBytes }) => sum + gzipBytes, 0);
    expect(total).toBeLessThan(CONSOLE_BUDGET_GZIP_BYTES);
  });

  it('bundles the typed client and nothing of Node.js', () => {
    const script = readFileSync(path.join(outdir, 'console.js'), 'utf8');
    expect(script).toContain('Idempotency-Key'); // the client's createJob
    expect(script).not.toMatch(/from\s*"node:|require\(/);
  });
});
