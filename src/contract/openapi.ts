import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import {
  CompleteUploadRequest,
  CreateDatasetRequest,
  CreateJobRequest,
  Dataset,
  DatasetIdParam,
  DatasetUpload,
  ErrorBody,
  errorSchema,
  Health,
  Job,
  JobEventPage,
  JobIdParam,
  JobPage,
  ListJobsQuery,
  ListQuery,
  Model,
  ModelIdParam,
  ModelPage,
  Prediction,
  PredictRequest,
  Readiness,
  UploadParts,
} from './schemas.js';

/**
 * The REST API's OpenAPI 3.1 document, built from the zod schemas in ./schemas.ts.
 * `npm run contract` writes it to docs/openapi.json; a unit test fails when the
 * committed file differs from what this builds.
 */

type Codes = readonly [string, ...string[]];

const json = (schema: z.core.$ZodType) => ({ content: { 'application/json': { schema } } });

const RetryAfter = z.object({
  'Retry-After': z.string().regex(/^\d+$/).meta({ description: 'seconds to wait before retrying' }),
});

/**
 * An error response: `id` names it under components.responses (and its body schema
 * under components.schemas) when it is shared; a route's own error stays inline.
 */
function error(description: string, codes: Codes, options: { id?: string; headers?: z.ZodObject } = {}) {
  const schema = options.id ? errorSchema(codes).meta({ id: `${options.id}Error` }) : errorSchema(codes);
  return {
    ...(options.id ? { id: options.id } : {}),
    description: `${description} (${codes.join(', ')})`,
    ...json(schema),
    ...(options.headers ? { headers: options.headers } : {}),
  };
}

const Unauthorized = error('missing or unknown API key', ['UNAUTHORIZED'], { id: 'Unauthorized' });
const PayloadTooLarge = error('the request body is too large', ['PAYLOAD_TOO_LARGE'], { id: 'PayloadTooLarge' });
const RateLimited = error(
  "too many requests for the tenant's usage plan (rate, burst or daily quota) or the stage: retry after Retry-After seconds",
  ['RATE_LIMITED'],
  {
    id: 'RateLimited',
    headers: RetryAfter,
  },
);
const InternalError = error('a handler or the authorizer failed unexpectedly', ['INTERNAL_ERROR'], { id: 'Internal' });
const BadGateway = error('the handler crashed, ran out of time or memory, or answered nothing valid: retry', ['BAD_GATEWAY'], { id: 'BadGateway' });
const ServiceUnavailable = error('a dependency could not serve the request in time: retry after Retry-After seconds', ['SERVICE_UNAVAILABLE'], {
  id: 'ServiceUnavailable',
  headers: RetryAfter,
});
const GatewayTimeout = error('the handler did not answer within 29 s, or could not be reached: retry', ['INTEGRATION_TIMEOUT', 'INTEGRATION_FAILURE'], {
  id: 'GatewayTimeout',
});
const NotFound = error("no such resource of yours (another tenant's is never revealed), or no such route", ['NOT_FOUND'], { id: 'NotFound' });
/**
 * What the HTTP server refuses before any route reads the request (local/http-server.ts): a request that is not
 * valid HTTP is 400 BAD_REQUEST on every route, so each route's own 400 lists that code too; a request line and
 * headers over the server's limit are 431.
 */
const BAD_REQUEST = 'BAD_REQUEST';
const BadRequest = error('the request is not valid HTTP', [BAD_REQUEST], { id: 'BadRequest' });
const HeadersTooLarge = error('the request line and headers are too large', ['REQUEST_HEADER_FIELDS_TOO_LARGE'], { id: 'HeadersTooLarge' });
const InvalidBody = error('the request is invalid; `details` lists every failing field', ['INVALID_JSON', 'VALIDATION_ERROR', BAD_REQUEST], {
  id: 'InvalidBody',
});
const OtherError = { id: 'OtherError', description: 'any other status API Gateway answers by itself, in the same shape', ...json(ErrorBody) };
const InvalidQuery = error('the query is invalid; `details` lists every failing field', ['VALIDATION_ERROR', BAD_REQUEST], { id: 'InvalidQuery' });

