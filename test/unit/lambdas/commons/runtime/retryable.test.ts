import { S3ServiceException } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { eventHandler } from '#commons/runtime/powertools.js';
import { isRetryable, TRANSIENT_ERROR_NAME, TransientError } from '#commons/runtime/retryable.js';
import * as z from '#domain/zod.js';
import { conditionalCheckFailed, throttling, transactionCanceled } from '../../../helpers/aws-errors.js';
import { lambdaContext } from '../../../helpers/events.js';

const s3Error = (name: string, httpStatusCode?: number) =>
  new S3ServiceException({ name, $fault: 'server', message: name, $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });

/** The TimeoutError middy throws when a handler runs into its early timeout (what httpHandler answers 503). */
async function middyTimeout(): Promise<unknown> {
  const slow = middy(() => new Promise<never>(() => undefined));
  return slow({}, { ...lambdaContext(), getRemainingTimeInMillis: () => 10 }).then(
    () => undefined,
    (error: unknown) => error,
  );
}

function zodError(): unknown {
  const parsed = z.object({ id: z.string() }).safeParse({ id: 1 });
  return parsed.error;
}

describe('isRetryable: the one definition of worth another attempt', () => {
  it.each<[string, () => unknown, boolean]>([
    ['DynamoDB throttling', throttling, true],
    ['throttling known only by its 429', () => Object.assign(new Error('slow down'), { name: 'Whatever', $metadata: { httpStatusCode: 429 } }), true],
    ['a 500 of the service', () => s3Error('InternalError', 500), true],
    ['a 502 of the service, whatever its name', () => s3Error('BadGateway', 502), true],
    ["S3's InternalError with no status", () => s3Error('InternalError'), true],
    ["S3's SlowDown with no status", () => s3Error('SlowDown'), true],
    ["DynamoDB's InternalServerError with no status", () => Object.assign(new Error('oops'), { name: 'InternalServerError' }), true],
    ['an SDK request timeout', () => Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' }), true],
    ['a refused connection', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['a transaction cancelled by a conflict', () => transactionCanceled('None', 'TransactionConflict'), true],
    ['a transaction cancelled by throttling', () => transactionCanceled('ThrottlingError'), true],
    ['a transaction cancelled by a failed condition', () => transactionCanceled('None', 'ConditionalCheckFailed'), false],
    ['a failed condition', () => conditionalCheckFailed(), false],
    ['a throttle two causes down', () => new Error('wrapper', { cause: new Error('middle', { cause: throttling() }) }), true],
    ['a non-retryable cause chain', () => new Error('wrapper', { cause: conditionalCheckFailed() }), false],
    ['a TransientError already', () => new TransientError(throttling()), true],
    ['a plain Error', () => new Error('disk on fire'), false],
    ['a programming error', () => new TypeError('x is undefined'), false],
    ['a ZodError', zodError, false],
    ['not an error', () => 'timeout', false],
    ['nothing', () => undefined, false],
  ])('%s: %s', (_, error, expected) => {
    expect(isRetryable(error())).toBe(expected);
  });

  it("counts middy's own early timeout", async () => {
    const timeout = await middyTimeout();
    expect(timeout).toMatchObject({ name: 'TimeoutError' });
    expect(isRetryable(timeout)).toBe(true);
  });

  it('stops looking after a few causes', () => {
    let error: Error = throttling();
    for (let i = 0; i < 10; i++) error = new Error(`wrapper ${i}`, { cause: error });
    expect(isRetryable(error)).toBe(false);
  });
});

describe('TransientError', () => {
  it('is named what the state machines retry, names its cause and keeps it', () => {
    const cause = throttling();
    const error = new TransientError(cause);
    expect(TRANSIENT_ERROR_NAME).toBe('TransientError');
    expect(error).toMatchObject({
      name: 'TransientError',
      message: 'transient failure: ThrottlingException: Rate of requests exceeds the allowed throughput.',
    });
    expect(error.cause).toBe(cause);
  });
});

describe('eventHandler: every task throws the one transient type', () => {
  const throwing = (error: unknown) => eventHandler(async () => Promise.reject(error), { metrics: false });

  it('rethrows a retryable error as TransientError, with the error as its cause', async () => {
    const cause = throttling();
    const thrown = await throwing(cause)({}, lambdaContext()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(TransientError);
    expect(thrown).toMatchObject({ name: 'TransientError', message: expect.stringContaining('ThrottlingException') });
    expect((thrown as Error).cause).toBe(cause);
  });

  it('rethrows a retryable cause under a wrapper as TransientError too', async () => {
    const wrapper = new Error('could not read', { cause: s3Error('SlowDown') });
    await expect(throwing(wrapper)({}, lambdaContext())).rejects.toMatchObject({ name: 'TransientError', cause: wrapper });
  });

  it('passes a TransientError through as it is', async () => {
    const transient = new TransientError(throttling());
    await expect(throwing(transient)({}, lambdaContext())).rejects.toBe(transient);
  });

  it.each<[string, () => unknown]>([
    ['a plain Error', () => new Error('disk on fire')],
    ['a failed condition', () => conditionalCheckFailed()],
    ['a ZodError', zodError],
  ])('passes %s through unchanged, for the Catch', async (_, error) => {
    const original = error();
    await expect(throwing(original)({}, lambdaContext())).rejects.toBe(original);
  });

  it("passes middy's own timeout through unchanged: the function ran out of time, and another attempt would too", async () => {
    const slow = eventHandler(() => new Promise<never>(() => undefined), { metrics: false });
    await expect(slow({}, { ...lambdaContext(), getRemainingTimeInMillis: () => 10 })).rejects.toMatchObject({
      name: 'TimeoutError',
      cause: { package: '@middy/core' },
    });
  });

  it('leaves a successful answer alone', async () => {
    expect(await eventHandler(async () => ({ ok: true }), { metrics: false })({}, lambdaContext())).toEqual({ ok: true });
  });
});
