import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { isRetryable, TRANSIENT_ERROR_NAME, TransientError } from './retryable.js';

/**
 * One logger and metrics per function, configured by the standard POWERTOOLS_*
 * variables the stack sets (service name, namespace, log level).
 *
 * No Powertools Tracer: it loads the X-Ray SDK (about 120 KB of each bundle and
 * ~40% of a function's import time, bench/RESULTS.md) only to add a subsegment per
 * AWS call. X-Ray still traces every invocation (the functions' active tracing:
 * API Gateway, the function, its INIT and its duration).
 */
export const logger = new Logger();
export const metrics = new Metrics();

/**
 * The wrapper of every handler that is not an HTTP route (routes: `httpHandler`,
 * lambdas/commons/http/http.ts): Powertools' logger context on each invocation (request
 * id, cold start; keys reset between invocations) and the flush of the metrics it
 * added. `metrics: false` for a function that publishes none, so its log has no
 * "no application metrics" line per invocation.
 *
 * A failure worth another attempt (`isRetryable`: throttling, a timeout, a 5xx) is
 * rethrown as `TransientError`, the one name the state machines retry
 * (lib/training-workflow.ts); any other error is thrown as it is, so a Catch records it.
 */
/** middy's TimeoutError, a moment before the function's own timeout (its `cause` names the package). */
function ranOutOfTime(error: unknown): boolean {
  return error instanceof Error && (error.cause as { package?: string } | undefined)?.package === '@middy/core';
}

export function eventHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  options: { metrics?: boolean } = {},
): middy.MiddyfiedHandler<TEvent, TResult> {
  const wrapped = middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .onError((request) => {
      // One already thrown as TransientError (by name: the class of another bundle counts too) passes through; so does
      // middy's own TimeoutError, thrown as the function's time runs out: another attempt would run out of it too.
      const { error } = request;
      if (error?.name === TRANSIENT_ERROR_NAME || ranOutOfTime(error)) return;
      if (isRetryable(error)) request.error = new TransientError(error);
    });
  return options.metrics === false ? wrapped : wrapped.use(logMetrics(metrics));
}