/**
 * Responses any route may give, most of them from API Gateway itself (the
 * gateway responses in lib/rest-api.ts answer them in the same error shape).
 */
function commonErrors({ auth, body }: { auth: boolean; body: boolean }): ZodOpenApiResponsesObject {
  return {
    '400': BadRequest,
    ...(auth ? { '401': Unauthorized } : {}),
    '404': NotFound,
    ...(body ? { '413': PayloadTooLarge } : {}),
    '429': RateLimited,
    '431': HeadersTooLarge,
    '500': InternalError,
    '502': BadGateway,
    '503': ServiceUnavailable,
    '504': GatewayTimeout,
    default: OtherError,
  };
}

function operation(
  options: Omit<ZodOpenApiOperationObject, 'responses'> & { responses: ZodOpenApiResponsesObject; auth?: boolean; body?: boolean },
): ZodOpenApiOperationObject {
  const { auth = true, body = false, responses, ...rest } = options;
  return {
    ...rest,
    ...(auth ? {} : { security: [] }),
    responses: { ...commonErrors({ auth, body }), ...responses },
  };
}

const jobPath = z.object({ jobId: JobIdParam });
const modelPath = z.object({ modelId: ModelIdParam });
const datasetPath = z.object({ datasetId: DatasetIdParam });

const IdempotencyKeyHeader = z.object({
  'Idempotency-Key': z.string().min(1).max(255).optional().meta({
    description: 'the same key and body within 24 h answers the same job (202 again); the same key with another body is 409. Per tenant.',
    example: 'houses-2026-11-30',
  }),
});
const Location = (description: string) => z.object({ Location: z.string().meta({ description }) });

/**
 * A point's `x` is preprocessed (a bare number is one feature) before the array
 * schema checks it, and JSON Schema cannot say "preprocess": in requests, say
 * "a number, or an array of numbers" instead of the array alone.
 */
