import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { AppFunction, PROJECT_ROOT } from '../../lib/app-function.js';
import { buildBundles, bundlePath } from '../../local/lambda/bundles.js';

/**
 * The offline stack runs bundles it builds itself (local/lambda/bundles.ts) from
 * the options `cdk deploy` uses: this checks that both give the same bytes, so
 * what runs offline is what deploys.
 */
describe('the offline stack’s bundles', () => {
  it('are byte for byte the assets cdk synth bundles for deployment', async () => {
    const entry = 'lambdas/api/get-job.ts';
    const outdir = await mkdtemp(path.join(tmpdir(), 'bundles-cdk-'));
    const local = await mkdtemp(path.join(tmpdir(), 'bundles-local-'));
    try {
      const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
      const stack = new Stack(app, 'Bundles');
      const fn = new AppFunction(stack, 'Probe', { entry });
      const assembly = app.synth();
      const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
      const logicalId = stack.getLogicalId(fn.node.defaultChild as never);
      const assetPath = template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
      expect(assetPath).toBeDefined();
      const deployed = await readFile(path.join(outdir, assetPath as string, 'index.mjs'));

      await buildBundles([{ logicalId: 'Probe', entry }], PROJECT_ROOT, local);
      const offline = await readFile(bundlePath(local, 'Probe'));
      expect(offline.length).toBe(deployed.length);
      expect(offline.equals(deployed)).toBe(true);
    } finally {
      await rm(outdir, { recursive: true, force: true });
      await rm(local, { recursive: true, force: true });
    }
  });
});
