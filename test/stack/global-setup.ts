import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createApp } from '../../lib/app.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The default app's synthesized template (test/stack/synthesized.ts reads it). */
    stackTemplateFile: string;
  }
}

/**
 * The default app, synthesized once for the whole stack project as `cdk synth` does it (cdk-nag and the Control
 * Tower checks included: an unacknowledged finding fails the run here), instead of once per test file. Tests that
 * need another app (other props, context, a deliberate finding) still synthesize their own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(path.join(tmpdir(), 'stack-template-'));
  const { app, stack } = createApp({ skipBundling: true, outdir: path.join(directory, 'cdk.out') });
  const template = app.synth().getStackArtifact(stack.artifactId).template as unknown;
  const file = path.join(directory, 'template.json');
  await writeFile(file, JSON.stringify(template));
  project.provide('stackTemplateFile', file);
  return () => rm(directory, { recursive: true, force: true });
}
