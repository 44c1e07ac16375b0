import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type LocalResolver, referencedLogicalId } from '../cloudformation/template.js';
import { FunctionError } from './functions.js';

/**
 * The on-failure destination of an asynchronous invocation, as the template sets
 * it (`AWS::Lambda::EventInvokeConfig`): when a function invoked asynchronously
 * fails for good, Lambda sends an invocation record (the event, why it gave up,
 * the last error) there. Locally only an SQS queue read by a function of the
 * template is honoured: the record is handed straight to that function as an SQS
 * event of one message. There is no queue: a failure of the reader is logged, not
 * redelivered, and nothing reaches a dead-letter queue.
 */

const EventInvokeConfigProperties = z.object({
  FunctionName: z.unknown(),
  DestinationConfig: z.object({ OnFailure: z.object({ Destination: z.unknown() }).optional() }).optional(),
});

const EventSourceMappingProperties = z.object({ FunctionName: z.unknown(), EventSourceArn: z.unknown(), Enabled: z.boolean().default(true) });

export interface OnFailureQueue {
  queueLogicalId: string;
  /** The functions whose event source mapping reads the queue. */
  readerLogicalIds: string[];
}

/** Where the template sends `functionLogicalId`'s failed asynchronous invocations, if to a queue. */
export function onFailureQueueOf(resolver: LocalResolver, functionLogicalId: string): OnFailureQueue | undefined {
  const resources = Object.values(resolver.template.Resources);
  const config = resources
    .filter((resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig')
    .map((resource) => EventInvokeConfigProperties.parse(resource.Properties))
    .find((properties) => referencedLogicalId(properties.FunctionName) === functionLogicalId);
  const queueLogicalId = referencedLogicalId(config?.DestinationConfig?.OnFailure?.Destination);
  if (queueLogicalId === undefined || resolver.template.Resources[queueLogicalId]?.Type !== 'AWS::SQS::Queue') return undefined;
  const readerLogicalIds = resources
    .filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping')
    .map((resource) => EventSourceMappingProperties.parse(resource.Properties))
    .filter((mapping) => mapping.Enabled && referencedLogicalId(mapping.EventSourceArn) === queueLogicalId)
    .flatMap((mapping) => referencedLogicalId(mapping.FunctionName) ?? []);
  return { queueLogicalId, readerLogicalIds };
}

/**
 * Hands `event`, which `functionLogicalId` failed to handle `attempts` times, to the
 * readers of its on-failure queue, in the shape Lambda sends (an invocation record
 * in the body of an SQS message). Answers whether a reader took it; does nothing
 * (false) when the template sets no such queue.
 */
export async function deliverToOnFailureQueue(options: {
  resolver: LocalResolver;
  invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>;
  functionLogicalId: string;
  event: unknown;
  error: unknown;
  attempts: number;
  log: (message: string) => void;
}): Promise<boolean> {
  const { resolver, functionLogicalId } = options;
  const target = onFailureQueueOf(resolver, functionLogicalId);
  if (!target || target.readerLogicalIds.length === 0) return false;
  const { region, accountId } = resolver.account;
  const record = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `${resolver.arn(functionLogicalId)}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: options.attempts,
    },
    requestPayload: options.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload:
      options.error instanceof FunctionError
        ? options.error.toPayload()
        : { errorType: 'Error', errorMessage: options.error instanceof Error ? options.error.message : String(options.error) },
  };
  const body = JSON.stringify(record);
  const message = {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${region}:${accountId}:${target.queueLogicalId}`,
    awsRegion: region,
  };
  let delivered = false;
  for (const reader of target.readerLogicalIds) {
    try {
      const result = (await options.invoke(reader, { Records: [message] })) as { batchItemFailures?: unknown[] } | undefined;
      if ((result?.batchItemFailures?.length ?? 0) > 0) throw new Error('the reader reported the message failed');
      delivered = true;
    } catch (error) {
      options.log(`[lambda] on-failure queue ${target.queueLogicalId}: ${reader} could not handle the record: ${(error as Error).message}`);
    }
  }
  return delivered;
}
