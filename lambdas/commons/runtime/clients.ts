import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients, created once per container and reused across invocations. Endpoints
 * come only from the standard AWS_ENDPOINT_URL[_<SERVICE>] variables, so the same
 * code talks to AWS, LocalStack or the offline stack.
 */

/**
 * Every client's time budget. A call that gets no answer gives up after
 * `requestTimeout` (no data for that long) and is tried `maxAttempts` times in
 * all, so a dependency that hangs costs a request about 2 x 3 s, well under the
 * API functions' 10 s: the caller gets a 503 with Retry-After (http.ts) instead of
 * a gateway timeout. For a stream (an S3 object being read) the timeout is between
 * chunks, not for the whole body. `throwOnRequestTimeout`: without it the Node
 * handler of this SDK version only logs a warning when `requestTimeout` passes and
 * keeps waiting.
 */
export const CLIENT_DEFAULTS = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
} as const;

/*
 * Each client is marked pure (`@__PURE__`) and given its settings as they are (a
 * spread could run getters, which esbuild must keep): a bundle whose handler never
 * uses a client (get-job and Step Functions) drops it and its SDK package instead
 * of creating it at every cold start. The SDK copies the settings it is given.
 */
export const dynamodb = /* @__PURE__ */ new DynamoDBClient(CLIENT_DEFAULTS);

/**
 * Functions that no client waits on (training, the workflow's last resort, the
 * notifier) are patient instead: a slow dependency costs them time, not the job.
 * They give up after 10 s without an answer and try three times; their own
 * timeouts (15 minutes, 30 s) and the workflow's Retry bound the rest.
 */
export const BACKGROUND_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

/*
 * Numbers are JSON numbers (doubles) end to end: one beyond 2^53 is stored as it is
 * rather than refused, and read back as a number rather than as a wrapped string.
 */
const translation = {
  marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
  unmarshallOptions: { wrapNumbers: (value: string) => Number(value) },
};

export const documents = /* @__PURE__ */ DynamoDBDocumentClient.from(dynamodb, translation);

/** The document client of the background functions (BACKGROUND_CLIENT_DEFAULTS). */
export const backgroundDocuments = /* @__PURE__ */ DynamoDBDocumentClient.from(/* @__PURE__ */ new DynamoDBClient(BACKGROUND_CLIENT_DEFAULTS), translation);

export const stepFunctions = /* @__PURE__ */ new SFNClient(CLIENT_DEFAULTS);
