import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { close, LOOPBACK, listen } from '../../../local/http-server.js';

/** Requests Node's HTTP parser refuses, answered by every server `listen` starts. */

let server: Server;
let port: number;

beforeEach(async () => {
  server = createServer((_request, response) => response.end('{"ok":true}'));
  port = await listen(server, 0);
});
afterEach(async () => {
  await close(server);
});

/** Sends `raw` as it is and answers everything the server wrote before closing the connection. */
async function send(raw: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const socket = connect(port, LOOPBACK);
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {}); // the server may reset after answering; what it wrote is what counts
  socket.write(raw);
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('listen: requests the HTTP parser refuses get the error shape', () => {
  it('answers a header over the limit with 431 REQUEST_HEADER_FIELDS_TOO_LARGE, as JSON, and closes', async () => {
    const reply = await send(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(reply.status).toBe(431);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers.connection).toBe('close');
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.body));
    expect(JSON.parse(reply.body)).toEqual({ error: { code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'the request line and headers are too large' } });
  });

  it('answers a request line over the limit the same way', async () => {
    const reply = await send(`GET /?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(reply.status).toBe(431);
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'REQUEST_HEADER_FIELDS_TOO_LARGE' } });
  });

  it.each([
    ['a request line that is not HTTP', 'HELLO\r\n\r\n'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n'],
    ['two Content-Length headers that disagree', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
  ])('answers %s with 400 BAD_REQUEST, as JSON', async (_, raw) => {
    const reply = await send(raw);
    expect(reply.status).toBe(400);
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    expect(JSON.parse(reply.body)).toEqual({ error: { code: 'BAD_REQUEST', message: 'the request is not valid HTTP' } });
  });

  it('still serves a well-formed request', async () => {
    const reply = await send('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('{"ok":true}');
  });
});
