import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, type BuildResult, build, context, type Plugin, version } from 'esbuild';
import { z } from 'zod';
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
    alias: Object.fromEntries(Object.entries(BUNDLING.esbuildArgs).map(([flag, target]) => [flag.replace(/^--alias:/, ''), target])),
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

/** Builds every bundle once. Answers the files esbuild read, relative to the project root. */
export async function buildBundles(entries: readonly BundleEntry[], projectRoot: string, outdir: string): Promise<string[]> {
  const { metafile } = await build({ ...buildOptions(entries, projectRoot, outdir), metafile: true });
  return Object.keys(metafile?.inputs ?? {});
}

const sha256 = (...parts: (string | Buffer)[]) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest('hex');

/**
 * The bundles from a cache keyed by everything that goes into them (the esbuild
 * version and options, the entries, and the content of every file the last build
 * read), built once when the key is new. A warm `npm start` then builds nothing.
 * Each key is its own directory, written whole under a temporary name and renamed,
 * so stacks started side by side never see half a cache.
 */
export async function cachedBundles(
  entries: readonly BundleEntry[],
  projectRoot: string,
  cacheDirectory: string,
): Promise<{ directory: string; built: boolean }> {
  await mkdir(cacheDirectory, { recursive: true });
  const recipe = sha256(version, JSON.stringify(esbuildOptions()), JSON.stringify(entries));
  const inputsFile = path.join(cacheDirectory, `inputs-${recipe.slice(0, 16)}.json`);
  const keyOf = async (inputs: readonly string[]) =>
    sha256(recipe, ...(await Promise.all(inputs.map(async (input) => `${input}\0${sha256(await readFile(path.join(projectRoot, input)))}`))));

  const known = await readFile(inputsFile, 'utf8').then(
    (text) => z.array(z.string()).parse(JSON.parse(text)),
    () => undefined,
  );
  if (known) {
    const directory = path.join(cacheDirectory, `bundles-${(await keyOf(known).catch(() => 'gone')).slice(0, 16)}`);
    if (
      await stat(directory).then(
        () => true,
        () => false,
      )
    )
      return { directory, built: false };
  }
  const building = await mkdtemp(path.join(cacheDirectory, 'building-'));
  const inputs = await buildBundles(entries, projectRoot, building);
  const directory = path.join(cacheDirectory, `bundles-${(await keyOf(inputs)).slice(0, 16)}`);
  await rename(building, directory).catch(() => rm(building, { recursive: true, force: true })); // another start built the same
  await writeFile(`${inputsFile}.${process.pid}`, JSON.stringify(inputs));
  await rename(`${inputsFile}.${process.pid}`, inputsFile);
  return { directory, built: true };
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
