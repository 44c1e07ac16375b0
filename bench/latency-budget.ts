/**
 * Where the time of one job goes, from `POST /jobs` to its COMPLETED WebSocket
 * message, on the offline stack: jobs of 1,000 rows x 3 features are sent one at a
 * time, the stack records timed spans of its parts (`LOCAL_TRACE_FILE`,
 * local/trace.ts), and each job's critical path is cut into segments: the gateway
 * and authorizer, create-job and each of its calls, the start of the execution,
 * training and each of its status writes, the stream's delivery, notify and its
 * calls, the @connections post and the client's receipt. Prints the median and p99
 * of each segment and of the whole; the offline stack's deliberate delays (those
 * that imitate AWS) are printed apart.
 *
 *   npx tsx bench/latency-budget.ts [--jobs 50] [--rows 1000] [--warm-up 5] [--trace (keep the spans file)]
 *
 * It starts its own stack (as `npm start` does, on free ports) and stops it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateApiKey } from '#commons/auth/api-keys.js';
import { IDLE_POLL_MS } from '../local/lambda/stream-poller.js';
import type { Span } from '../local/trace.js';
import { startLocalChild } from '../test/e2e/target.js';
import { openSocket } from './socket.js';

const { values: options } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    rows: { type: 'string', default: '1000' },
    'warm-up': { type: 'string', default: '5' },
    trace: { type: 'boolean' },
  },
});
const JOBS = Number(options.jobs);
const ROWS = Number(options.rows);
const WARM_UP = Number(options['warm-up']);

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(', ');

const directory = await mkdtemp(path.join(tmpdir(), 'latency-budget-'));
const traceFile = path.join(directory, 'trace.jsonl');
const key = generateApiKey();
const loadAtStart = loadAverage();
const child = await startLocalChild({ DEV_API_KEY: key, LOCAL_TRACE_FILE: traceFile });
const { restUrl, wsUrl } = child.state;
if (!wsUrl) throw new Error('the offline stack has no WebSocket API');

const rows = Array.from({ length: ROWS }, (_, i) => {
  const x = [i / 100, Math.sin(i), (i % 13) - 6];
  return { x, y: 1 + 2 * (x[0] as number) - (x[1] as number) + 0.5 * (x[2] as number) };
});
const body = JSON.stringify({ kind: 'RIDGE', alpha: 0.1, data: rows });

interface Run {
  jobId: string;
  posted: number;
  answered: number;
  completed: number;
}
const runs: Run[] = [];
const socket = await openSocket(`${wsUrl}?token=${key}`);
try {
  const completed = new Map<string, (at: number) => void>();
  socket.on('message', (data) => {
    const at = now();
    const message = JSON.parse(String(data)) as { type: string; job?: { jobId: string; status: string } };
    if (message.type === 'job' && message.job?.status === 'COMPLETED') completed.get(message.job.jobId)?.(at);
  });
  socket.send(JSON.stringify({ action: 'subscribe' }));
  await new Promise((resolve) => socket.once('message', resolve));

  for (let i = 0; i < WARM_UP + JOBS; i++) {
    const posted = now();
    const response = await fetch(new URL('jobs', restUrl.endsWith('/') ? restUrl : `${restUrl}/`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body,
    });
    const answered = now();
    const { jobId } = (await response.json()) as { jobId: string };
    if (response.status !== 202) throw new Error(`POST /jobs answered ${response.status}`);
    const done = await new Promise<number>((resolve, reject) => {
      completed.set(jobId, resolve);
      setTimeout(() => reject(new Error(`job ${jobId} did not complete within 30 s`)), 30_000).unref();
    });
    if (i >= WARM_UP) runs.push({ jobId, posted, answered, completed: done });
    // The job's trailing work (its history record) ends before the next one starts; the random
    // part puts each job at its own phase of the stream's polls, as independent clients are,
    // instead of a fixed pause that meets the polls at the same few phases every time.
    await sleep(300 + Math.random() * IDLE_POLL_MS);
  }
} finally {
  socket.close();
  await sleep(500);
  await child.stop();
}

const spans = (await readFile(traceFile, 'utf8'))
  .split('\n')
  .filter((line) => line.length > 0)
  .map((line) => JSON.parse(line) as Span);
if (options.trace === undefined) await rm(directory, { recursive: true, force: true });
else console.log(`spans kept in ${traceFile}`);

// ---------------------------------------------------------------------------
// Each job's critical path, from its spans

type Segments = Map<string, number>;
/** A segment is "deliberate" when it is a delay the offline stack keeps on purpose because AWS has it too. */
const DELIBERATE = new Set(['stream: waiting for the next poll (Lambda polls a shard 4 times a second)']);

