import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CfnTemplate, LocalResolver } from '../../../../local/cloudformation/template.js';
import { deliverToOnFailureQueue, onFailureQueueOf } from '../../../../local/lambda/async-destinations.js';
import { FunctionError } from '../../../../local/lambda/functions.js';
import { context, DATASET_ID, KEY, s3Event, stubDatasetEnv } from '../../lambdas/datasets/fixtures.js';

/** The shapes CDK synthesizes for `configureAsyncInvoke({ onFailure: new SqsDestination(queue) })` and an SQS event source. */
const fn = { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } };
const template: CfnTemplate = {
  Resources: {
    Validate: fn,
    Reader: fn,
    Other: fn,
    Failures: { Type: 'AWS::SQS::Queue', Properties: {} },
    ValidateInvokeConfig: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: {
        FunctionName: { Ref: 'Validate' },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Failures', 'Arn'] } } },
      },
    },
    ReaderMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Reader' },
        EventSourceArn: { 'Fn::GetAtt': ['Failures', 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
  },
} as unknown as CfnTemplate;
const resolver = new LocalResolver(template, { region: 'eu-west-1', accountId: '000000000000' });

const ddb = mockClient(DynamoDBDocumentClient);
let validationFailed: typeof import('../../../../lambdas/datasets/validation-failed.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  ({ handler: validationFailed } = await import('../../../../lambdas/datasets/validation-failed.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => ddb.reset());

describe('local on-failure destinations', () => {
  it('finds the queue a function sends its failed asynchronous invocations to, and who reads it', () => {
    expect(onFailureQueueOf(resolver, 'Validate')).toEqual({ queueLogicalId: 'Failures', readerLogicalIds: ['Reader'] });
    expect(onFailureQueueOf(resolver, 'Other')).toBeUndefined();
  });

  it('hands the failed event to the reader as Lambda would (an invocation record in an SQS message): the dataset becomes INVALID', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: {} });
    const invoked: string[] = [];
    const event = s3Event(KEY);

    const delivered = await deliverToOnFailureQueue({
      resolver,
      invoke: async (id, sqsEvent) => {
        invoked.push(id);
        return validationFailed(sqsEvent as Parameters<typeof validationFailed>[0], context);
      },
      functionLogicalId: 'Validate',
      event,
      error: new FunctionError('AccessDenied', 'Access Denied', []),
      attempts: 3,
      log: () => undefined,
    });

    expect(delivered).toBe(true);
    expect(invoked).toEqual(['Reader']);
    const [update] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(update).toMatchObject({ Key: { tenantId: 'acme', datasetId: DATASET_ID }, ExpressionAttributeValues: { ':invalid': 'INVALID' } });
  });

  it('gives the reader the event, why Lambda gave up and the last error', async () => {
    let received: { Records: { body: string; eventSource: string }[] } | undefined;
    await deliverToOnFailureQueue({
      resolver,
      invoke: async (_id, sqsEvent) => {
        received = sqsEvent as typeof received;
        return { batchItemFailures: [] };
      },
      functionLogicalId: 'Validate',
      event: { hello: 'world' },
      error: new FunctionError('TypeError', 'boom', ['at x']),
      attempts: 3,
      log: () => undefined,
    });
    expect(received?.Records).toHaveLength(1);
    expect(received?.Records[0]?.eventSource).toBe('aws:sqs');
    expect(JSON.parse(received!.Records[0]!.body)).toMatchObject({
      requestContext: {
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
        functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:Validate:$LATEST',
      },
      requestPayload: { hello: 'world' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'boom', trace: ['at x'] },
    });
  });

  it('does nothing for a function without an on-failure queue, and logs a reader that fails', async () => {
    const invoke = vi.fn(async () => ({ batchItemFailures: [{ itemIdentifier: 'x' }] }));
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    expect(await deliverToOnFailureQueue({ resolver, invoke, functionLogicalId: 'Other', event: {}, error: new Error('x'), attempts: 3, log })).toBe(false);
    expect(invoke).not.toHaveBeenCalled();

    expect(await deliverToOnFailureQueue({ resolver, invoke, functionLogicalId: 'Validate', event: {}, error: new Error('x'), attempts: 3, log })).toBe(false);
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(lines).toEqual(['[lambda] on-failure queue Failures: Reader could not handle the record: the reader reported the message failed']);
  });
});
