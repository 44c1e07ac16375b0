import type { Context } from 'aws-lambda';

/** Handlers the local Lambda runner imports by entry and export name in lambdas.test.ts. */

export const echo = async (event: unknown, context: Context) => ({
  event,
  functionName: context.functionName,
  remainingMs: context.getRemainingTimeInMillis(),
  at: new Date(0),
  dropped: undefined,
});

class TransientError extends Error {
  override name = 'TransientError';
}

export const fail = async () => {
  throw new TransientError('throttled');
};

export const slow = () => new Promise((resolve) => setTimeout(resolve, 5_000));

export const nothing = async () => undefined;

export const notAFunction = 42;
