import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../../lambdas/api/get-job.js';
import { apiEvent, bodyOf, lambdaContext } from '../../helpers/events.js';
import { JOB_ID, JOBS_TABLE, jobRecord, OTHER_TENANT, TENANT } from '../../helpers/records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const context = lambdaContext('get-job');

beforeEach(() => ddb.reset());

const getJob = (jobId: string, tenantId: string | null = TENANT) =>
  handler(apiEvent({ method: 'GET', path: `/jobs/${jobId}`, resource: '/jobs/{jobId}', pathParameters: { jobId }, tenantId }), context);

const NOT_FOUND = { error: { code: 'NOT_FOUND', message: 'job not found' } };

describe('GET /jobs/{jobId}', () => {
  it("answers the caller's job as its public view, read consistently by the caller's key", async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: { ...jobRecord({ status: 'COMPLETED', progress: 1, finishedAt: '2026-01-01T12:00:03.000Z' }), tenantStatus: 'acme#COMPLETED' } });

    const result = await getJob(JOB_ID);

    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'Location, Retry-After',
    });
    expect(bodyOf(result)).toStrictEqual({
      jobId: JOB_ID,
      modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2M',
      status: 'COMPLETED',
      kind: 'LINEAR',
      alpha: null,
      fitIntercept: true,
      name: null,
      progress: 1,
      createdAt: '2026-01-01T12:00:00.000Z',
      startedAt: '2026-01-01T12:00:01.000Z',
      finishedAt: '2026-01-01T12:00:03.000Z',
      error: null,
      attempts: 1,
      datasetId: null,
      alphas: null,
      modelIds: ['01JH5Z3V8Q6K9W2X4Y7Z0A1B2M'],
      version: 3,
    });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: JOBS_TABLE, Key: { tenantId: TENANT, jobId: JOB_ID }, ConsistentRead: true });
  });

  it('answers 404 NOT_FOUND for an unknown job', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await getJob(JOB_ID);
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual(NOT_FOUND);
  });

  it("looks another tenant's job up under the caller's own key, so it is a 404 like an unknown one", async () => {
    // The item exists only under globex; a lookup by acme's key finds nothing.
    ddb.on(GetCommand, { Key: { tenantId: OTHER_TENANT, jobId: JOB_ID } }).resolves({ Item: jobRecord({ tenantId: OTHER_TENANT }) });
    ddb.on(GetCommand, { Key: { tenantId: TENANT, jobId: JOB_ID } }).resolves({});

    const result = await getJob(JOB_ID, TENANT);

    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual(NOT_FOUND);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { tenantId: TENANT, jobId: JOB_ID } });
  });

  it.each(['not-an-id', '01jh5z3v8q6k9w2x4y7z0a1b2c', `${JOB_ID}X`, '../models'])(
    'answers 404 for the malformed id %j without reading the table',
    async (jobId) => {
      const result = await getJob(jobId);
      expect(result.statusCode).toBe(404);
      expect(bodyOf(result)).toEqual(NOT_FOUND);
      expect(ddb).not.toHaveReceivedAnyCommand();
    },
  );

  it('answers 401 UNAUTHORIZED when no authorizer context reached it (fail closed)', async () => {
    const result = await getJob(JOB_ID, null);
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toEqual({ error: { code: 'UNAUTHORIZED', message: 'missing or unknown API key' } });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers a bare 500 INTERNAL_ERROR when DynamoDB fails, never the cause', async () => {
    ddb.on(GetCommand).rejects(new Error('secret table detail'));
    const result = await getJob(JOB_ID);
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
  });
});
