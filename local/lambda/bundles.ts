import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, type BuildResult, build, context, type Plugin } from 'esbuild';
import { BUNDLING } from '../../lib/app-function.js';

/**
 * The functions' deployment bundles, built for the offline stack with the
 * options `cdk deploy` bundles them with (lib/app-function.ts `BUNDLING`, as
 * NodejsFunction passes them to esbuild): one `<logicalId>/index.mjs` per
 * function, in one esbuild run. `test/stack/bundles.test.ts` checks that a bundle
 * built here is byte for byte the asset CDK builds.
 */

export interface BundleEntry {
  logicalId: string;
  /** The handler's source, relative to the project root. */
  entry: string;
}

/** NodejsFunction's esbuild options for `BUNDLING` (its CLI flags, as the esbuild API spells them). */
export function esbuildOptions(): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: BUNDLING.format,
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    logLevel: 'warning',
    // bundleAwsSDK: nothing is external.
  };
}

function buildOptions(entries: readonly BundleEntry[], projectRoot: string, outdir: string): BuildOptions {
  return {
    ...esbuildOptions(),
    absWorkingDir: projectRoot,
    entryPoints: entries.map(({ logicalId, entry }) => ({ in: entry, out: `${logicalId}/index` })),
    outdir,
    outExtension: { '.js': '.mjs' },
  };
}

/** Where each function's bundle is: `<outdir>/<logicalId>/index.mjs`. */
export function bundlePath(outdir: string, logicalId: string): string {
  return path.join(outdir, logicalId, 'index.mjs');
}

/** Builds every bundle once. */
export async function buildBundles(entries: readonly BundleEntry[], projectRoot: string, outdir: string): Promise<void> {
  await build(buildOptions(entries, projectRoot, outdir));
}

/**
 * Builds every bundle, then rebuilds on every change of a source, writing only
 * the files whose content changed and calling `onRebuild` with the functions whose
 * bundle changed. Answers a function that stops watching.
 */
export async function watchBundles(
  entries: readonly BundleEntry[],
  projectRoot: string,
  outdir: string,
  onRebuild: (result: { changed: string[]; errors: number }) => void,
): Promise<() => Promise<void>> {
  const written = new Map<string, string>();
  const byBundle = new Map(entries.map(({ logicalId }) => [bundlePath(outdir, logicalId), logicalId]));
  const writeChanged: Plugin = {
    name: 'write-changed',
    setup(plugin) {
      plugin.onEnd(async (result: BuildResult) => {
        if (result.errors.length > 0) return onRebuild({ changed: [], errors: result.errors.length });
        const changed: string[] = [];
        for (const file of result.outputFiles ?? []) {
          if (written.get(file.path) === file.hash) continue;
          await mkdir(path.dirname(file.path), { recursive: true });
          await writeFile(file.path, file.contents);
          const logicalId = byBundle.get(file.path);
          if (logicalId !== undefined && written.has(file.path)) changed.push(logicalId);
          written.set(file.path, file.hash);
        }
        if (changed.length > 0) onRebuild({ changed, errors: 0 });
      });
    },
  };
  const watcher = await context({ ...buildOptions(entries, projectRoot, outdir), write: false, plugins: [writeChanged] });
  await watcher.rebuild();
  await watcher.watch();
  return () => watcher.dispose();
}
