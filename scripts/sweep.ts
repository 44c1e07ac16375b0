/**
 * Runs the stranded-jobs sweeper of the running local stack now (`npm start` runs
 * it every SCHEDULE_SECONDS anyway), and waits for it to finish:
 *
 *   npm run sweep
 *
 * On AWS the stack's schedule runs it every five minutes; to run it at once there,
 * invoke its function (`aws lambda invoke --function-name <SweepJobsFunction> out.json`).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const LOCAL_STATE_FILE = new URL('../.local-stack.json', import.meta.url);

async function main(): Promise<void> {
  let controlEndpoint: string;
  try {
    const file = process.env.LOCAL_STACK_FILE ?? LOCAL_STATE_FILE;
    controlEndpoint = z.object({ controlEndpoint: z.string() }).parse(JSON.parse(await readFile(file, 'utf8'))).controlEndpoint;
  } catch {
    throw new Error('no local stack is running (start it with `npm start`)');
  }
  const response = await fetch(`${controlEndpoint}/local/schedules/all/run`, { method: 'POST' });
  if (!response.ok) throw new Error(`the local stack could not run its schedules: ${response.status} ${await response.text()}`);
  console.log('Swept: the sweeper ran (its log lines are in the stack’s output)');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
