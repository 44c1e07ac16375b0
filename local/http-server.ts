import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** Everything the local stack serves listens on loopback only. */
export const LOOPBACK = '127.0.0.1';

/** What Node's HTTP parser refuses before any handler sees the request, by its error code; anything else is a 400. */
const REFUSED: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'the request line and headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'the chunk extensions of the request body are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' },
};
const MALFORMED = { status: 400, code: 'BAD_REQUEST', message: 'the request is not valid HTTP' };

/**
 * Node's own answer to a request its parser refuses (an oversized request line or
 * header, a malformed request) is a bare status line. This one has the error shape
 * of every other answer (`{"error":{"code","message"}}`, docs/openapi.json), so a
 * client reads it like any 4xx, and closes the connection, as Node's does: the
 * parser cannot tell where the next request would start.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // No one to read an answer (the connection is gone), or an answer already under way on it (Node's own
  // `_httpMessage`, the response in flight): writing now would corrupt it, so the connection just closes, as Node does.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, code, message } = REFUSED[error.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json\r\n' +
      // As the gateways' own error answers: a page on another origin (the console) can read it.
      'Access-Control-Allow-Origin: *\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** Listens on `port` (0: any free one) and answers the port actually bound; requests the parser refuses get answerClientError. */
export async function listen(server: Server, port: number): Promise<number> {
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops accepting, drops idle keep-alive connections, and waits for the server to close. */
export async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}

/**
 * Reads a request body, keeping at most `limit` bytes. A longer body is still read
 * to its end (so the client can read the answer) but not kept: `tooLarge` says so.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks), tooLarge: size > limit };
}