const within = (span: Span, from: number, to: number) => span.start >= from - 1 && span.end <= to + 1;
const by = (pattern: RegExp) => (span: Span) => pattern.test(span.caller ?? '');
const duration = (span: Span | undefined) => (span ? span.end - span.start : 0);
const first = <T>(items: T[], what: string): T => {
  if (items.length === 0) throw new Error(`no span for ${what}`);
  return items[0] as T;
};

function segmentsOf(run: Run): Segments {
  // Spans that began while the client waited (notify's own ends after the client has its message).
  const mine = spans.filter((span) => span.start >= run.posted - 1 && span.start <= run.completed).sort((a, b) => a.start - b.start);
  const segments: Segments = new Map();
  const add = (name: string, ms: number) => segments.set(name, (segments.get(name) ?? 0) + Math.max(0, ms));

  const gateway = first(
    mine.filter((span) => span.name === 'gateway' && span.detail?.method === 'POST'),
    'the gateway',
  );
  const authorizer = mine.find((span) => span.name === 'authorizer' && within(span, gateway.start, gateway.end));
  const createWait = first(
    mine.filter((span) => span.name === 'lambda.wait' && by(/CreateJob/)(span)),
    'create-job',
  );
  const createRun = first(
    mine.filter((span) => span.name === 'lambda.run' && by(/CreateJob/)(span)),
    'create-job',
  );
  add('client -> gateway', gateway.start - run.posted);
  add('gateway: authorizer (cached after the first call)', duration(authorizer));
  add('gateway: other (routing, usage plan, proxy event)', createWait.start - gateway.start - duration(authorizer));
  add('create-job: waiting for an environment', duration(createWait));
  const startExecution = first(
    mine.filter((span) => span.name === 'sfn' && span.detail?.operation === 'StartExecution'),
    'StartExecution',
  );
  // The path goes on from StartExecution: what create-job does after it, and the 202's way back, run beside training.
  const calls = (run: Span, until: number, pattern: RegExp) =>
    mine.filter(
      (span) => !span.name.startsWith('lambda.') && span.start >= run.start - 1 && span.end <= until + 1 && (by(pattern)(span) || span.name === 'sfn'),
    );
  let createIo = 0;
  for (const call of calls(createRun, startExecution.end, /CreateJob/)) {
    add(`create-job: ${call.name} ${call.detail?.operation ?? call.detail?.method ?? ''}`.trim(), duration(call));
    createIo += duration(call);
  }
  add('create-job: its own code, up to StartExecution (validation, hashing, JSON)', startExecution.end - createRun.start - createIo);

  const trainWait = first(
    mine.filter((span) => span.name === 'lambda.wait' && by(/^Train/)(span) && span.start >= startExecution.start),
    'train',
  );
  const trainRun = first(
    mine.filter((span) => span.name === 'lambda.run' && by(/^Train/)(span) && span.start >= trainWait.start),
    'train',
  );
  add('state machine: StartExecution answered -> Train task invoked', trainWait.start - startExecution.end);
  add('train: waiting for an environment', duration(trainWait));
  const completedWrite = first(
    mine.filter((span) => span.name === 'dynamodb' && by(/^Train/)(span) && span.detail?.operation === 'TransactWriteItems' && span.start >= trainRun.start),
    'the COMPLETED write',
  );
  let trainIo = 0;
  let updates = 0;
  for (const call of calls(trainRun, completedWrite.end, /^Train/).filter((span) => span.name !== 'sfn')) {
    const operation = String(call.detail?.operation ?? call.detail?.method ?? '');
    const label =
      operation === 'UpdateItem'
        ? `train: dynamodb UpdateItem (${++updates === 1 ? 'RUNNING' : 'progress'})`
        : operation === 'TransactWriteItems'
          ? 'train: dynamodb TransactWriteItems (COMPLETED + model + slot)'
          : operation === 'GET'
            ? 'train: s3 GetObject (the points)'
            : `train: ${call.name} ${operation}`;
    add(label, duration(call));
    trainIo += duration(call);
  }
  add('train: its own code (parse, fit, middlewares)', completedWrite.end - trainRun.start - trainIo);

  const holds = (span: Span) =>
    (span.detail?.records as string[] | undefined)?.some((record) => record.includes(run.jobId) && record.endsWith(' COMPLETED')) ?? false;
  const read = first(
    mine.filter((span) => span.name === 'stream.getRecords' && by(/Notify/)(span) && holds(span)),
    'the COMPLETED record read',
  );
  add('stream: waiting for the next poll (Lambda polls a shard 4 times a second)', read.start - completedWrite.end);
  add('stream: GetRecords', duration(read));
  const invoke = first(
    mine.filter((span) => span.name === 'stream.invoke' && by(/Notify/)(span) && holds(span)),
    'notify',
  );
  add('stream: read -> notify invoked (lanes)', invoke.start - read.end);
  const notifyWait = first(
    mine.filter((span) => span.name === 'lambda.wait' && by(/Notify/)(span) && span.start >= invoke.start - 1),
    'notify wait',
  );
  const notifyRun = first(
    mine.filter((span) => span.name === 'lambda.run' && by(/Notify/)(span) && span.start >= notifyWait.start),
    'notify run',
  );
  add('notify: waiting for an environment', duration(notifyWait));
  let notifyIo = 0;
  const notifyCalls = mine.filter((span) => within(span, notifyRun.start, notifyRun.end) && (by(/Notify/)(span) || span.name === 'ws.connections'));
  // The two lookups run at once: the critical path holds the longer one.
  const lookups = notifyCalls.filter((span) => span.name === 'dynamodb');
  const lookupSpan = lookups.length > 0 ? Math.max(...lookups.map((span) => span.end)) - Math.min(...lookups.map((span) => span.start)) : 0;
  add('notify: dynamodb Query x2, at once (subscribers)', lookupSpan);
  notifyIo += lookupSpan;
  const post = notifyCalls.filter((span) => span.name === 'ws.connections').at(-1);
  add('notify: @connections POST (WebSocket send)', duration(post));
  notifyIo += duration(post);
  add('notify: its own code, up to the post (parse, coalesce)', (post?.end ?? notifyRun.end) - notifyRun.start - notifyIo);
  add('@connections -> client receives', run.completed - (post?.end ?? notifyRun.end));
  return segments;
}

