/**
 * Load and fault bench on the offline stack: N tenants submit M jobs each, spread
 * over a window, while every tenant watches its jobs over a WebSocket; DynamoDB
 * Local can be paused (SIGSTOP) for a while mid-run. Prints what a client saw:
 *
 * - answers of POST /jobs by status and code (a 429, a 503 or a 409
 *   IDEMPOTENCY_IN_PROGRESS is retried with exponential backoff and jitter, never
 *   before its Retry-After, always with the same Idempotency-Key, as docs/api.md
 *   tells clients to);
 * - accepted jobs COMPLETED / FAILED / stuck (not ended when the run drains);
 * - duplicates (two jobs for one submission);
 * - WebSocket lateness of COMPLETED after the job's `finishedAt` (p50 / p99 / max),
 *   COMPLETED jobs whose message never came, and version regressions (a message
 *   older than one already received for the job);
 * - the most active (QUEUED + RUNNING) jobs of one tenant seen by a sampler that
 *   scans the Jobs table twice a second.
 *
 *   npx tsx bench/load.ts [--tenants 50] [--jobs 20] [--seconds 60] [--pause-at 20] [--pause-for 15]
 *   npx tsx bench/load.ts --tenants 5 --jobs 4 --seconds 10 --pause-for 0      # a quick run
 *
 * It starts its own stack (as `npm start` does, on free ports) with the stage's and the tenants' rate limits raised
 * through the deploy-time context (1,000 requests/s for the stage, 100/s per tenant), and stops it.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type WebSocket from 'ws';
import { storeApiKey } from '#commons/auth/api-keys.js';
import { localDynamoDbClient } from '../local/dynamodb/server.js';
import { startLocalChild } from '../test/e2e/target.js';
import { openSocket } from './socket.js';

const { values: options } = parseArgs({
  options: {
    tenants: { type: 'string', default: '50' },
    jobs: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    'pause-at': { type: 'string', default: '20' },
    'pause-for': { type: 'string', default: '15' },
    limit: { type: 'string', default: '20' },
    drain: { type: 'string', default: '180' },
  },
});
const TENANTS = Number(options.tenants);
const JOBS = Number(options.jobs);
const WINDOW_MS = Number(options.seconds) * 1000;
const PAUSE_AT_MS = Number(options['pause-at']) * 1000;
const PAUSE_FOR_MS = Number(options['pause-for']) * 1000;
const LIMIT = Number(options.limit);
const DRAIN_MS = Number(options.drain) * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);

interface JobMessage {
  jobId: string;
  status: string;
  version: number;
  finishedAt: string | null;
}

interface Tenant {
  tenantId: string;
  key: string;
  socket: WebSocket;
  /** Per job: the highest version received, and when COMPLETED arrived (epoch ms). */
  seen: Map<string, { version: number; completedAt?: number }>;
}

const answers = new Map<string, number>(); // "202", "429 TOO_MANY_ACTIVE_JOBS", …
const count = (label: string) => answers.set(label, (answers.get(label) ?? 0) + 1);
let regressions = 0;
const accepted = new Map<string, { tenant: Tenant; submission: string }>(); // jobId ->
let gaveUp = 0;

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(', ');
const loadAtStart = loadAverage();
/*
 * The stack's rate limits (docs/operations.md, Rate limits) are raised as an operator raises them for a deployment that expects
 * this load, with the deploy-time context values: the stage's default 50 requests/s would throttle 50 tenants'
 * submissions, retries and list pages together. Throttling stays on, at rates this bench does not reach.
 */
process.env.CDK_CONTEXT_JSON = JSON.stringify({
  ...(process.env.CDK_CONTEXT_JSON ? (JSON.parse(process.env.CDK_CONTEXT_JSON) as object) : {}),
  apiThrottle: { rateLimit: 1000, burstLimit: 2000 },
  tenantLimits: { rateLimit: 100, burstLimit: 200, dailyQuota: 1_000_000 },
});
const child = await startLocalChild({ LIMIT_MAX_ACTIVE_JOBS: String(LIMIT) });
const { restUrl, wsUrl, dynamodbEndpoint, region, apiKeysTable, tables } = child.state;
const dynamodbPid = (child.state as { dynamodbPid?: number }).dynamodbPid;
if (!wsUrl) throw new Error('the offline stack has no WebSocket API');
if (PAUSE_FOR_MS > 0 && dynamodbPid === undefined)
  throw new Error('the offline stack does not report DynamoDB Local’s pid (dynamodbPid): run with --pause-for 0');
