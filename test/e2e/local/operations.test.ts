import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { target } from '../client.js';
import { type LocalChild, startLocalChild } from '../target.js';

/**
 * What an operator does to a running stack, on a stack of its own: key revocation
 * that takes effect on the next request (README: API keys) and the readiness probe.
 */

const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let child: LocalChild;

async function call(method: string, path: string, key?: string) {
  const response = await fetch(`${child.state.restUrl}${path}`, { method, headers: key === undefined ? {} : { Authorization: `Bearer ${key}` } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** `npm run api-key -- <args>` against this test's stack; answers its exit code and output. */
async function apiKey(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const process_ = spawn(process.execPath, ['--import', 'tsx', 'scripts/api-key.ts', ...args], {
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

describe.skipIf(target.name !== 'local')('operating the offline stack', () => {
  beforeAll(async () => {
    child = await startLocalChild();
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

  it('refuses bad arguments with one clear line', async () => {
    const unknown = await apiKey('revoke', 'key_0000000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^no API key with id or tenant "key_0000000000000000" on the local stack \(http:\/\/127\.0\.0\.1:\d+\)\n$/);
    expect((await apiKey('create', 'acme', '--expires', 'yesterday')).stderr.trim()).toBe(
      '--expires must be an ISO date (2027-01-31) or a whole number of days >= 1; got "yesterday"',
    );
    expect((await apiKey('create', 'acme', '--expires', '2020-01-01')).stderr.trim()).toBe('--expires must lie in the future; got 2020-01-01T00:00:00.000Z');
  });
});
