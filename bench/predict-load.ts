/**
 * Predict throughput and latency on the offline stack under load (autocannon):
 * trains one model, then sends single-input predictions for a fixed time.
 *
 *   npx tsx bench/predict-load.ts [seconds=15] [connections=10] [rate=5000]
 *
 * The offline gateway enforces the stack's rate limits (docs/operations.md, Rate limits): the
 * stage's 50 requests/s and every tenant's 25/s would cap this at 25/s. They are
 * raised as an operator raises them for a deployment, with the deploy-time context
 * values (`apiThrottle`, `tenantLimits`, here through CDK_CONTEXT_JSON) set to `rate`
 * requests/s: throttling stays on, at a rate the bench does not reach.
 */
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { startTarget } from '../test/e2e/target.js';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 10);
const rate = Number(process.argv[4] ?? 5000);
process.env.CDK_CONTEXT_JSON = JSON.stringify({
  ...(process.env.CDK_CONTEXT_JSON ? (JSON.parse(process.env.CDK_CONTEXT_JSON) as object) : {}),
  apiThrottle: { rateLimit: rate, burstLimit: rate },
  tenantLimits: { rateLimit: rate, burstLimit: rate, dailyQuota: 100_000_000 },
});
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const running = await startTarget();
const { restUrl, keyA } = running.target;
const base = restUrl.endsWith('/') ? restUrl : `${restUrl}/`;
const headers = { Authorization: `Bearer ${keyA}`, 'Content-Type': 'application/json' };

try {
  const data = Array.from({ length: 100 }, (_, i) => ({ x: [i, i % 7], y: 3 + 2 * i - (i % 7) }));
  const created = (await (await fetch(new URL('jobs', base), { method: 'POST', headers, body: JSON.stringify({ kind: 'LINEAR', data }) })).json()) as {
    jobId: string;
    modelId: string;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = (await (await fetch(new URL(`jobs/${created.jobId}`, base), { headers })).json()) as { status: string };
    if (job.status === 'COMPLETED') break;
    if (Date.now() > deadline || job.status === 'FAILED') throw new Error(`the model did not train: ${job.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const before = load();
  const result = await autocannon({
    url: new URL(`models/${created.modelId}/predict`, base).toString(),
    method: 'POST',
    headers,
    body: JSON.stringify({ x: [10, 3] }),
    connections,
    duration: seconds,
  });
  console.log(`POST /models/{id}/predict, ${connections} connections, ${seconds} s on the offline stack:`);
  console.log(
    `  ${result.requests.average.toFixed(0)} requests/s (total ${result.requests.total}), latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}`,
  );
  console.log(`  stage and tenant limits ${rate}/s; load average before ${before}, after ${load()}`);
  if (result.non2xx > 0 || result.errors > 0) {
    // A refused request is answered fast: the rate above would not be a rate of predictions.
    console.error(`  not a measurement: ${result.non2xx} answers were not 2xx and ${result.errors} requests failed (are the limits raised?)`);
    process.exitCode = 1;
  }
} finally {
  await running.stop();
}
