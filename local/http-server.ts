import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Everything the local stack serves listens on loopback only. */
export const LOOPBACK = '127.0.0.1';

/** Listens on `port` (0: any free one) and answers the port actually bound. */
export async function listen(server: Server, port: number): Promise<number> {
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
