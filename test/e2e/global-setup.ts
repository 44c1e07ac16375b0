import type { TestProject } from 'vitest/node';
import { describeSkips } from './checks.js';
import { startTarget, TargetUnavailable } from './target.js';

/**
 * One target for the whole end-to-end run: started (or deployed) once, stopped at
 * the end. The run's first lines say what is skipped on it and why. A target that
 * cannot be reached ends the run at once with one line saying what to do.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let running: Awaited<ReturnType<typeof startTarget>>;
  try {
    running = await startTarget();
  } catch (error) {
    if (!(error instanceof TargetUnavailable)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  for (const line of describeSkips(running.target.label, running.target.skips)) console.log(line);
  project.provide('e2eTarget', running.target);
  return () => running.stop();
}
