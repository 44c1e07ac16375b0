import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

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
