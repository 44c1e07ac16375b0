import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { target } from './client.js';

/**
 * The `rj` CLI (client/cli.ts) as a user runs it: a child process against the
 * target, configured only by RJ_API_URL, RJ_WS_URL and RJ_API_KEY.
 */

const RJ = path.resolve(import.meta.dirname, '../../client/bin/rj.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `rj args`; `env` adds to (or, with undefined, removes from) the target's settings. */
export function start(args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  const base = { RJ_API_URL: target.restUrl, RJ_API_KEY: target.keyA, RJ_WS_URL: target.wsUrl };
  const merged: Record<string, string | undefined> = { ...process.env, ...base, ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  return spawn(process.execPath, [RJ, ...args], { env: merged as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The run's exit code and output, once it has exited. */
export async function finished(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export const rj = (args: string[], env?: Record<string, string | undefined>) => finished(start(args, env));