const acceptsBareNumber: NonNullable<Parameters<typeof createDocument>[1]>['override'] = ({ jsonSchema, zodSchema, io }) => {
  const def = zodSchema._zod.def as { type: string; in?: { _zod: { def: { type: string } } } };
  if (io !== 'input' || def.type !== 'pipe' || def.in?._zod.def.type !== 'transform' || jsonSchema.type !== 'array') return;
  const array = { ...jsonSchema };
  for (const key of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[key];
  jsonSchema.anyOf = [{ type: 'number', description: 'one feature' }, array];
};

export const API_TITLE = 'regression-jobs';

export function buildOpenApiDocument(version: string) {
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version,
        description:
          'Train regression models (ordinary least squares, ridge, lasso) as asynchronous jobs and predict with them synchronously. ' +
          'Watch jobs live over the WebSocket API (docs/asyncapi.json). Rules that are not schemas (job states, idempotency, limits, retention): docs/rules.md.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [
        {
          url: 'https://{apiId}.execute-api.{region}.amazonaws.com/v1',
          description: 'a deployed stack (its ApiUrl output)',
          variables: { apiId: { default: 'abc123defg' }, region: { default: 'eu-west-1' } },
        },
        { url: 'http://127.0.0.1:4000', description: 'the offline stack (npm start)' },
      ],
      security: [{ apiKey: [] }],
      tags: [
        { name: 'jobs', description: 'training jobs' },
        { name: 'models', description: 'trained models and predictions' },
        { name: 'datasets', description: 'CSV uploads to train on' },
        { name: 'service', description: 'health and this document' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'an API key (rj_…) as `Authorization: Bearer <key>`; `npm run api-key` makes one' },
        },
      },
      paths: {
        '/health': {
          get: operation({
            operationId: 'getHealth',
            tags: ['service'],
            summary: 'Liveness, or readiness with deep=true',
            description:
              'Without `deep`: liveness, touching nothing. With `deep=true`: readiness, asking DynamoDB, S3 and Step Functions, each within a second.',
            auth: false,
            requestParams: { query: z.object({ deep: z.enum(['true', 'false']).optional().meta({ description: 'check the dependencies too' }) }) },
            responses: {
              '200': { description: 'the service answers (and, with deep=true, every dependency too)', ...json(z.union([Health, Readiness])) },
              '503': error('deep=true: a dependency did not answer within a second; `details` names each one that failed', ['SERVICE_UNAVAILABLE']),
            },
          }),
        },
        '/openapi.json': {
          get: operation({
            operationId: 'getOpenApiDocument',
            tags: ['service'],
            summary: 'This document',
            auth: false,
            responses: {
              '200': {
                description: 'the OpenAPI document of this API',
                content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } },
              },
            },
          }),
        },
        '/jobs': {
          post: operation({
            operationId: 'createJob',
            tags: ['jobs'],
            summary: 'Create a training job',
            description: 'Trains asynchronously: poll GET /jobs/{jobId} or subscribe over the WebSocket API.',
            body: true,
            requestParams: { header: IdempotencyKeyHeader },
            requestBody: { required: true, ...json(CreateJobRequest) },
            responses: {
              '202': {
                description: 'the job, QUEUED (or as the first request with this Idempotency-Key left it)',
                ...json(Job),
                headers: Location('the job: /jobs/{jobId}'),
              },
              '400': InvalidBody,
              '409': error(
                'the Idempotency-Key was used with another body, or its first request is still in progress (retry after Retry-After), or the dataset is not READY',
                ['IDEMPOTENCY_CONFLICT', 'IDEMPOTENCY_IN_PROGRESS', 'DATASET_NOT_READY'],
                { headers: RetryAfter.partial() },
              ),
              '503': error(
                'the training workflow could not be started (the job is FAILED; submit again), or a dependency could not serve the request (retry after Retry-After)',
                ['WORKFLOW_START_FAILED', 'SERVICE_UNAVAILABLE'],
                { headers: RetryAfter.partial() },
              ),
              '429': error('too many jobs queued or running for this key, or too many requests', ['TOO_MANY_ACTIVE_JOBS', 'RATE_LIMITED']),
            },
          }),
          get: operation({
            operationId: 'listJobs',
            tags: ['jobs'],
            summary: 'List jobs, newest first',
            requestParams: { query: ListJobsQuery },
            responses: { '200': { description: 'a page of jobs', ...json(JobPage) }, '400': InvalidQuery },
          }),
        },
        '/jobs/{jobId}': {
          get: operation({
            operationId: 'getJob',
            tags: ['jobs'],
            summary: 'A job',
            requestParams: { path: jobPath },
            responses: { '200': { description: 'the job', ...json(Job) } },
          }),
        },
        '/jobs/{jobId}/events': {
          get: operation({
            operationId: 'listJobEvents',
            tags: ['jobs'],
            summary: "A job's history, oldest first",
            description: 'Every status change and retried training attempt, recorded from the jobs stream: the latest may appear a moment after the change.',
            requestParams: { path: jobPath, query: ListQuery },
            responses: { '200': { description: 'a page of events', ...json(JobEventPage) }, '400': InvalidQuery },
          }),
        },
        '/jobs/{jobId}/cancel': {
          post: operation({
            operationId: 'cancelJob',
            tags: ['jobs'],
            summary: 'Cancel a QUEUED or RUNNING job',
            requestParams: { path: jobPath },
            responses: {
              '202': { description: 'the job, CANCELLED (its model FAILED)', ...json(Job) },

              '409': error('the job already ended', ['JOB_NOT_CANCELLABLE']),
            },
          }),
        },
        '/models': {
          get: operation({
            operationId: 'listModels',
            tags: ['models'],
            summary: 'List models',
            requestParams: { query: ListQuery },
            responses: { '200': { description: 'a page of models', ...json(ModelPage) }, '400': InvalidQuery },
          }),
        },
        '/models/{modelId}': {
          get: operation({
            operationId: 'getModel',
            tags: ['models'],
            summary: 'A model',
            requestParams: { path: modelPath },
            responses: { '200': { description: 'the model', ...json(Model) } },
          }),
        },
        '/models/{modelId}/predict': {
          post: operation({
            operationId: 'predict',
            tags: ['models'],
            summary: 'Predict with a TRAINED model',
            body: true,
            requestParams: { path: modelPath },
            requestBody: { required: true, ...json(PredictRequest) },
            responses: {
              '200': { description: 'the predictions', ...json(Prediction) },
              '400': InvalidBody,

              '409': error('the model is not TRAINED', ['MODEL_NOT_READY']),
            },
          }),
        },
        '/datasets': {
          post: operation({
            operationId: 'createDataset',
            tags: ['datasets'],
            summary: 'Create a dataset and its upload',
            description:
              'Declare the file size in `sizeBytes`. Up to the multipart threshold (5 GiB by default), or without `sizeBytes`, the answer is a presigned POST (`uploadMethod: POST`): upload the CSV to `uploadUrl` with `fields`. Above it, a multipart upload (`uploadMethod: MULTIPART`): PUT each part to its URL, then POST /datasets/{datasetId}/complete with every ETag. Then poll GET /datasets/{datasetId} until READY.',
            body: true,
            requestBody: { required: false, ...json(CreateDatasetRequest) },
            responses: {
              '201': {
                description: 'the dataset, PENDING_UPLOAD, and its upload',
                ...json(DatasetUpload),
                headers: Location('the dataset: /datasets/{datasetId}'),
              },
              '400': error('the request is invalid, or `sizeBytes` is above the limit (`maxBytes`)', [
                'INVALID_JSON',
                'VALIDATION_ERROR',
                'DATASET_TOO_LARGE',
                BAD_REQUEST,
              ]),
            },
          }),
        },
        '/datasets/{datasetId}/parts': {
          get: operation({
            operationId: 'getUploadParts',
            tags: ['datasets'],
            summary: 'Resume a multipart upload',
            description:
              'The parts S3 holds already (with their ETags) and fresh presigned URLs for the others: an interrupted upload goes on without sending a part twice.',
            requestParams: { path: datasetPath },
            responses: {
              '200': { description: 'the upload so far', ...json(UploadParts) },
              '409': error('the dataset is not uploaded in parts, its upload is complete, or the upload was aborted or expired (create a new dataset)', [
                'NOT_A_MULTIPART_UPLOAD',
                'UPLOAD_ALREADY_COMPLETE',
                'UPLOAD_EXPIRED',
              ]),
            },
          }),
        },
        '/datasets/{datasetId}/complete': {
          post: operation({
            operationId: 'completeUpload',
            tags: ['datasets'],
            summary: 'Complete a multipart upload',
            description:
              'Every part, 1..partCount in order, with the ETag its PUT answered. The object is then validated like a POST upload: poll GET /datasets/{datasetId} until READY.',
            body: true,
            requestParams: { path: datasetPath },
            requestBody: { required: true, ...json(CompleteUploadRequest) },
            responses: {
              '200': { description: 'the dataset, its upload complete (PENDING_UPLOAD or VALIDATING)', ...json(Dataset) },
              '400': error(
                'the body is invalid; or a part is missing, out of order, not uploaded or with another ETag (INVALID_PART, INVALID_PART_ORDER), or a part but the last is shorter than partSizeBytes (PART_TOO_SMALL); or a part S3 holds is longer than the declared size allows (PART_TOO_LARGE: the upload is aborted, create a new dataset)',
                ['INVALID_JSON', 'VALIDATION_ERROR', 'INVALID_PART', 'INVALID_PART_ORDER', 'PART_TOO_SMALL', 'PART_TOO_LARGE', BAD_REQUEST],
              ),
              '409': error(
                'the dataset is not uploaded in parts, its upload is complete already, or the upload was aborted or expired (create a new dataset)',
                ['NOT_A_MULTIPART_UPLOAD', 'UPLOAD_ALREADY_COMPLETE', 'UPLOAD_EXPIRED'],
              ),
            },
          }),
        },
        '/datasets/{datasetId}': {
          get: operation({
            operationId: 'getDataset',
            tags: ['datasets'],
            summary: 'A dataset',
            requestParams: { path: datasetPath },
            responses: { '200': { description: 'the dataset', ...json(Dataset) } },
          }),
        },
      },
    },
    { outputIdSuffix: 'Response', override: acceptsBareNumber },
  );
}
