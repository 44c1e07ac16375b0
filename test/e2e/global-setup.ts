import type { TestProject } from 'vitest/node';
import { startTarget } from './target.js';

/** One target for the whole end-to-end run: started (or deployed) once, stopped at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const running = await startTarget();
  project.provide('e2eTarget', running.target);
  return () => running.stop();
}
