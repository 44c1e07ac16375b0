import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { context, DATASET_ID, datasetRecord, KEY, s3Event, stubDatasetEnv } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../../lambdas/datasets/validation-failed.js')['handler'];

beforeAll(async () => {
  stubDatasetEnv();
  ({ handler } = await import('../../../../lambdas/datasets/validation-failed.js'));
});
afterAll(() => vi.unstubAllEnvs());
beforeEach(() => ddb.reset());

/** What Lambda sends to the on-failure destination once it gave up on the validation of `key`. */
function failedInvocation(key: string, condition = 'RetriesExhausted') {
  return {
    version: '1.0',
    timestamp: '2026-01-01T12:03:00.000Z',
    requestContext: {
      requestId: 'c2a6f2ae-7dbb-4d22-8782-d0485c9877e2',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:validate:$LATEST',
      condition,
      approximateInvokeCount: 3,
    },
    requestPayload: s3Event(key),
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'AccessDenied', errorMessage: 'Access Denied', trace: [] },
  };
}

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map(
      (body, index) =>
        ({
          messageId: `message-${index}`,
          receiptHandle: `receipt-${index}`,
          body,
          attributes: {},
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:validation-failures',
          awsRegion: 'eu-west-1',
        }) as unknown as SQSRecord,
    ),
  };
}

const updates = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);

describe('validation-failed (the validation on-failure queue)', () => {
  it('marks a dataset still PENDING_UPLOAD or VALIDATING INVALID with VALIDATION_FAILED', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: datasetRecord({ status: 'INVALID' }) });

    const result = await handler(sqsEvent(JSON.stringify(failedInvocation(KEY))), context);

    expect(result).toEqual({ batchItemFailures: [] });
    const [update] = updates();
    expect(updates()).toHaveLength(1);
    expect(update).toMatchObject({
      TableName: 'datasets-test',
      Key: { tenantId: 'acme', datasetId: DATASET_ID },
      ConditionExpression: 'attribute_exists(datasetId) AND (#status IN (:pending, :validating))',
      ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
      ExpressionAttributeValues: {
        ':invalid': 'INVALID',
        ':pending': 'PENDING_UPLOAD',
        ':validating': 'VALIDATING',
        ':error': {
          code: 'VALIDATION_FAILED',
          message: 'the file could not be validated (the check failed repeatedly); create a new dataset and upload the file again',
        },
      },
    });
    // The reason the client sees never carries the internal error.
    expect(JSON.stringify(update?.ExpressionAttributeValues)).not.toContain('Access Denied');
  });

  it('leaves a dataset that settled meanwhile (READY or INVALID) as it is, and the message is done', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const result = await handler(sqsEvent(JSON.stringify(failedInvocation(KEY, 'EventAgeExceeded'))), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(updates()).toHaveLength(1);
  });

  it('ignores keys this service never hands out', async () => {
    const result = await handler(sqsEvent(JSON.stringify(failedInvocation('elsewhere/file.csv'))), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reports only the records it could not read or record, so SQS redelivers them (then dead-letters them)', async () => {
    const otherKey = 'datasets/acme/01JH5Z3V8Q6K9W2X4Y7Z0A1B2D.csv';
    ddb.on(UpdateCommand, { Key: { tenantId: 'acme', datasetId: DATASET_ID } }).resolves({ Attributes: datasetRecord({ status: 'INVALID' }) });
    ddb.on(UpdateCommand, { Key: { tenantId: 'acme', datasetId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D' } }).rejects(new Error('throttled'));

    const result = await handler(
      sqsEvent(JSON.stringify(failedInvocation(KEY)), 'not json', JSON.stringify({ requestContext: {} }), JSON.stringify(failedInvocation(otherKey))),
      context,
    );

    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'message-1' }, { itemIdentifier: 'message-2' }, { itemIdentifier: 'message-3' }],
    });
    expect(updates().map((update) => update.Key)).toEqual([
      { tenantId: 'acme', datasetId: DATASET_ID },
      { tenantId: 'acme', datasetId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D' },
    ]);
  });
});
