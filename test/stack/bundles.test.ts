import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EventStreamSerde, eventStreamSerdeProvider, resolveEventStreamSerdeConfig } from '#commons/runtime/no-event-streams.js';
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

  it('leave out the SDK code no function runs: the default credential chain and event streams', async () => {
    const outdir = await mkdtemp(path.join(tmpdir(), 'bundles-aliases-'));
    try {
      // get-job uses DynamoDB only; train uses S3 too, whose client configures an event stream marshaller.
      const entries = [
        { logicalId: 'GetJob', entry: 'lambdas/api/get-job.ts' },
        { logicalId: 'Train', entry: 'lambdas/train/train.ts' },
      ];
      await buildBundles(entries, PROJECT_ROOT, outdir);
      for (const { logicalId } of entries) {
        const bundle = await readFile(bundlePath(outdir, logicalId), 'utf8');
        // Messages of the code left out (credential-provider-node's chain, the event stream codec) and of its stand-ins.
        // (Booleans, so that a failure names the bundle without printing it.)
        expect(bundle.includes('Could not load credentials from any providers'), `${logicalId}: the default credential chain`).toBe(false);
        expect(bundle.includes('Provided message too short to accommodate event stream message overhead'), `${logicalId}: the event stream codec`).toBe(false);
        expect(bundle.includes('event streams are left out of the deployment bundles'), `${logicalId}: the event streams' stand-in`).toBe(true);
      }
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });

  it('fail loudly if an event stream is ever encoded or decoded', () => {
    const config = resolveEventStreamSerdeConfig({ eventStreamSerdeProvider });
    const message = /event streams are left out of the deployment bundles \(lambdas\/commons\/runtime\/no-event-streams.ts\)/;
    expect(() => config.eventStreamMarshaller.serialize()).toThrow(message);
    expect(() => config.eventStreamMarshaller.deserialize()).toThrow(message);
    expect(() => new EventStreamSerde()).toThrow(message);
  });
});
