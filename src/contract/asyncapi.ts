import { z } from 'zod';
import { ErrorMessage, JobMessage, SubscribedMessage, SubscribeMessage, UnsubscribedMessage, UnsubscribeMessage } from './schemas.js';

/**
 * The WebSocket API's AsyncAPI 3 document, built from the zod schemas in
 * ./schemas.ts (the same `Job` as the OpenAPI document). `npm run contract` writes
 * it to docs/asyncapi.json; a unit test fails when the committed file differs.
 */

const REF_PREFIX = '#/components/schemas/';

type JsonSchema = Record<string, unknown>;

/** Every schema the payloads reach through `$ref`, as JSON Schema draft-07 (AsyncAPI's own schema format). */
function componentSchemas(payloads: readonly z.ZodType[]): Record<string, JsonSchema> {
  const all = (
    z.toJSONSchema(z.globalRegistry, { target: 'draft-7', io: 'output', uri: (id) => `${REF_PREFIX}${id}` }) as { schemas: Record<string, JsonSchema> }
  ).schemas;
  const wanted = new Set<string>();
  const visit = (id: string) => {
    if (wanted.has(id)) return;
    const schema = all[id];
    if (!schema) throw new Error(`the AsyncAPI document references ${id}, which has no schema`);
    wanted.add(id);
    for (const match of JSON.stringify(schema).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) visit(match[1] as string);
  };
  for (const payload of payloads) visit(idOf(payload));
  const schemas: Record<string, JsonSchema> = {};
  for (const id of [...wanted].sort()) {
    const { $schema: _draft, id: _id, ...schema } = all[id] as JsonSchema;
    schemas[id] = schema;
  }
  return schemas;
}

function idOf(schema: z.ZodType): string {
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id !== 'string') throw new Error('every message payload needs a meta id');
  return id;
}

interface MessageSpec {
  payload: z.ZodType;
  name: string;
  summary: string;
  example?: unknown;
}

const MESSAGES: Record<string, MessageSpec> = {
  subscribe: {
    payload: SubscribeMessage,
    name: 'subscribe',
    summary: 'Follow one job (`jobId`) or every job of the caller (no `jobId`)',
    example: { action: 'subscribe', jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C' },
  },
  unsubscribe: {
    payload: UnsubscribeMessage,
    name: 'unsubscribe',
    summary: 'Stop following one job, or (without `jobId`) the all-jobs subscription',
    example: { action: 'unsubscribe', jobId: '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C' },
  },
  job: {
    payload: JobMessage,
    name: 'job',
    summary:
      "A job's full state: the answer to a subscribe with `jobId`, then one on every change. At least once, in order per job; keep the highest `version` (or the most advanced status and progress).",
  },
  subscribed: {
    payload: SubscribedMessage,
    name: 'subscribed',
    summary: 'The answer to a subscribe without `jobId`: every change of any of your jobs follows',
    example: { type: 'subscribed', jobId: null },
  },
  unsubscribed: {
    payload: UnsubscribedMessage,
    name: 'unsubscribed',
    summary: 'The answer to an unsubscribe (also when there was nothing to undo)',
    example: { type: 'unsubscribed', jobId: null },
  },
  error: {
    payload: ErrorMessage,
    name: 'error',
    summary: 'A frame the server could not act on',
    example: { type: 'error', code: 'UNKNOWN_ACTION', message: 'a message must be a JSON object with an "action": "subscribe" or "unsubscribe"' },
  },
};

/** The messages the server may send, by their `type`. */
export const SERVER_MESSAGE_TYPES = ['job', 'subscribed', 'unsubscribed', 'error'] as const;

const messageRef = (name: string) => ({ $ref: `#/channels/jobs/messages/${name}` });

export function buildAsyncApiDocument(version: string) {
  const messages = Object.fromEntries(
    Object.entries(MESSAGES).map(([key, spec]) => [
      key,
      {
        name: spec.name,
        title: spec.name,
        summary: spec.summary,
        contentType: 'application/json',
        payload: { $ref: `${REF_PREFIX}${idOf(spec.payload)}` },
        ...(spec.example === undefined ? {} : { examples: [{ name: spec.name, payload: spec.example }] }),
      },
    ]),
  );
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'regression-jobs live job status',
      version,
      description:
        'Watch training jobs live. Connect with the API key as `?token=` (browsers cannot set headers on a WebSocket); a missing or unknown key is refused with HTTP 401 during the handshake. ' +
        'Every message is one JSON text frame. API Gateway closes a connection after 10 idle minutes and after 2 hours: reconnect and subscribe again (the first answer covers the gap). ' +
        'The REST API is described by docs/openapi.json; rules that are not schemas by docs/rules.md.',
      license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      aws: {
        host: '{apiId}.execute-api.{region}.amazonaws.com',
        pathname: '/v1',
        protocol: 'wss',
        description: 'a deployed stack (its WebSocketUrl output)',
        variables: { apiId: { default: 'abc123defg' }, region: { default: 'eu-west-1' } },
        security: [{ $ref: '#/components/securitySchemes/token' }],
      },
      offline: {
        host: '127.0.0.1:4001',
        protocol: 'ws',
        description: 'the offline stack (npm start)',
        security: [{ $ref: '#/components/securitySchemes/token' }],
      },
    },
    channels: {
      jobs: {
        address: '/',
        title: 'job status',
        description: 'The one channel of a connection: what the client sends and what the server answers or pushes.',
        messages: Object.fromEntries(Object.keys(MESSAGES).map((key) => [key, { $ref: `#/components/messages/${key}` }])),
        bindings: {
          ws: {
            query: {
              type: 'object',
              properties: { token: { type: 'string', description: 'an API key (rj_…)' } },
              required: ['token'],
            },
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations: {
      subscribe: {
        action: 'send',
        channel: { $ref: '#/channels/jobs' },
        summary: 'Subscribe to one job or to all of yours',
        messages: [messageRef('subscribe')],
        reply: { channel: { $ref: '#/channels/jobs' }, messages: [messageRef('job'), messageRef('subscribed'), messageRef('error')] },
      },
      unsubscribe: {
        action: 'send',
        channel: { $ref: '#/channels/jobs' },
        summary: 'Undo a subscribe',
        messages: [messageRef('unsubscribe')],
        reply: { channel: { $ref: '#/channels/jobs' }, messages: [messageRef('unsubscribed'), messageRef('error')] },
      },
      receiveJob: {
        action: 'receive',
        channel: { $ref: '#/channels/jobs' },
        summary: 'Every change of a subscribed job',
        messages: [messageRef('job')],
      },
      receiveError: {
        action: 'receive',
        channel: { $ref: '#/channels/jobs' },
        summary: 'The answer to a frame with no known action (or not JSON)',
        messages: [messageRef('error')],
      },
    },
    components: {
      schemas: componentSchemas(Object.values(MESSAGES).map((spec) => spec.payload)),
      messages,
      securitySchemes: { token: { type: 'httpApiKey', name: 'token', in: 'query', description: 'an API key (rj_…); `npm run api-key` makes one' } },
    },
  };
}
