import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateApiKey, storeApiKey } from '#commons/auth/api-keys.js';
import { JobStore, Lifecycle, ModelStore } from '#commons/jobs/store.js';
import { ACTIVE_JOBS, TenantStore } from '#commons/jobs/tenants.js';
import type { JobRecord, ModelRecord } from '#domain/jobs.js';
import { localDynamoDbClient } from '../../../local/dynamodb/server.js';
import { target } from '../client.js';
import { type LocalChild, startLocalChild } from '../target.js';

/**
 * What an operator does to a running stack, on a stack of its own: key revocation
 * that takes effect on the next request, the readiness probe, and the sweeper that
 * rescues jobs stranded by a create-job that died between its two steps.
 */

const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let child: LocalChild;
const devKey = generateApiKey();

async function call(method: string, path: string, key?: string, body?: unknown) {
  const response = await fetch(`${child.state.restUrl}${path}`, {
    method,
    headers: { ...(key === undefined ? {} : { Authorization: `Bearer ${key}` }), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Polls a job until `done` says so, for at most 30 s. */
async function jobWhen(jobId: string, done: (job: { status: string }) => boolean) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await call('GET', `/jobs/${jobId}`, devKey);
    if (done(body) || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `npm run <script> -- <args>` against this test's stack; answers its exit code and output. */
async function script(name: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const process_ = spawn(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOCAL_STACK_FILE: child.stateFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  process_.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  process_.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = await once(process_, 'exit');
  return { code: code as number | null, stdout, stderr };
}

const apiKey = (...args: string[]) => script('api-key', ...args);

describe.skipIf(target.name !== 'local')('operating the offline stack', () => {
  beforeAll(async () => {
    // The schedule's own period is long here: the test runs the sweeper itself, with `npm run sweep`.
    child = await startLocalChild({ DEV_API_KEY: devKey, SCHEDULE_SECONDS: '3600' });
  });
  afterAll(async () => {
    await child?.stop();
  });

  it('GET /health?deep=true answers ready after checking DynamoDB, S3 and the state machine', async () => {
    const { status, body } = await call('GET', '/health?deep=true');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', checks: { dynamodb: 'ok', s3: 'ok', stepfunctions: 'ok' } });
  });

  it('revokes a key: refused on its very next request (the cached authorizer answer is flushed), its WebSocket closed', async () => {
    const created = await apiKey('create', 'e2e-revoked', '--expires', '30');
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) as string;
    expect(created.stdout).toContain('for tenant "e2e-revoked"');

    // Accepted, and its authorizer answer now cached for five minutes.
    expect((await call('GET', '/jobs', key)).status).toBe(200);
    const socket = new WebSocket(`${child.state.wsUrl}?token=${key}`);
    await once(socket, 'open');
    const closed = once(socket, 'close');

    const listed = await apiKey('list');
    expect(listed.code, listed.stderr).toBe(0);
    const line = listed.stdout.split('\n').find((row) => row.includes('e2e-revoked'));
    const keyId = /^(key_[0-9a-f]{16})\s+e2e-revoked\s+\S+\s+(\S+)$/.exec(line ?? '');
    expect(keyId, listed.stdout).not.toBeNull();
    expect(Date.parse(keyId?.[2] as string)).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const revoked = await apiKey('revoke', keyId?.[1] as string);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${keyId?.[1]} of tenant "e2e-revoked"`);
    expect(revoked.stdout).toContain('Closed 1 open WebSocket connection');

    expect(await call('GET', '/jobs', key)).toEqual({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'missing or unknown API key' } } });
    const [code] = await closed;
    expect(code).toBe(1000);
    expect((await apiKey('list')).stdout).not.toContain('e2e-revoked');
  });

  it('deletes a key given the key itself: 401 UNAUTHORIZED on its very next request, its WebSocket closed', async () => {
    const created = await apiKey('create', 'e2e-deleted');
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) as string;
    // Accepted, and its authorizer answer now cached for five minutes.
    expect((await call('GET', '/jobs', key)).status).toBe(200);
    const socket = new WebSocket(`${child.state.wsUrl}?token=${key}`);
    await once(socket, 'open');
    const closed = once(socket, 'close');

    const deleted = await apiKey('delete', key);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toMatch(/Deleted key_[0-9a-f]{16} of tenant "e2e-deleted"/);
    expect(deleted.stdout).toContain('Closed 1 open WebSocket connection');

    expect(await call('GET', '/jobs', key)).toEqual({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'missing or unknown API key' } } });
    const [code] = await closed;
    expect(code).toBe(1000);
  });

  it('refuses an expired key on its next request although its answer is cached, answers its WebSocket UNAUTHORIZED, and the sweep closes it', async () => {
    const documents = DynamoDBDocumentClient.from(localDynamoDbClient(child.state.dynamodbEndpoint, child.state.region));
    const expiresAt = new Date(Date.now() + 3_000);
    const key = await storeApiKey(documents, child.state.apiKeysTable, 'e2e-expiring', { expiresAt });
    expect((await call('GET', '/jobs', key)).status).toBe(200);
    const socket = new WebSocket(`${child.state.wsUrl}?token=${key}`);
    await once(socket, 'open');
    const closed = once(socket, 'close');
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 1_100));

    expect(await call('GET', '/jobs', key)).toEqual({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'missing or unknown API key' } } });
    const answer = once(socket, 'message');
    socket.send(JSON.stringify({ action: 'subscribe' }));
    expect(JSON.parse(String((await answer)[0]))).toEqual({ type: 'error', code: 'UNAUTHORIZED', message: 'missing or unknown API key' });

    const swept = await script('sweep');
    expect(swept.code, swept.stderr).toBe(0);
    const [code] = await Promise.race([closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket stayed open')), 5_000))]);
    expect(code).toBe(1000);
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After, not 500, when the authorizer cannot read the keys table for a key it has not cached', async () => {
    const key = (await apiKey('create', 'e2e-outage')).stdout.trim().split('\n').at(-1) as string;
    process.kill(child.state.dynamodbPid, 'SIGSTOP');
    let during: Response;
    try {
      during = await fetch(`${child.state.restUrl}/jobs`, { headers: { Authorization: `Bearer ${key}` } });
    } finally {
      process.kill(child.state.dynamodbPid, 'SIGCONT');
    }
    expect(during.status).toBe(503);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await during.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
    // Nothing failed was cached: the same key is served once the table answers again.
    expect((await call('GET', '/jobs', key)).status).toBe(200);
  });

  it('refuses bad arguments with one clear line', async () => {
    const unknown = await apiKey('revoke', 'key_0000000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^no API key with id or tenant "key_0000000000000000" on the local stack \(http:\/\/127\.0\.0\.1:\d+\)\n$/);
    expect((await apiKey('create', 'acme', '--expires', 'yesterday')).stderr.trim()).toBe(
      '--expires must be an ISO date (2027-01-31) or a whole number of days >= 1; got "yesterday"',
    );
    expect((await apiKey('create', 'acme', '--expires', '2020-01-01')).stderr.trim()).toBe('--expires must lie in the future; got 2020-01-01T00:00:00.000Z');
    const limits = async (...args: string[]) => (await apiKey('limits', 'acme', ...args)).stderr.trim();
    expect(await limits('--rate', '10', '--burst', '5', '--quota', '1000')).toBe('--burst must be at least --rate');
    expect(await limits('--rate', '0', '--burst', '5', '--quota', '1000')).toBe('--rate must be a whole number >= 1');
    expect(await limits('--rate', '2.5', '--burst', '5', '--quota', '1000')).toBe('--rate must be a whole number >= 1');
    expect(await limits('--rate', '10', '--burst', '20')).toBe('--quota is required');
    expect(await limits('--rate', '10', '--burst', '20', '--quota', '1000')).toBe(
      'per-tenant usage plans exist on a deployed stack only (--stack <name>); the local stack enforces the default plan for every tenant',
    );
  });

  it('sweeps jobs stranded by a create-job that died between writing the job and starting its execution', async () => {
    // A job trained the normal way: its inline points are in S3, where the stranded copies below find them.
    const created = await call('POST', '/jobs', devKey, { kind: 'LINEAR', data: [0, 1, 2, 3].map((x) => ({ x: [x], y: 1 + 2 * x })) });
    expect(created.status).toBe(202);
    expect((await jobWhen(created.body.jobId, (job) => job.status === 'COMPLETED')).status).toBe('COMPLETED');

    // What create-job's first step writes (the QUEUED job and its TRAINING model, in one transaction), with no
    // StartExecution after it: once as it would be ten minutes later, and once as a job left RUNNING without one.
    const client = localDynamoDbClient(child.state.dynamodbEndpoint, child.state.region);
    const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const jobsTable = Object.entries(child.state.tables).find(([id]) => id.includes('JobsTable'))?.[1];
    const modelsTable = Object.entries(child.state.tables).find(([id]) => id.includes('ModelsTable'))?.[1];
    const tenantsTable = Object.entries(child.state.tables).find(([id]) => id.includes('TenantsTable'))?.[1];
    const lifecycle = new Lifecycle(
      new JobStore(jobsTable as string, documents),
      new ModelStore(modelsTable as string, documents),
      new TenantStore(tenantsTable as string, documents),
      documents,
    );
    const { Item: original } = await documents.send(new GetCommand({ TableName: jobsTable, Key: { tenantId: 'dev', jobId: created.body.jobId } }));
    const { Item: model } = await documents.send(new GetCommand({ TableName: modelsTable, Key: { tenantId: 'dev', modelId: created.body.modelId } }));
    const tenMinutesAgo = Date.now() - 10 * 60_000;
    const strand = async (status: 'QUEUED' | 'RUNNING') => {
      const jobId = ulid(tenMinutesAgo);
      const modelId = ulid(tenMinutesAgo);
      const { tenantStatus: _, ...rest } = original as JobRecord & { tenantStatus: string };
      const job: JobRecord = {
        ...rest,
        jobId,
        modelId,
        status,
        createdAt: new Date(tenMinutesAgo).toISOString(),
        startedAt: status === 'RUNNING' ? new Date(tenMinutesAgo).toISOString() : null,
        finishedAt: null,
        error: null,
        progress: 0,
        attempts: status === 'RUNNING' ? 1 : 0,
        executionArn: rest.executionArn.replace(created.body.jobId, jobId),
      };
      const outcome = await lifecycle.create({
        job: { ...job, version: 1 },
        model: { ...(model as ModelRecord), modelId, jobId, status: 'TRAINING', coefficients: [], intercept: null, metrics: null, fittedAt: null },
        maxActiveJobs: 20,
      });
      expect(outcome).toBe('CREATED');
      return jobId;
    };
    const activeJobs = async () =>
      (await documents.send(new GetCommand({ TableName: tenantsTable, Key: { tenantId: 'dev', sk: ACTIVE_JOBS }, ConsistentRead: true }))).Item?.activeJobs;
    const activeBefore = await activeJobs();
    const queued = await strand('QUEUED');
    const running = await strand('RUNNING');
    expect(await activeJobs()).toBe(activeBefore + 2);
    expect((await call('GET', `/jobs/${queued}`, devKey)).body.status).toBe('QUEUED');

    const swept = await script('sweep');
    expect(swept.code, swept.stderr).toBe(0);
    expect(child.output()).toContain('"message":"started a stranded job"');
    const rescued = await jobWhen(queued, (job) => job.status === 'COMPLETED' || job.status === 'FAILED');
    expect(rescued).toMatchObject({ status: 'COMPLETED', error: null });
    expect(await call('GET', `/jobs/${running}`, devKey)).toMatchObject({
      status: 200,
      body: { status: 'FAILED', error: { code: 'WORKFLOW_ENDED', message: 'no training workflow runs this job any more; submit it again' } },
    });
    // Both stranded jobs held an active-job slot, and gave it back when they ended.
    expect(await activeJobs()).toBe(activeBefore);
    client.destroy();

    // A second sweep finds nothing left to do: the rescued job was started once, under its own name.
    expect((await script('sweep')).code).toBe(0);
    expect((await call('GET', `/jobs/${queued}`, devKey)).body.status).toBe('COMPLETED');
  });

  it("answers a burst from one tenant with 429 RATE_LIMITED and Retry-After, while another tenant's requests in the same second succeed", async () => {
    const other = await apiKey('create', 'e2e-calm');
    const calmKey = other.stdout.trim().split('\n').at(-1) as string;
    const list = (key: string) => fetch(`${child.state.restUrl}/jobs?limit=1`, { headers: { Authorization: `Bearer ${key}` } });
    // Both keys' authorizer answers cached first, so the burst meets the limits, not 150 authorizer runs.
    expect([(await list(devKey)).status, (await list(calmKey)).status]).toEqual([200, 200]);
    // The default plan lets a tenant burst 50 requests, then 25 a second (lib/rest-api.ts): 150 at once overflow it.
    const burst = Array.from({ length: 150 }, () => list(devKey));
    const calm = Array.from({ length: 5 }, () => list(calmKey));
    const [noisy, quiet] = await Promise.all([Promise.all(burst), Promise.all(calm)]);
    const limited = noisy.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(noisy.every((response) => response.status === 200 || response.status === 429)).toBe(true);
    expect(limited.every((response) => response.headers.get('retry-after') === '1')).toBe(true);
    expect(await limited[0]?.json()).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many requests; slow down and retry' } });
    expect(quiet.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
  });
});
