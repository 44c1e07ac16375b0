/**
 * Predict throughput and latency on the offline stack under load (autocannon):
 * trains one model, then sends single-input predictions for a fixed time.
 *
 *   npx tsx bench/predict-load.ts [seconds=15] [connections=10]
 */
import autocannon from 'autocannon';
import { startTarget } from '../test/e2e/target.js';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 10);
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
} finally {
  await running.stop();
}
