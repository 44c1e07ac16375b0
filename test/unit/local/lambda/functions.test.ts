import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionDefinition } from '../../../../local/cloudformation/template.js';
import { buildBundles, bundlePath } from '../../../../local/lambda/bundles.js';
import { FunctionError, LocalLambdas } from '../../../../local/lambda/functions.js';
import { PROJECT_ROOT } from '../../../../local/stack.js';

const fn = (logicalId: string, exportName: string, overrides: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
  logicalId,
  name: `${logicalId}-name`,
  arn: `arn:aws:lambda:eu-west-1:000000000000:function:${logicalId}-name`,
  entry: 'test/unit/local/handlers.ts',
  exportName,
  timeoutSeconds: 3,
  memorySize: 256,
  environment: {},
  ...overrides,
});

const functions = [
  fn('Echo', 'echo'),
  fn('Fail', 'fail'),
  fn('Slow', 'slow', { timeoutSeconds: 1 }),
  fn('Nothing', 'nothing'),
  fn('Environment', 'environment', { environment: { OWN: 'mine' } }),
  fn('Other', 'environment', { environment: { OTHER_FUNCTIONS_VARIABLE: 'theirs' } }),
  fn('Count', 'count'),
  fn('Exit', 'exit'),
  fn('Hungry', 'exhaustMemory', { memorySize: 64, timeoutSeconds: 30 }),
  fn('Missing', 'notAFunction'),
  fn('Broken', 'handler', { entry: 'test/unit/local/broken-handler.ts' }),
];

describe('local Lambda: each function from its bundle, in environments of its own', () => {
  let directory: string;
  let lambdas: LocalLambdas;
  const logged: string[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'lambdas-test-'));
    await buildBundles(
      functions.map(({ logicalId, entry }) => ({ logicalId, entry })),
      PROJECT_ROOT,
      directory,
    );
    lambdas = new LocalLambdas(functions, {
      bundleOf: (logicalId) => bundlePath(directory, logicalId),
      environmentOf: (definition) => definition.environment,
      region: 'eu-west-1',
      maxEnvironments: 2,
      log: (line) => logged.push(line),
    });
  });

  afterAll(async () => {
    await lambdas.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('calls the bundle with a JSON copy of the event and a Lambda context, and answers JSON', async () => {
    const result = (await lambdas.invoke('Echo', { a: 1 })) as Record<string, unknown>;
    expect(result).toEqual({ event: { a: 1 }, functionName: 'Echo-name', remainingMs: expect.any(Number), at: '1970-01-01T00:00:00.000Z' });
    expect(result.remainingMs).toBeGreaterThan(2_500);
    expect(await lambdas.invoke('Nothing', {})).toBeNull();
  });

  it("gives a function only its own variables and the runtime's, never another function's or the stack's", async () => {
    expect(await lambdas.invoke('Environment', {})).toEqual({ own: 'mine', functionName: 'Environment-name', memory: '256', region: 'eu-west-1' });
    expect(await lambdas.invoke('Other', {})).toEqual({ other: 'theirs', functionName: 'Other-name', memory: '256', region: 'eu-west-1' });
  });

  it('finds a function by logical id, name or ARN, qualified or not', () => {
    for (const reference of [
      'Echo',
      'Echo-name',
      'Echo-name:$LATEST',
      'arn:aws:lambda:eu-west-1:000000000000:function:Echo-name',
      'arn:aws:lambda:eu-west-1:000000000000:function:Echo-name:live',
    ]) {
      expect(lambdas.find(reference).logicalId).toBe('Echo');
    }
    expect(() => lambdas.find('Unknown')).toThrow(/no local function Unknown/);
  });

  it('reuses a warm environment, and starts another for a concurrent call (up to the limit, then queues)', async () => {
    expect(await lambdas.invoke('Count', {})).toBe(1);
    expect(await lambdas.invoke('Count', {})).toBe(2);
    const concurrent = await Promise.all([lambdas.invoke('Count', { holdMs: 300 }), lambdas.invoke('Count', { holdMs: 300 }), lambdas.invoke('Count', {})]);
    // The warm one counts on, a second environment starts at 1; the third call waits for one of them.
    expect(concurrent.slice(0, 2).sort()).toEqual([1, 3]);
    expect([2, 4]).toContain(concurrent[2]);
    expect(lambdas.environmentCount('Count')).toBe(2);
  });

  it('reports a thrown error by its name', async () => {
    await expect(lambdas.invoke('Fail', {})).rejects.toMatchObject({ name: 'TransientError', errorType: 'TransientError', errorMessage: 'throttled' });
  });

  it('ends an environment that runs past its Timeout (Sandbox.Timedout)', async () => {
    const timedOut = lambdas.invoke('Slow', {});
    await expect(timedOut).rejects.toBeInstanceOf(FunctionError);
    await expect(timedOut).rejects.toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 1.00 seconds$/),
    });
    expect(lambdas.environmentCount('Slow')).toBe(0);
  });

  it('survives a function that exits its process: Runtime.ExitError, then a fresh environment', async () => {
    await expect(lambdas.invoke('Exit', {})).rejects.toMatchObject({ errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('exit status 3') });
    await expect(lambdas.invoke('Exit', {})).rejects.toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(lambdas.environmentCount('Exit')).toBe(0);
  });

  it('ends a function that runs out of its MemorySize: Runtime.OutOfMemory', async () => {
    await expect(lambdas.invoke('Hungry', {})).rejects.toMatchObject({ errorType: 'Runtime.OutOfMemory' });
    expect(lambdas.environmentCount('Hungry')).toBe(0);
  });

  it('fails the invocations of a function whose INIT fails, with the error it threw, and says so at warm-up', async () => {
    await expect(lambdas.invoke('Broken', {})).rejects.toMatchObject({ errorType: 'Error', errorMessage: 'cannot start: CONFIG_TABLE is not set' });
    await expect(lambdas.invoke('Missing', {})).rejects.toMatchObject({ errorType: 'Runtime.HandlerNotFound' });
    logged.length = 0;
    await lambdas.warm();
    expect(logged).toEqual(
      expect.arrayContaining([
        '[Broken-name] INIT failed: Error: cannot start: CONFIG_TABLE is not set',
        '[Missing-name] INIT failed: Runtime.HandlerNotFound: index.notAFunction is undefined or not exported',
      ]),
    );
  });
});
