import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConsoleSync } from '../console/build.js';
import { CONSOLE_FRAME_OPTIONS, consoleContentSecurityPolicy } from '../console/security-headers.js';
import { close, LOOPBACK, listen } from './http-server.js';

/**
 * The console (console/) offline: built once at start with the project's esbuild
 * and served under /console/ on a port of its own, with the `config.json` the
 * page reads (this stack's REST and WebSocket URLs). On AWS the same files are
 * in a private bucket behind CloudFront (lib/console.ts). The page calls the API
 * cross-origin, as it does on AWS, so the REST API's CORS answers are exercised
 * offline too.
 */

export interface ConsoleConfig {
  apiUrl: string;
  webSocketUrl: string | null;
  maxDatasetBytes: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export async function startConsoleServer(options: {
  port: number;
  config: ConsoleConfig;
  /** Where the page uploads datasets (the S3 endpoint), besides the API URLs in `config`. */
  uploadUrl?: string | undefined;
}): Promise<{ url: string; close(): Promise<void> }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'regression-jobs-console-'));
  try {
    buildConsoleSync(directory);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const config = `${JSON.stringify(options.config)}\n`;
  const connectTo = [options.config.apiUrl, options.config.webSocketUrl, options.uploadUrl].filter((url): url is string => typeof url === 'string');
  const origins = [...new Set(connectTo.map((url) => new URL(url).origin))];
  // On every answer: no other site may frame any of the console's pages (the same headers CloudFront sends).
  const framing = { 'X-Frame-Options': CONSOLE_FRAME_OPTIONS, 'Content-Security-Policy': consoleContentSecurityPolicy(origins) };
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://console');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...framing, Allow: 'GET, HEAD' }).end();
      return;
    }
    if (pathname === '/' || pathname === '/console') {
      response.writeHead(302, { ...framing, Location: '/console/' }).end();
      return;
    }
    const headers = { ...framing, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' };
    if (pathname === '/console/config.json') {
      response.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(request.method === 'HEAD' ? undefined : config);
      return;
    }
    const name = pathname === '/console/' ? 'index.html' : pathname.startsWith('/console/') ? pathname.slice('/console/'.length) : '';
    const type = TYPES[path.extname(name)];
    // Only the build's own flat files: no path reaches outside the directory.
    if (!type || name.includes('/') || name.includes('\\')) {
      response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const content = await readFile(path.join(directory, name));
      response.writeHead(200, { ...headers, 'Content-Type': type }).end(request.method === 'HEAD' ? undefined : content);
    } catch {
      response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
    }
  });
  const port = await listen(server, options.port);
  return {
    url: `http://${LOOPBACK}:${port}/console/`,
    close: async () => {
      await close(server);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
