/**
 * Time from `POST /jobs` to the COMPLETED WebSocket message, for 1,000-row jobs on
 * the offline stack (started here as `npm start` starts it). Prints median and p99.
 *
 *   npx tsx bench/job-latency.ts [jobs=40]
 */
import WebSocket from 'ws';
import { startTarget } from '../test/e2e/target.js';

const jobs = Number(process.argv[2] ?? 40);
const running = await startTarget();
const { restUrl, wsUrl, keyA } = running.target;
if (!wsUrl) throw new Error('this target has no WebSocket API');

const rows = Array.from({ length: 1000 }, (_, i) => {
  const x = [i / 100, Math.sin(i), (i % 13) - 6];
  return { x, y: 1 + 2 * x[0]! - x[1]! + 0.5 * x[2]! };
});
const body = JSON.stringify({ kind: 'RIDGE', alpha: 0.1, data: rows });

const socket = new WebSocket(`${wsUrl}?token=${keyA}`);
await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
const completed = new Map<string, (at: number) => void>();
socket.on('message', (data) => {
  const message = JSON.parse(String(data)) as { type: string; job?: { jobId: string; status: string } };
  if (message.type === 'job' && message.job?.status === 'COMPLETED') completed.get(message.job.jobId)?.(performance.now());
});
socket.send(JSON.stringify({ action: 'subscribe' })); // every job of the caller: no race with the job's creation
await new Promise((resolve) => socket.once('message', resolve));

const latencies: number[] = [];
try {
  for (let i = 0; i < jobs; i++) {
    const started = performance.now();
    const response = await fetch(new URL('jobs', restUrl.endsWith('/') ? restUrl : `${restUrl}/`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${keyA}`, 'Content-Type': 'application/json' },
      body,
    });
    const { jobId } = (await response.json()) as { jobId: string };
    const finishedAt = await new Promise<number>((resolve, reject) => {
      completed.set(jobId, resolve);
      setTimeout(() => reject(new Error(`job ${jobId} did not complete within 30 s`)), 30_000).unref();
    });
    latencies.push(finishedAt - started);
  }
} finally {
  socket.close();
  await running.stop();
}

latencies.sort((a, b) => a - b);
const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
console.log(`${jobs} jobs of 1,000 rows x 3 features, POST /jobs -> COMPLETED over WebSocket, one at a time:`);
console.log(
  `  median ${quantile(0.5).toFixed(0)} ms, p99 ${quantile(0.99).toFixed(0)} ms, min ${latencies[0]!.toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
);
