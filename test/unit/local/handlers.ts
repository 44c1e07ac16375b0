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

/** What the environment holds: the function's own variables and the runtime's, nothing of the test process. */
export const environment = async () => ({
  own: process.env.OWN,
  other: process.env.OTHER_FUNCTIONS_VARIABLE,
  testProcess: process.env.VITEST,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  region: process.env.AWS_REGION,
});

let invocations = 0;
/** Module state lives as long as its environment: a warm environment counts on. */
export const count = async (event: { holdMs?: number }) => {
  invocations += 1;
  const seen = invocations;
  await new Promise((resolve) => setTimeout(resolve, event.holdMs ?? 0));
  return seen;
};

export const exit = async () => {
  process.exit(3);
};

/** Keeps allocating until the environment's heap limit ends it. */
export const exhaustMemory = async () => {
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
};
