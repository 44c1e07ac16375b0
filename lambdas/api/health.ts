import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { json } from '#commons/http/http.js';
import { readEnv } from '#commons/runtime/env.js';
import { logger } from '#commons/runtime/powertools.js';
import * as z from '#domain/zod.js';

const env = readEnv({ APP_VERSION: z.string().check(z.minLength(1)) });

/** How long each dependency may take before readiness calls it failed. */
const CHECK_TIMEOUT_MS = 1_000;

/** The dependencies a request needs, read only when readiness is asked for: liveness needs none of them. */
const ReadinessEnv = z.object({
  JOBS_TABLE_NAME: z.string().check(z.minLength(1)),
  DATASETS_BUCKET_NAME: z.string().check(z.minLength(1)),
  STATE_MACHINE_ARN: z.string().check(z.minLength(1)),
});

type CheckName = 'dynamodb' | 's3' | 'stepfunctions';

async function check(name: CheckName, call: (signal: AbortSignal) => Promise<unknown>): Promise<{ name: CheckName; ok: boolean; error?: string }> {
  // The signal aborts the SDK's request; the race answers on time even if a call ignores it.
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error('timeout'));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([call(controller.signal), timedOut]);
    return { name, ok: true };
  } catch (error) {
    const reason = controller.signal.aborted ? `no answer within ${CHECK_TIMEOUT_MS} ms` : (error as Error).name || 'Error';
    logger.warn('readiness check failed', { check: name, reason });
    return { name, ok: false, error: reason };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long one readiness answer (200 or 503) is reused. `/health?deep=true` needs
 * no key, so without this every request would cost three AWS calls: with it, a
 * flood of them makes at most one set per window and per execution environment.
 */
export const READINESS_CACHE_MS = 5_000;

/** The readiness answer being computed or last computed, and when its calls started; at module scope, so warm invocations share it. */
let readiness: { startedAt: number; answer: Promise<APIGatewayProxyResult> } | undefined;

/**
 * `GET /health` is liveness: no auth, no dependencies, so it answers even when a
 * table is unreachable. `GET /health?deep=true` is readiness: it asks DynamoDB (the
 * jobs table), S3 (the datasets bucket) and Step Functions (the state machine),
 * each within a second and all at once, and answers 503 `SERVICE_UNAVAILABLE`
 * naming the ones that failed. Each check is a metadata call (DescribeTable,
 * HeadBucket, DescribeStateMachine): no data is read. Its answer, success or
 * failure, is reused for READINESS_CACHE_MS, and requests that arrive while the
 * checks run wait for the same checks.
 */
export const handler = async (event?: Pick<APIGatewayProxyEvent, 'queryStringParameters'>): Promise<APIGatewayProxyResult> => {
  if (event?.queryStringParameters?.deep !== 'true') return json(200, { status: 'ok', version: env.APP_VERSION });
  const now = Date.now();
  if (!readiness || now - readiness.startedAt >= READINESS_CACHE_MS) readiness = { startedAt: now, answer: checkReadiness() };
  return readiness.answer;
};

async function checkReadiness(): Promise<APIGatewayProxyResult> {
  const deps = ReadinessEnv.parse(process.env);
  // Loaded on the first readiness check only: liveness starts (and answers) without the SDK clients.
  const [{ DescribeTableCommand }, { HeadBucketCommand }, { DescribeStateMachineCommand }, { dynamodb, stepFunctions }, { s3 }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/client-sfn'),
    import('#commons/runtime/clients.js'),
    import('#commons/runtime/s3.js'),
  ]);
  const results = await Promise.all([
    check('dynamodb', (abortSignal) => dynamodb.send(new DescribeTableCommand({ TableName: deps.JOBS_TABLE_NAME }), { abortSignal })),
    check('s3', (abortSignal) => s3.send(new HeadBucketCommand({ Bucket: deps.DATASETS_BUCKET_NAME }), { abortSignal })),
    check('stepfunctions', (abortSignal) => stepFunctions.send(new DescribeStateMachineCommand({ stateMachineArn: deps.STATE_MACHINE_ARN }), { abortSignal })),
  ]);
  const checks = Object.fromEntries(results.map(({ name, ok, error }) => [name, ok ? 'ok' : `failed: ${error}`]));
  const failed = results.filter((result) => !result.ok).map((result) => result.name);
  if (failed.length === 0) return json(200, { status: 'ready', version: env.APP_VERSION, checks });
  // `details` in the shape of every error's (docs/openapi.json): one entry per dependency that failed.
  const details = results.filter((result) => !result.ok).map(({ name, error }) => ({ path: name, message: `failed: ${error}` }));
  return json(503, { error: { code: 'SERVICE_UNAVAILABLE', message: `not ready: ${failed.join(', ')} did not answer`, details } });
}
