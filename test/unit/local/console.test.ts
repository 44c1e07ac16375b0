import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer } from '../../../local/console.js';

/** The offline console's answers: no other site may frame it, and the page may connect only where the stack is. */

describe('the offline console server', () => {
  let server: Awaited<ReturnType<typeof startConsoleServer>>;

  beforeAll(async () => {
    server = await startConsoleServer({
      port: 0,
      config: { apiUrl: 'http://127.0.0.1:4000', webSocketUrl: 'ws://127.0.0.1:4001/v1', maxDatasetBytes: 1024 },
      uploadUrl: 'http://127.0.0.1:4100',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it.each(['', 'config.json', 'console.js', 'console.css', 'missing.html'])(
    'sends X-Frame-Options DENY and frame-ancestors none with /console/%s',
    async (name) => {
      const response = await fetch(`${server.url}${name}`);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    },
  );

  it('sends them with the redirect to /console/ too', async () => {
    const response = await fetch(new URL('/', server.url), { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('lets the page connect only to itself, the REST and WebSocket APIs and the upload endpoint', async () => {
    const response = await fetch(server.url);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self' http://127.0.0.1:4000 ws://127.0.0.1:4001 http://127.0.0.1:4100; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });
});

describe('the offline console server, with the API and uploads on one origin', () => {
  it('names that origin once in connect-src, without the paths', async () => {
    const server = await startConsoleServer({
      port: 0,
      config: { apiUrl: 'http://127.0.0.1:4000/prod/', webSocketUrl: null, maxDatasetBytes: 1024 },
      uploadUrl: 'http://127.0.0.1:4000/uploads',
    });
    try {
      const policy = (await fetch(server.url)).headers.get('content-security-policy') ?? '';
      expect(policy.split('; ').find((directive) => directive.startsWith('connect-src '))).toBe("connect-src 'self' http://127.0.0.1:4000");
    } finally {
      await server.close();
    }
  }, 60_000);
});
