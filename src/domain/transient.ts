/**
 * The name of the one error every workflow task throws for a failure worth another
 * attempt (lambdas/commons/runtime/retryable.ts, `TransientError`). Lambda reports a thrown
 * error's `name` as its errorType, and errorType is what a Step Functions Retry's
 * ErrorEquals matches, so the state machines (lib/training-workflow.ts) list this name.
 * Here, free of runtime imports, so the CDK code and the functions share it.
 */
export const TRANSIENT_ERROR_NAME = 'TransientError';
