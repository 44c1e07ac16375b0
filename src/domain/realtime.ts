import { NotFound } from './errors.js';
import { JOB_STATUSES, type JobRecord, type JobView } from './jobs.js';
import { JobId, MODEL_KINDS, TenantId } from './schemas.js';
import * as z from './zod.js';

/**
 * The WebSocket protocol (docs/asyncapi.json): what a client may send, what the server
 * answers, and how long a subscription lives. Pure: the Lambda adapters parse
 * frames and stream records with these schemas and send these messages.
 */

/**
 * API Gateway closes every WebSocket connection after two hours, so nothing a
 * connection owns may outlive that: its items expire with it even when
 * $disconnect never runs ($disconnect is best effort).
 */
export const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60;

/** When the items of a connection opened at `connectedAtMs` (epoch ms, as API Gateway reports it) expire, in epoch seconds. */
export function connectionExpiresAt(connectedAtMs: number): number {
  return Math.floor(connectedAtMs / 1000) + CONNECTION_LIFETIME_SECONDS;
}

/** A subscription names one job, or every job of the caller (`null`). */
export type SubscriptionTarget = string | null;

/**
 * `jobId` is checked apart from the frame: a missing or null one means "all my
 * jobs", and one that is not an id this API hands out is answered like an unknown
 * job (NOT_FOUND), exactly as `GET /jobs/{jobId}` answers it.
 */
const SubscriptionFrame = z.object({ jobId: z.optional(z.unknown()) });

export function subscriptionTarget(frame: unknown): SubscriptionTarget {
  const parsed = SubscriptionFrame.safeParse(frame);
  const jobId = parsed.success ? parsed.data.jobId : undefined;
  if (jobId === undefined || jobId === null) return null;
  const id = JobId.safeParse(jobId);
  if (!id.success) throw new NotFound('job');
  return id.data;
}

/** A frame is JSON text; anything else (binary, invalid JSON) has no action. */
export function parseFrame(body: string | undefined, isBase64Encoded = false): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body) as unknown;
  } catch {
    return undefined;
  }
}

const ActionFrame = z.object({ action: z.string().check(z.maxLength(100)) });

/** The error a frame no route understood gets: invalid JSON, no action, or an unknown one. */
export function unknownActionError(frame: unknown): ErrorMessage {
  const parsed = ActionFrame.safeParse(frame);
  const message = parsed.success
    ? `unknown action "${parsed.data.action}": send {"action":"subscribe","jobId"?} or {"action":"unsubscribe","jobId"?}`
    : 'a message must be a JSON object with an "action": "subscribe" or "unsubscribe"';
  return { type: 'error', code: 'UNKNOWN_ACTION', message };
}

/* Messages the server sends. */

export interface JobMessage {
  type: 'job';
  job: JobView;
}

export interface SubscribedMessage {
  type: 'subscribed';
  jobId: null;
}

export interface UnsubscribedMessage {
  type: 'unsubscribed';
  jobId: SubscriptionTarget;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

export type ServerMessage = JobMessage | SubscribedMessage | UnsubscribedMessage | ErrorMessage;

/**
 * A job item as the Jobs table stores it, for records that arrive without the
 * store in between (stream images). Parsing it before building the view means a
 * malformed item fails its record loudly instead of reaching a client half-built.
 */
const StoredJobError = z.object({ code: z.string(), message: z.string() });

export const StoredJob: z.ZodMiniType<JobRecord> = z.object({
  tenantId: TenantId,
  jobId: JobId,
  modelId: z.string(),
  status: z.enum(JOB_STATUSES),
  kind: z.enum(MODEL_KINDS),
  alpha: z.nullable(z.number()),
  fitIntercept: z.boolean(),
  name: z.optional(z.string()),
  progress: z.number().check(z.gte(0), z.lte(1)),
  createdAt: z.string(),
  startedAt: z.nullable(z.string()),
  finishedAt: z.nullable(z.string()),
  error: z.nullable(StoredJobError),
  attempts: z.number().check(z.int(), z.gte(0)),
  executionArn: z.string(),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('inline'), key: z.string(), rows: z.number().check(z.int()) }),
    z.object({ type: z.literal('dataset'), datasetId: z.string(), target: z.string() }),
  ]),
  expiresAt: z.number(),
  // Items written before versions existed read as version 0, older than any versioned state.
  version: z._default(z.number().check(z.int(), z.gte(0)), 0),
});
