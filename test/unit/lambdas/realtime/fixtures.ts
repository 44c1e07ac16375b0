import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { vi } from 'vitest';
import type { JobRecord } from '#domain/jobs.js';

/** Environment the realtime handlers read at import; stubbed before each dynamic import. */
export function stubRealtimeEnv(): void {
  vi.stubEnv('CONNECTIONS_TABLE_NAME', 'connections-test');
  vi.stubEnv('JOBS_TABLE_NAME', 'jobs-test');
  vi.stubEnv('CONNECTIONS_ENDPOINT', 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
}

export const context = {
  functionName: 'realtime-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:realtime-test',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/realtime-test',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

export const CONNECTED_AT = Date.UTC(2026, 0, 1, 12, 0, 0);
/** Two hours after CONNECTED_AT, in epoch seconds. */
export const EXPIRES_AT = CONNECTED_AT / 1000 + 7200;

export const JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';
export const OTHER_JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';

/** A WebSocket route event as API Gateway sends it after an accepted $connect. */
export function wsEvent(options: { routeKey: string; body?: string; connectionId?: string; tenantId?: string | null }) {
  const { routeKey, body, connectionId = 'conn-A=', tenantId = 'acme' } = options;
  return {
    requestContext: {
      routeKey,
      eventType: routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
      connectionId,
      connectedAt: CONNECTED_AT,
      stage: 'v1',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      requestId: 'req',
      ...(tenantId === null ? {} : { authorizer: { tenantId, principalId: tenantId, integrationLatency: 12 } }),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

export function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    tenantId: 'acme',
    jobId: JOB_ID,
    modelId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2E',
    status: 'RUNNING',
    kind: 'RIDGE',
    alpha: 0.5,
    fitIntercept: true,
    progress: 0.25,
    createdAt: '2026-01-01T12:00:00.000Z',
    startedAt: '2026-01-01T12:00:01.000Z',
    finishedAt: null,
    error: null,
    attempts: 1,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:train:${JOB_ID}`,
    source: { type: 'inline', key: 'jobs/acme/job.json', rows: 2 },
    expiresAt: 1_800_000_000,
    version: 3,
    ...overrides,
  };
}

let sequence = 100;

/** A Jobs table stream record with marshalled images, as Lambda delivers it. */
export function streamRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', images: { newJob?: JobRecord; oldJob?: JobRecord }): DynamoDBRecord {
  sequence += 1;
  const image = (job: JobRecord | undefined) =>
    job === undefined
      ? {}
      : (marshall({ ...job, tenantStatus: `${job.tenantId}#${job.status}` }, { removeUndefinedValues: true, allowImpreciseNumbers: true }) as Record<
          string,
          never
        >);
  const keyOf = images.newJob ?? images.oldJob;
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: {
      Keys: keyOf ? (marshall({ tenantId: keyOf.tenantId, jobId: keyOf.jobId }) as Record<string, never>) : {},
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...(images.newJob ? { NewImage: image(images.newJob) } : {}),
      ...(images.oldJob ? { OldImage: image(images.oldJob) } : {}),
    },
    eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/jobs/stream/2026-01-01T00:00:00.000',
  };
}