const perJob = runs.map(segmentsOf);
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
};
const names = [...new Set(perJob.flatMap((segments) => [...segments.keys()]))];
const totals = runs.map((run) => run.completed - run.posted);
const deliberate = perJob.map((segments) => [...DELIBERATE].reduce((sum, name) => sum + (segments.get(name) ?? 0), 0));

const pad = (text: string, width: number) => text.padEnd(width);
const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10);
console.log(`\n${runs.length} jobs of ${ROWS} rows x 3 features, one at a time (after ${WARM_UP} warm-up jobs), POST /jobs -> COMPLETED over the WebSocket`);
console.log(`load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${loadAverage()}\n`);
console.log(`${pad('segment', 72)}${'median'.padStart(10)}${'p99'.padStart(10)}`);
for (const name of names) {
  const values = perJob.map((segments) => segments.get(name) ?? 0);
  console.log(`${pad(`${DELIBERATE.has(name) ? '* ' : '  '}${name}`, 72)}${ms(quantile(values, 0.5))}${ms(quantile(values, 0.99))}`);
}
console.log(
  `${pad('  sum of the segments', 72)}${ms(
    quantile(
      perJob.map((segments) => [...segments.values()].reduce((a, b) => a + b, 0)),
      0.5,
    ),
  )}`,
);
console.log(`\n${pad('POST /jobs -> COMPLETED received (measured by the client)', 72)}${ms(quantile(totals, 0.5))}${ms(quantile(totals, 0.99))}`);
console.log(`${pad('  of which deliberate offline delays (marked *)', 72)}${ms(quantile(deliberate, 0.5))}${ms(quantile(deliberate, 0.99))}`);
console.log(
  `${pad('  without them', 72)}${ms(
    quantile(
      totals.map((total, index) => total - (deliberate[index] as number)),
      0.5,
    ),
  )}${ms(
    quantile(
      totals.map((total, index) => total - (deliberate[index] as number)),
      0.99,
    ),
  )}`,
);
console.log(
  `${pad('POST /jobs -> 202', 72)}${ms(
    quantile(
      runs.map((run) => run.answered - run.posted),
      0.5,
    ),
  )}${ms(
    quantile(
      runs.map((run) => run.answered - run.posted),
      0.99,
    ),
  )}`,
);