const jobsTable = Object.entries(tables).find(([logicalId]) => /JobsTable/.test(logicalId))?.[1];
if (!jobsTable) throw new Error('no Jobs table in the stack');
const base = restUrl.endsWith('/') ? restUrl : `${restUrl}/`;
const documents = DynamoDBDocumentClient.from(localDynamoDbClient(dynamodbEndpoint, region));

let resume: (() => void) | undefined;
let outage: { from: number; to: number } | undefined;
try {
  // Keys stored as `npm run api-key` stores them (the e2e harness does the same).
  const tenants: Tenant[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const tenantId = `load-${String(i).padStart(3, '0')}`;
    const key = await storeApiKey(documents, apiKeysTable, tenantId);
    const socket = await openSocket(`${wsUrl}?token=${key}`);
    const tenant: Tenant = { tenantId, key, socket, seen: new Map() };
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; job?: JobMessage };
      if (message.type !== 'job' || !message.job) return;
      const { jobId, status, version } = message.job;
      const seen = tenant.seen.get(jobId) ?? { version: 0 };
      if (version < seen.version) regressions += 1;
      seen.version = Math.max(seen.version, version);
      if (status === 'COMPLETED' && seen.completedAt === undefined) seen.completedAt = Date.now();
      tenant.seen.set(jobId, seen);
    });
    const subscribed = new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ action: 'subscribe' }));
    await subscribed;
    tenants.push(tenant);
  }

  // The most active jobs of one tenant, sampled from the table itself.
  let maxActive = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const active = new Map<string, number>();
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await documents.send(
            new ScanCommand({
              TableName: jobsTable,
              FilterExpression: '#status IN (:queued, :running)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':queued': 'QUEUED', ':running': 'RUNNING' },
              ProjectionExpression: 'tenantId',
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of page.Items ?? []) active.set(item.tenantId as string, (active.get(item.tenantId as string) ?? 0) + 1);
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        maxActive = Math.max(maxActive, ...active.values(), 0);
      } catch {
        // DynamoDB paused: the next sample will do.
      }
      await sleep(500);
    }
  })();

  /** One submission, retried as a well-behaved client would, until accepted or 5 minutes have passed. */
  const submit = async (tenant: Tenant, index: number) => {
    const submission = `${tenant.tenantId}-${index}`;
    const idempotencyKey = randomUUID();
    const xs = Array.from({ length: 50 }, (_, i) => [i / 10, (i * 7) % 11]);
    const body = JSON.stringify({ kind: 'RIDGE', alpha: 0.5, name: submission, data: xs.map((x) => ({ x, y: 1 + 2 * x[0]! - 3 * x[1]! })) });
    const deadline = Date.now() + 300_000;
    // Retries back off exponentially with jitter, never sooner than Retry-After: a client that retries at a fixed
    // pace turns an outage's backlog into a retry storm.
    const backoff = (attempt: number, atLeastSeconds: number) => Math.max(atLeastSeconds * 1000, Math.min(30_000, 500 * 2 ** attempt)) * (0.5 + Math.random());
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      let status: number;
      let reply: { jobId?: string; error?: { code: string } } | undefined;
      let retryAfter: number;
      try {
        const response = await fetch(new URL('jobs', base), {
          method: 'POST',
          headers: { Authorization: `Bearer ${tenant.key}`, 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        retryAfter = Number(response.headers.get('retry-after') ?? 1);
        reply = (await response.json().catch(() => undefined)) as typeof reply;
      } catch {
        count('no answer (30 s)');
        await sleep(backoff(attempt, 1));
        continue;
      }
      count(status === 202 ? '202' : `${status} ${reply?.error?.code ?? ''}`.trim());
      if (status === 202 && reply?.jobId) {
        accepted.set(reply.jobId, { tenant, submission });
        return;
      }
      // What the typed client retries: 429, 502, 503, 504 (the same key makes a retry safe) and a create still in progress.
      if ([429, 502, 503, 504].includes(status) || (status === 409 && reply?.error?.code === 'IDEMPOTENCY_IN_PROGRESS')) {
        await sleep(backoff(attempt, status === 429 ? 1 : retryAfter));
        continue;
      }
      break; // anything else is final
    }
    gaveUp += 1;
  };

  // The fault: DynamoDB Local stops answering for a while, mid-window.
  const started = Date.now();
  const fault =
    PAUSE_FOR_MS > 0
      ? (async () => {
          await sleep(PAUSE_AT_MS);
          process.kill(dynamodbPid as number, 'SIGSTOP');
          const from = Date.now();
          resume = () => process.kill(dynamodbPid as number, 'SIGCONT');
          console.log(`[bench] DynamoDB Local paused at ${((Date.now() - started) / 1000).toFixed(1)} s for ${PAUSE_FOR_MS / 1000} s`);
          await sleep(PAUSE_FOR_MS);
          resume();
          resume = undefined;
          outage = { from, to: Date.now() };
        })()
      : Promise.resolve();

  // Every tenant's submissions at random moments of the window.
  const submissions = tenants.flatMap((tenant) =>
    Array.from({ length: JOBS }, async (_, index) => {
      await sleep(Math.random() * WINDOW_MS);
      await submit(tenant, index);
    }),
  );
  await Promise.all([...submissions, fault]);
  const submittedIn = (Date.now() - started) / 1000;

  // Drain: every accepted job ends, or the deadline passes; then a grace for the last messages.
  type FinalJob = {
    jobId: string;
    status: string;
    createdAt: string;
    startedAt: string | null;
    attempts: number;
    finishedAt: string | null;
    name: string;
    error: { code: string; message: string } | null;
  };
  const finalJobs = new Map<string, FinalJob>();
  const drainDeadline = Date.now() + DRAIN_MS;
  for (;;) {
    finalJobs.clear();
    for (const tenant of tenants) {
      let nextToken: string | null = null;
      do {
        const url = new URL(`jobs?limit=100${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`, base);
        let response = await fetch(url, { headers: { Authorization: `Bearer ${tenant.key}` } });
        while (!response.ok) {
          // Rate limited or unavailable: the same page again after Retry-After.
          await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
          response = await fetch(url, { headers: { Authorization: `Bearer ${tenant.key}` } });
        }
        const page = (await response.json()) as { items: FinalJob[]; nextToken: string | null };
        for (const job of page.items) finalJobs.set(job.jobId, job);
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const open = [...finalJobs.values()].filter((job) => job.status === 'QUEUED' || job.status === 'RUNNING').length;
    if (open === 0 || Date.now() > drainDeadline) break;
    await sleep(2000);
  }
  await sleep(5000);
  sampling = false;
  await sampler;

  // What a client saw.
  const byStatus = (status: string) => [...finalJobs.values()].filter((job) => job.status === status).length;
  const perSubmission = new Map<string, number>();
  for (const job of finalJobs.values()) perSubmission.set(job.name, (perSubmission.get(job.name) ?? 0) + 1);
  const duplicates = [...perSubmission.values()].reduce((sum, n) => sum + n - 1, 0);
  const lateness: number[] = [];
  /**
   * Jobs whose way from `finishedAt` to the client overlapped the outage (finished before it ended, or in the 10 s
   * after, and delivered after it began): their COMPLETED write, or its stream record, waited for DynamoDB to resume.
   * A job stamped `finishedAt` just before the pause whose final write was then held by it counts here too.
   */
  const latenessInOutage: number[] = [];
  let missing = 0;
  for (const [jobId, job] of finalJobs) {
    if (job.status !== 'COMPLETED') continue;
    const owner = accepted.get(jobId)?.tenant ?? tenants.find((tenant) => tenant.seen.has(jobId));
    const completedAt = owner?.seen.get(jobId)?.completedAt;
    if (completedAt === undefined || job.finishedAt === null) missing += 1;
    else {
      const finishedAt = Date.parse(job.finishedAt);
      const inOutage = outage !== undefined && completedAt >= outage.from && finishedAt <= outage.to + 10_000;
      (inOutage ? latenessInOutage : lateness).push(completedAt - finishedAt);
    }
  }
  lateness.sort((a, b) => a - b);
  latenessInOutage.sort((a, b) => a - b);

  console.log(`\nload average (1, 5, 15 min) at the start: ${loadAtStart}; now: ${loadAverage()}`);
  console.log(
    `${TENANTS} tenants x ${JOBS} jobs over ${WINDOW_MS / 1000} s (submitted in ${submittedIn.toFixed(1)} s), limit ${LIMIT}, ` +
      (PAUSE_FOR_MS > 0 ? `DynamoDB Local paused at ${PAUSE_AT_MS / 1000} s for ${PAUSE_FOR_MS / 1000} s` : 'no fault'),
  );
  console.log(
    `  POST /jobs answers: ${[...answers]
      .sort()
      .map(([label, n]) => `${label}: ${n}`)
      .join(', ')}`,
  );
  console.log(`  submissions given up: ${gaveUp}; jobs accepted: ${accepted.size}; jobs in the tenants' lists: ${finalJobs.size}`);
  console.log(
    `  COMPLETED ${byStatus('COMPLETED')}, FAILED ${byStatus('FAILED')}, CANCELLED ${byStatus('CANCELLED')}, stuck (QUEUED or RUNNING) ${byStatus('QUEUED') + byStatus('RUNNING')}`,
  );
  const failures = new Map<string, number>();
  for (const job of finalJobs.values()) {
    // The message names the workflow's error (e.g. "training failed after 4 attempt(s) (TransientError)").
    const label = `${job.error?.code ?? '?'}: ${job.error?.message ?? ''}`;
    if (job.status === 'FAILED') failures.set(label, (failures.get(label) ?? 0) + 1);
  }
  if (failures.size > 0) console.log(`    FAILED by error: ${[...failures].map(([label, n]) => `${label} x${n}`).join('; ')}`);
  for (const job of [...finalJobs.values()].filter((job) => job.status === 'QUEUED' || job.status === 'RUNNING').slice(0, 5)) {
    const { jobId, status, createdAt, startedAt, attempts } = job;
    console.log(`    stuck: ${JSON.stringify({ jobId, status, createdAt, startedAt, attempts })}`);
  }
  console.log(`  duplicates (jobs beyond one per submission): ${duplicates}`);
  const figures = (sorted: number[]) =>
    `p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p99 ${quantile(sorted, 0.99).toFixed(0)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms (${sorted.length} jobs)`;
  console.log(`  WebSocket COMPLETED after finishedAt: ${figures(lateness)}; missing: ${missing}`);
  if (outage) console.log(`    jobs whose end overlapped the outage (or the 10 s after it): ${figures(latenessInOutage)}`);
  console.log(`  version regressions: ${regressions}`);
  console.log(`  most active jobs of one tenant (sampled): ${maxActive} (limit ${LIMIT})`);
  // The stack's own log lines, by level and message (its handlers log as on Lambda).
  const logged = new Map<string, number>();
  for (const line of child.output().split('\n')) {
    const match = /"level":"(WARN|ERROR)","message":"([^"]*)"/.exec(line);
    if (match) logged.set(`${match[1]} ${match[2]}`, (logged.get(`${match[1]} ${match[2]}`) ?? 0) + 1);
  }
  if (logged.size > 0) console.log(`  stack log (last 20,000 characters): ${[...logged].map(([line, n]) => `${line} x${n}`).join('; ')}`);
  for (const tenant of tenants) tenant.socket.close();
} finally {
  resume?.();
  documents.destroy();
  await child.stop();
}
