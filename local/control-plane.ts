import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { close, listen, readBody } from './http-server.js';

/**
 * The few AWS control-plane calls operators make against a running stack, answered
 * for the local one on loopback, so `npm run api-key` and `npm run sweep` run the
 * same code offline as on AWS, only with another endpoint:
 *
 * - API Gateway's `FlushStageAuthorizersCache`
 *   (`DELETE /restapis/{restApiId}/stages/{stageName}/cache/authorizers`, what
 *   `@aws-sdk/client-api-gateway` sends): the local REST gateway forgets its cached
 *   authorizer answers, so a revoked key is refused on its next request.
 * - `POST /local/schedules/{ruleLogicalId}/run`: runs a scheduled rule's target
 *   now (EventBridge has no such call; the local scheduler stands in for the rule).
 *
 * Its callers are the operator's scripts, which hold no role of the template, so
 * nothing here is checked against IAM (as API Gateway's own console calls are not).
 */

export interface ControlPlaneOptions {
  restApi: { apiId: string; stageName: string; flushAuthorizerCache(): number };
  /** Runs a scheduled rule's target now; answers false for an unknown rule. */
  runSchedule?: (ruleLogicalId: string) => Promise<boolean>;
  log?: (line: string) => void;
}

export interface ControlPlane {
  endpoint: string;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, body?: unknown, errorType?: string): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}) });
  response.end(body === undefined ? '' : JSON.stringify(body));
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => undefined);
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    await readBody(request, 64 * 1024);
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const flush = /^\/restapis\/([^/]+)\/stages\/([^/]+)\/cache\/authorizers$/.exec(path);
    if (flush && request.method === 'DELETE') {
      const [, apiId, stageName] = flush;
      if (apiId !== options.restApi.apiId || stageName !== options.restApi.stageName) {
        return reply(response, 404, { message: `Invalid stage identifier specified: ${apiId}/${stageName}` }, 'NotFoundException');
      }
      const flushed = options.restApi.flushAuthorizerCache();
      log(`[apigateway] authorizer cache of stage ${stageName} flushed (${flushed} answers)`);
      return reply(response, 202);
    }
    const schedule = /^\/local\/schedules\/([^/]+)\/run$/.exec(path);
    if (schedule?.[1] && request.method === 'POST' && options.runSchedule) {
      const ran = await options.runSchedule(decodeURIComponent(schedule[1]));
      return ran
        ? reply(response, 200, { ran: schedule[1] })
        : reply(response, 404, { message: `no scheduled rule ${schedule[1]}` }, 'ResourceNotFoundException');
    }
    return reply(response, 404, { message: `no such control-plane call: ${request.method} ${path}` }, 'NotFoundException');
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`[control] ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) reply(response, 500, { message: 'internal error' }, 'InternalFailure');
    });
  });
  const port = await listen(server, 0);
  return { endpoint: `http://127.0.0.1:${port}`, close: () => close(server) };
}
