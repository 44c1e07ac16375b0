import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { TRANSIENT_ERROR_NAME } from '#domain/transient.js';

export { TRANSIENT_ERROR_NAME };

type SdkError = Parameters<typeof isTransientError>[0];

/**
 * Server-side failures known by name only, for when the error carries no HTTP status
 * (smithy classifies a 5xx by its status, and already knows S3's SlowDown and the
 * throttling names): S3's InternalError, DynamoDB's InternalServerError and
 * ServiceUnavailable, and a write that ran into a transaction in flight.
 */
const SERVER_ERROR_NAMES = new Set(['InternalError', 'InternalServerError', 'ServiceUnavailable', 'TransactionConflictException']);

/** How far along `cause` to look: wrappers (Powertools' idempotency errors, ours) nest one or two deep. */
const MAX_CAUSE_DEPTH = 5;

/**
 * Whether an error is a dependency (DynamoDB, S3, Step Functions, Lambda) that
 * throttled, timed out (an SDK timeout, or middy's TimeoutError before the
 * function's own) or failed on its side: the same call may succeed later. The
 * one definition: HTTP routes answer it with a 503 (lambdas/commons/http/http.ts),
 * every other handler rethrows it as `TransientError` (lambdas/commons/runtime/powertools.ts).
 * Wrappers carry the SDK's error as their `cause`, which is looked at too.
 */
export function isRetryable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < MAX_CAUSE_DEPTH; current = current.cause, depth++) {
    if (current.name === TRANSIENT_ERROR_NAME || SERVER_ERROR_NAMES.has(current.name)) return true;
    const sdkError = current as unknown as SdkError;
    if (isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError)) return true;
    // A transaction cancelled only because others were writing the same items, or throttled (the store already tried again).
    const reasons = (current as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    if (
      current.name === 'TransactionCanceledException' &&
      reasons?.some((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError')
    )
      return true;
  }
  return false;
}

/**
 * A failure worth another attempt, thrown by every workflow task (lambdas/commons/runtime/powertools.ts,
 * `eventHandler`). Lambda reports an error's `name` as its errorType, which is what
 * Step Functions' Retry matches: the state machines retry this name (and Lambda's own
 * service errors) and nothing else.
 */
export class TransientError extends Error {
  constructor(cause: unknown) {
    super(`transient failure: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`, { cause });
    this.name = TRANSIENT_ERROR_NAME;
  }
}
