import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/app-function.js';
import { type BuiltBundle, bundleBudget, bundlesOverBudget, DEFAULT_BUNDLE_BUDGET } from '../../lib/bundle-budgets.js';
import { buildBundles, bundlePath } from '../../local/lambda/bundles.js';
import { defaultTemplate } from './synthesized.js';

/**
 * Every function of the template (each carries `app:entry`), bundled with the
 * deployment options (local/lambda/bundles.ts builds what `cdk deploy` builds, see
 * bundles.test.ts), must fit its budget in lib/bundle-budgets.ts. A function added
 * later is covered without being named anywhere.
 */
let outdir: string;
let bundles: BuiltBundle[];

beforeAll(async () => {
  const template = defaultTemplate();
  const functions = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && typeof resource.Metadata?.['app:entry'] === 'string')
    .map(([logicalId, resource]) => ({ logicalId, entry: resource.Metadata?.['app:entry'] as string }));
  outdir = await mkdtemp(path.join(tmpdir(), 'bundle-budgets-'));
  await buildBundles(functions, PROJECT_ROOT, outdir);
  bundles = await Promise.all(functions.map(async (fn) => ({ ...fn, bytes: (await stat(bundlePath(outdir, fn.logicalId))).size })));
}, 120_000);

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

describe('bundle sizes', () => {
  it('covers every function of the template, the authorizer and the predict handler among them', () => {
    const entries = bundles.map(({ entry }) => entry);
    expect(entries).toEqual(expect.arrayContaining(['lambdas/auth/authorizer.ts', 'lambdas/api/predict.ts', 'lambdas/train/train.ts']));
    expect(bundles.length).toBeGreaterThanOrEqual(20);
  });

  it('every bundle fits its budget', () => {
    expect(bundlesOverBudget(bundles)).toEqual([]);
  });

  it('names the function, its size and its budget when a bundle is over', () => {
    const entry = 'lambdas/api/get-job.ts';
    expect(bundleBudget(entry)).toBe(DEFAULT_BUNDLE_BUDGET);
    expect(bundlesOverBudget([{ logicalId: 'GetJobFunction', entry, bytes: 400 * 1024 }])).toEqual([
      'GetJobFunction (lambdas/api/get-job.ts): bundle 400.0 KB is over its budget of 300 KB (lib/bundle-budgets.ts)',
    ]);
    expect(bundlesOverBudget([{ logicalId: 'OpenApi', entry: 'lambdas/api/openapi.ts', bytes: 100 * 1024 + 1 }])).toEqual([
      'OpenApi (lambdas/api/openapi.ts): bundle 100.0 KB is over its budget of 100 KB (lib/bundle-budgets.ts)',
    ]);
    expect(bundlesOverBudget([{ logicalId: 'GetJobFunction', entry, bytes: 300 * 1024 }])).toEqual([]);
  });
});
