import { randomUUID } from 'node:crypto';
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { close, LOOPBACK, listen, readBody } from '../http-server.js';
import { accessKeyOfRequest, type LocalIam } from '../iam/policy.js';
import { JSON_SERVICE_AUTHENTICATION_ERRORS } from '../iam/sigv4.js';
import { traceRequests } from '../trace.js';

/**
 * DynamoDB's front door for the functions: every call must be signed by a key the
 * stack issued (local/iam/sigv4.ts) and is checked against the caller's role
 * (local/iam/policy.ts) before it reaches DynamoDB Local, which checks nothing. A
 * refused call answers what DynamoDB answers: HTTP 400 with a
 * `MissingAuthenticationTokenException`, `UnrecognizedClientException`,
 * `InvalidSignatureException` or `AccessDeniedException`.
 */

export interface Requirement {
  action: string;
  resource: string;
}

const TableNamed = z.object({ TableName: z.string() }).loose();
const ItemRequest = z.object({ TableName: z.string(), IndexName: z.string().optional() }).loose();
const TransactWrite = z.object({
  TransactItems: z.array(
    z.object({ Put: TableNamed.optional(), Update: TableNamed.optional(), Delete: TableNamed.optional(), ConditionCheck: TableNamed.optional() }),
  ),
});
const TransactGet = z.object({ TransactItems: z.array(z.object({ Get: TableNamed })) });
const Batch = z.object({ RequestItems: z.record(z.string(), z.unknown()) });

const TRANSACT_WRITE_ACTIONS = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' } as const;

/**
 * The actions and resources one DynamoDB request needs, as IAM evaluates them: a
 * transaction needs each of its items' own actions, a batch its action on each
 * table, a Query or Scan of an index the index's ARN.
 */
export function dynamoDbRequirements(operation: string, body: unknown, tableArn: (table: string) => string): Requirement[] {
  switch (operation) {
    case 'TransactWriteItems':
      return TransactWrite.parse(body).TransactItems.flatMap((item) =>
        Object.entries(TRANSACT_WRITE_ACTIONS).flatMap(([kind, action]) => {
          const target = item[kind as keyof typeof item];
          return target ? [{ action: `dynamodb:${action}`, resource: tableArn(target.TableName) }] : [];
        }),
      );
    case 'TransactGetItems':
      return TransactGet.parse(body).TransactItems.map((item) => ({ action: 'dynamodb:GetItem', resource: tableArn(item.Get.TableName) }));
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(Batch.parse(body).RequestItems).map((table) => ({ action: `dynamodb:${operation}`, resource: tableArn(table) }));
    default: {
      const parsed = ItemRequest.safeParse(body);
      if (!parsed.success) return [{ action: `dynamodb:${operation}`, resource: '*' }];
      const { TableName, IndexName } = parsed.data;
      return [{ action: `dynamodb:${operation}`, resource: IndexName ? `${tableArn(TableName)}/index/${IndexName}` : tableArn(TableName) }];
    }
  }
}

export interface DynamoDbFront {
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynamoDbFront(options: { upstream: string; iam: LocalIam; region: string; accountId: string }): Promise<DynamoDbFront> {
  const upstream = new URL(options.upstream);
  const tableArn = (table: string) => `arn:aws:dynamodb:${options.region}:${options.accountId}:table/${table}`;

  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const { body } = await readBody(request, 64 * 1024 * 1024);
    // Only the functions call this endpoint, each signing with its own key: anything else is refused as DynamoDB refuses it.
    const authentication = options.iam.authenticate({ method: request.method ?? 'POST', url: request.url ?? '/', headers: request.headers, body });
    if (!authentication.ok) {
      response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': randomUUID() });
      response.end(
        JSON.stringify({ __type: `com.amazon.coral.service#${JSON_SERVICE_AUTHENTICATION_ERRORS[authentication.reason]}`, Message: authentication.message }),
      );
      return;
    }
    const operation = /^DynamoDB_\d+\.(\w+)$/.exec(String(request.headers['x-amz-target'] ?? ''))?.[1];
    const accessKeyId = accessKeyOfRequest(request.headers, request.url);
    if (operation !== undefined && options.iam.principalOf(accessKeyId)) {
      let requirements: Requirement[];
      try {
        requirements = dynamoDbRequirements(operation, JSON.parse(body.toString('utf8')) as unknown, tableArn);
      } catch {
        requirements = []; // not JSON: DynamoDB Local answers the SerializationException itself
      }
      for (const { action, resource } of requirements) {
        const decision = options.iam.authorize(accessKeyId, action, resource);
        if (!decision.allowed) {
          response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': randomUUID() });
          response.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: decision.message }));
          return;
        }
      }
    }
    const outgoing = forward(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on('error', (error) => {
      // DynamoDB Local is gone or reset the connection: the SDK sees what a dropped connection looks like.
      response.destroy(error);
    });
    // A caller that gave up (its SDK timeout) does not leave a request waiting on a paused DynamoDB Local.
    response.on('close', () => outgoing.destroy());
    outgoing.end(body);
  };

  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => response.destroy(error instanceof Error ? error : new Error(String(error))));
  });
  traceRequests(server, 'dynamodb', (request) => ({
    caller: options.iam.principalOf(accessKeyOfRequest(request.headers, request.url))?.functionName,
    detail: { operation: /^DynamoDB_\d+\.(\w+)$/.exec(String(request.headers['x-amz-target'] ?? ''))?.[1] },
  }));
  const port = await listen(server, 0);
  return { endpoint: `http://${LOOPBACK}:${port}`, close: () => close(server) };
}
