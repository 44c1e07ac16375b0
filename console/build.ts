import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

/**
 * Builds the console (a static single page: index.html, console.js, console.css)
 * with the project's esbuild, for the offline stack's console server
 * (local/console.ts) and for the stack's deployment (lib/console.ts) alike. The
 * page reads `config.json` beside it, which each of them writes.
 */

export const CONSOLE_ROOT = path.dirname(fileURLToPath(import.meta.url));

/** The whole console, gzipped, must stay under this (docs/operations.md, "Console"; checked by test/unit/console/build.test.ts). */
export const CONSOLE_BUDGET_GZIP_BYTES = 150 * 1024;

export function buildConsoleSync(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  buildSync({
    entryPoints: [path.join(CONSOLE_ROOT, 'src', 'main.ts')],
    outfile: path.join(outdir, 'console.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(path.join(CONSOLE_ROOT, 'index.html'), path.join(outdir, 'index.html'));
  copyFileSync(path.join(CONSOLE_ROOT, 'style.css'), path.join(outdir, 'console.css'));
}

/** Each built file's size and gzipped size (level 9, as CloudFront's compression is close to it), in bytes. */
export function consoleSizes(outdir: string): { file: string; bytes: number; gzipBytes: number }[] {
  return readdirSync(outdir)
    .filter((file) => statSync(path.join(outdir, file)).isFile())
    .map((file) => {
      const content = readFileSync(path.join(outdir, file));
      return { file, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
    });
}
