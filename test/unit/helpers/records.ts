import type { JobRecord, ModelRecord } from '#domain/jobs.js';

/** Fixed ULIDs (Crockford base32, 26 characters) so keys and paths can be asserted exactly. */
export const TENANT = 'acme';
export const OTHER_TENANT = 'globex';
export const JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';
export const MODEL_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2M';
export const OTHER_JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Training';
export const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:Training:${JOB_ID}`;

export const JOBS_TABLE = 'jobs-table';
export const MODELS_TABLE = 'models-table';
export const TENANTS_TABLE = 'tenants-table';

/** The transaction item that gives the tenant's active-job slot back when a job ends, at `now` (ISO). */
export function releaseSlot(now: string) {
  return {
    Update: {
      TableName: TENANTS_TABLE,
      Key: { tenantId: TENANT, sk: 'ACTIVE_JOBS' },
      UpdateExpression: 'SET changedAt = :now ADD activeJobs :minusOne, revision :one',
      ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':now': Date.parse(now) },
    },
  };
}
export const API_KEYS_TABLE = 'api-keys-table';

/** A stored job; RUNNING half-way on y = 1 + 2x unless overridden. */
export function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    tenantId: TENANT,
    jobId: JOB_ID,
    modelId: MODEL_ID,
    status: 'RUNNING',
    kind: 'LINEAR',
    alpha: null,
    fitIntercept: true,
    progress: 0.5,
    createdAt: '2026-01-01T12:00:00.000Z',
    startedAt: '2026-01-01T12:00:01.000Z',
    finishedAt: null,
    error: null,
    attempts: 1,
    executionArn: EXECUTION_ARN,
    source: { type: 'inline', key: `jobs/${TENANT}/${JOB_ID}.json`, rows: 4 },
    expiresAt: 1_769_860_800,
    version: 3,
    ...overrides,
  };
}

/** A stored TRAINED model of y = 1 + 2·x0 + 3·x1 unless overridden. */
export function modelRecord(overrides: Partial<ModelRecord> = {}): ModelRecord {
  return {
    tenantId: TENANT,
    modelId: MODEL_ID,
    jobId: JOB_ID,
    status: 'TRAINED',
    kind: 'RIDGE',
    alpha: 0.5,
    fitIntercept: true,
    coefficients: [2, 3],
    intercept: 1,
    features: ['x0', 'x1'],
    metrics: { n: 4, r2: 1, rmse: 0 },
    createdAt: '2026-01-01T12:00:00.000Z',
    fittedAt: '2026-01-01T12:00:02.000Z',
    expiresAt: 1_769_860_800,
    ...overrides,
  };
}

/** The last key of a page as the store encodes it into `nextToken`. */
export function pageToken(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}
