import { describe, expect, it } from 'vitest';
import type { FunctionDefinition } from '../../../local/cloudformation/template.js';
import { FunctionError, LocalLambdas, mergeEnvironments } from '../../../local/lambda/functions.js';
import { PROJECT_ROOT } from '../../../local/stack.js';

const fn = (logicalId: string, exportName: string, overrides: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
  logicalId,
  name: `${logicalId}-name`,
  arn: `arn:aws:lambda:eu-west-1:000000000000:function:${logicalId}-name`,
  entry: 'test/unit/local/handlers.ts',
  exportName,
  timeoutSeconds: 3,
  memorySize: 128,
  environment: {},
  ...overrides,
});

describe('local Lambda runner', () => {
  const lambdas = new LocalLambdas([fn('Echo', 'echo'), fn('Fail', 'fail'), fn('Slow', 'slow', { timeoutSeconds: 1 }), fn('Nothing', 'nothing')], PROJECT_ROOT);

  it('imports each handler from its entry and calls it with a JSON copy of the event and a Lambda context', async () => {
    await lambdas.load();
    const event = { a: 1 };
    const result = (await lambdas.invoke('Echo', event)) as Record<string, unknown>;
    expect(result).toEqual({ event: { a: 1 }, functionName: 'Echo-name', remainingMs: expect.any(Number), at: '1970-01-01T00:00:00.000Z' });
    expect(result.remainingMs).toBeGreaterThan(2_500);
    expect(await lambdas.invoke('Nothing', {})).toBeNull();
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
    expect(() => lambdas.find('Other')).toThrow(/no local function Other/);
  });

  it('reports a thrown error by its name, and a run past the timeout as Sandbox.Timedout', async () => {
    await expect(lambdas.invoke('Fail', {})).rejects.toMatchObject({ name: 'TransientError', errorType: 'TransientError', errorMessage: 'throttled' });
    const timedOut = lambdas.invoke('Slow', {});
    await expect(timedOut).rejects.toBeInstanceOf(FunctionError);
    await expect(timedOut).rejects.toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 1.00 seconds') });
  });

  it('fails the start-up when an entry does not export the handler', async () => {
    await expect(new LocalLambdas([fn('Broken', 'notAFunction')], PROJECT_ROOT).load()).rejects.toThrow(/does not export a function named notAFunction/);
  });
});

describe('merging the functions’ environments into one process', () => {
  it('takes the union when functions agree', () => {
    expect(
      mergeEnvironments([fn('A', 'echo', { environment: { X: '1', LOG_LEVEL: 'INFO' } }), fn('B', 'echo', { environment: { Y: '2', LOG_LEVEL: 'INFO' } })]),
    ).toEqual({
      X: '1',
      Y: '2',
      LOG_LEVEL: 'INFO',
    });
  });

  it('fails loudly, naming the variable and the functions, when they disagree', () => {
    expect(() =>
      mergeEnvironments([fn('A', 'echo', { environment: { LOG_LEVEL: 'INFO' } }), fn('B', 'echo', { environment: { LOG_LEVEL: 'DEBUG' } })]),
    ).toThrow('LOG_LEVEL is "INFO" for A but "DEBUG" for B');
  });
});
