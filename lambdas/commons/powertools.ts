import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One logger, metrics and tracer per function, configured by the standard
 * POWERTOOLS_* variables the stack sets (service name, namespace, log level).
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();
