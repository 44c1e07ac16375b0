import { z } from 'zod';
import { CreateDatasetBody, CSV_DECIMALS, CSV_DELIMITERS, DATASET_STATUSES, type DatasetView, LEVELS_SHOWN } from '#domain/datasets.js';
import { JOB_STATUSES, type JobView, MODEL_STATUSES, type ModelView } from '#domain/jobs.js';
import { DEFAULT_LIMITS } from '#domain/limits.js';
import type { ServerMessage } from '#domain/realtime.js';
import { ALPHA_RANGE, createJobBodySchema, DatasetId, JobId, ListJobsQuery, ListQuery, MODEL_KINDS, ModelId, predictBodySchema } from '#domain/schemas.js';

/**
 * The shapes clients see, as zod schemas: the request schemas are the ones the
 * handlers validate with (src/domain/schemas.ts, at the default limits); the
 * response schemas describe the views the handlers build (src/domain/jobs.ts,
 * datasets.ts, realtime.ts), and the type checks at the end of this file fail the
 * build when a view and its schema drift apart. docs/openapi.json and
 * docs/asyncapi.json are generated from these (`npm run contract`).
 */

const EXAMPLE_JOB_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2C';
const EXAMPLE_MODEL_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2D';
const EXAMPLE_DATASET_ID = '01JH5Z3V8Q6K9W2X4Y7Z0A1B2E';

/**
 * Classic zod's `.meta()` for the handlers' own schemas, which are written with
 * `zod/mini` (src/domain/zod.ts) and have no such method: a copy of `schema` with
 * `meta` in zod's global registry, as `.meta()` makes it.
 */
function withMeta<S extends z.core.$ZodType>(schema: S, meta: z.core.GlobalMeta): S {
  const copy = z.core.clone(schema);
  z.globalRegistry.add(copy, meta);
  return copy;
}

const Timestamp = z.iso.datetime().meta({ description: 'ISO 8601, UTC' });

export const ModelKind = z
  .enum(MODEL_KINDS)
  .meta({ id: 'ModelKind', description: 'ordinary least squares, ridge (L2) or lasso (L1), with scikit-learn objectives' });
export const JobStatus = z.enum(JOB_STATUSES).meta({
  id: 'JobStatus',
  description: 'QUEUED -> RUNNING -> COMPLETED | FAILED | CANCELLED (QUEUED may also go straight to FAILED or CANCELLED); never backwards',
});
export const ModelStatus = z.enum(MODEL_STATUSES).meta({ id: 'ModelStatus' });
export const DatasetStatus = z.enum(DATASET_STATUSES).meta({ id: 'DatasetStatus', description: 'PENDING_UPLOAD -> VALIDATING -> READY | INVALID' });

export const JobIdParam = withMeta(JobId, { id: 'JobId', description: 'a job id (26-character ULID)', example: EXAMPLE_JOB_ID });
export const ModelIdParam = withMeta(ModelId, { id: 'ModelId', description: 'a model id (26-character ULID)', example: EXAMPLE_MODEL_ID });
export const DatasetIdParam = withMeta(DatasetId, { id: 'DatasetId', description: 'a dataset id (26-character ULID)', example: EXAMPLE_DATASET_ID });

const JobError = z.object({ code: z.string(), message: z.string() }).meta({
  id: 'JobError',
  description:
    'why the job FAILED: INSUFFICIENT_DATA, NUMERIC_OVERFLOW, INVALID_DATA, RANK_DEFICIENT (a LINEAR dataset job whose design has columns that are linear combinations of the others, named), DATASET_NOT_READY, TRAINING_ERROR, TRAINING_TIMEOUT, WORKFLOW_START_FAILED',
});

export const Job = z
  .object({
    jobId: JobIdParam,
    modelId: ModelIdParam,
    status: JobStatus,
    kind: ModelKind,
    alpha: z.number().positive().nullable().meta({ description: 'null for LINEAR' }),
    fitIntercept: z.boolean(),
    name: z.string().nullable(),
    progress: z.number().min(0).max(1).meta({ description: 'fraction of the training data read; only grows' }),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
    error: JobError.nullable(),
    attempts: z.number().int().min(0).meta({ description: 'training attempts made (a transient failure is retried up to 3 times)' }),
    datasetId: z.nullable(DatasetIdParam).meta({ description: 'the dataset trained on; null for inline data' }),
    alphas: z
      .array(z.number().positive())
      .nullable()
      .meta({ description: 'the regularisation path asked for (`alphas` in the request), or null for a job of one alpha' }),
    modelIds: z.array(ModelIdParam).min(1).meta({
      description:
        'every model of the job, in the order of `alphas` (`[modelId]` for one alpha; `modelId` is the first). The models past the first exist once the job is COMPLETED.',
    }),
    version: z
      .number()
      .int()
      .min(1)
      .meta({ description: '1 at creation, higher with every change: of two states of a job (REST or WebSocket), the one with the higher version is newer' }),
  })
  .meta({
    id: 'Job',
    description: 'A training job. GET /jobs/{jobId} and the WebSocket `job` message carry exactly this.',
    example: {
      jobId: EXAMPLE_JOB_ID,
      modelId: EXAMPLE_MODEL_ID,
      status: 'COMPLETED',
      kind: 'RIDGE',
      alpha: 0.5,
      fitIntercept: true,
      name: 'houses',
      progress: 1,
      createdAt: '2026-11-30T12:00:00.000Z',
      startedAt: '2026-11-30T12:00:00.400Z',
      finishedAt: '2026-11-30T12:00:01.100Z',
      error: null,
      attempts: 1,
      datasetId: null,
      alphas: null,
      modelIds: [EXAMPLE_MODEL_ID],
      version: 4,
    },
  });

const Statistic = z.number().nullable();
const ModelSummary = z
  .object({
    coefficients: z
      .array(
        z.object({
          term: z.string().meta({ description: '(Intercept), then the features' }),
          estimate: z.number(),
          stdError: Statistic,
          statistic: Statistic.meta({ description: 't = estimate / stdError' }),
          pValue: Statistic.meta({ description: 'two-sided, on dfResidual degrees of freedom' }),
          confLow: Statistic,
          confHigh: Statistic,
        }),
      )
      .meta({ description: "R's coefficient table (summary(lm), confint)" }),
    sigma: Statistic.meta({ description: 'residual standard error' }),
    dfResidual: z.number().int().min(0),
    r2: Statistic.meta({ description: 'uncentred without an intercept, as R' }),
    adjR2: Statistic,
    fStatistic: Statistic,
    fDf: z.object({ numerator: z.number().int().min(0), denominator: z.number().int().min(0) }),
    fPValue: Statistic,
    logLik: Statistic,
    aic: Statistic,
    bic: Statistic,
    nobs: z.number().int().min(0),
    level: z.number().gt(0).lt(1).meta({ description: "the confidence intervals' level (the job's `level`, default 0.95)" }),
    note: z.string().optional().meta({ description: 'why some statistics are null: no residual degrees of freedom, aliased columns, a perfect fit' }),
  })
  .meta({
    id: 'ModelSummary',
    description:
      "LINEAR models once TRAINED, as R's summary.lm computes it from the same fit (null for RIDGE and LASSO, whose penalised estimates have no such table)",
  });

export const Model = z
  .object({
    modelId: ModelIdParam,
    jobId: JobIdParam,
    status: ModelStatus,
    kind: ModelKind,
    alpha: z.number().positive().nullable(),
    fitIntercept: z.boolean(),
    coefficients: z.array(z.number()).meta({ description: 'one per feature, in `features` order; empty until TRAINED' }),
    intercept: z.number().nullable(),
    features: z.array(z.string()).meta({
      description:
        "one name per coefficient: x0, x1, … for inline data; for a dataset, each number column's name, and for a category column one name per level but the first, column + level, as R writes them (Speciesversicolor)",
    }),
    columns: z
      .array(z.string())
      .meta({ description: 'the dataset columns the model reads, in order (a prediction by `rows` names them); the features for inline data' }),
    levels: z.record(z.string(), z.array(z.string())).meta({ description: 'each category column with its levels, the reference first' }),
    rowsDropped: z.number().int().min(0).nullable().meta({ description: 'rows left out for a missing value in the target or a feature; null until TRAINED' }),
    summary: ModelSummary.nullable(),
    metrics: z
      .object({ n: z.number().int().min(0), r2: z.number(), rmse: z.number().min(0) })
      .nullable()
      .meta({ description: 'on the training data' }),
    createdAt: Timestamp,
    fittedAt: Timestamp.nullable(),
  })
  .meta({
    id: 'Model',
    example: {
      modelId: EXAMPLE_MODEL_ID,
      jobId: EXAMPLE_JOB_ID,
      status: 'TRAINED',
      kind: 'RIDGE',
      alpha: 0.5,
      fitIntercept: true,
      coefficients: [1.2, -0.4],
      intercept: 0.7,
      features: ['size', 'rooms'],
      columns: ['size', 'rooms'],
      levels: {},
      rowsDropped: 0,
      summary: null,
      metrics: { n: 4, r2: 0.98, rmse: 0.21 },
      createdAt: '2026-11-30T12:00:00.000Z',
      fittedAt: '2026-11-30T12:00:01.100Z',
    },
  });

const DatasetError = z
  .object({
    code: z.string(),
    message: z.string(),
    line: z.number().int().min(1).optional(),
    column: z.number().int().min(1).optional(),
  })
  .meta({ id: 'DatasetError', description: 'why the dataset is INVALID; `line` and `column` (1-based) point at the first problem' });

const CsvFormat = z
  .object({ delimiter: z.enum(CSV_DELIMITERS), decimal: z.enum(CSV_DECIMALS) })
  .meta({ id: 'CsvFormat', description: "the file's delimiter and decimal separator (POST /datasets `delimiter`, `decimal`)" });

const ColumnSchema = z
  .object({
    name: z.string().meta({ description: 'as in the header; `Unnamed: <i>` (0-based) for a column the header left without a name' }),
    type: z.enum(['number', 'category', 'text']).meta({
      description:
        'number: numbers and missing values; category: text with at most 100 distinct values (TRUE/FALSE included), one-hot in a job; text: identifiers, row names (a column without a header name), more distinct values, or numbers mixed with text: never a feature',
    }),
    missing: z.number().int().min(0).meta({ description: 'missing values (empty, NA, N/A, NaN, null, NULL, None, #N/A, … as pandas reads them)' }),
    generated: z.boolean().meta({ description: 'the header had no name here (R row names, a pandas index)' }),
    levelCount: z.number().int().min(1).nullable().meta({ description: 'categories: how many levels' }),
    levels: z
      .array(z.object({ value: z.string(), count: z.number().int().min(1) }))
      .nullable()
      .meta({ description: `categories: the first ${LEVELS_SHOWN} levels by code point (the first is the reference of a one-hot design), with their counts` }),
  })
  .meta({ id: 'ColumnSchema' });

export const Dataset = z
  .object({
    datasetId: DatasetIdParam,
    name: z.string().nullable(),
    status: DatasetStatus,
    sizeBytes: z.number().int().min(0).nullable(),
    rows: z.number().int().min(0).nullable(),
    columns: z.array(z.string()),
    format: CsvFormat,
    schema: z.array(ColumnSchema).nullable().meta({ description: 'each column as the scan learnt it; null until READY' }),
    error: DatasetError.nullable(),
    createdAt: Timestamp,
    validatedAt: Timestamp.nullable(),
    expiresAt: Timestamp,
  })
  .meta({ id: 'Dataset' });

const UploadExpiresAt = Timestamp.meta({ description: 'the upload (each part, for a multipart upload) must start before this (15 minutes)' });
const MaxBytes = z.number().int().positive().meta({ description: 'the largest dataset accepted, checked again after upload' });
export const PartUrl = z
  .object({
    partNumber: z.number().int().min(1).max(10_000),
    url: z.url().meta({
      description:
        "PUT the part here, its bytes as the body; keep the `ETag` header of the answer. The URL is signed for the part's exact length (partSizeBytes; the last part, the rest of the declared size): S3 refuses another length with 403 SignatureDoesNotMatch",
    }),
  })
  .meta({ id: 'PartUrl', description: 'a presigned UploadPart URL' });

export const DatasetPostUpload = Dataset.extend({
  uploadMethod: z.literal('POST'),
  uploadUrl: z.url().meta({ description: 'POST the form here: every `fields` entry, then the file as the last part, named `file`' }),
  fields: z.record(z.string(), z.string()).meta({ description: 'the presigned POST form fields, sent as they are' }),
  uploadExpiresAt: UploadExpiresAt,
  maxBytes: MaxBytes,
}).meta({
  id: 'DatasetPostUpload',
  description: 'A new dataset and its presigned POST upload (no `sizeBytes` declared, or at most the multipart threshold, 5 GiB)',
});

export const DatasetMultipartUpload = Dataset.extend({
  uploadMethod: z.literal('MULTIPART'),
  partSizeBytes: z.number().int().positive().meta({ description: 'every part but the last has exactly this many bytes' }),
  partCount: z.number().int().min(1).max(1_000),
  parts: z.array(PartUrl).meta({ description: 'one URL per part, 1..partCount' }),
  uploadExpiresAt: UploadExpiresAt,
  maxBytes: MaxBytes,
}).meta({
  id: 'DatasetMultipartUpload',
  description:
    'A new dataset and its S3 multipart upload (a declared `sizeBytes` above the threshold): PUT each part to its URL, then POST /datasets/{datasetId}/complete with every ETag. GET /datasets/{datasetId}/parts resumes it.',
});

export const DatasetUpload = z
  .discriminatedUnion('uploadMethod', [DatasetPostUpload, DatasetMultipartUpload])
  .meta({ id: 'DatasetUpload', description: 'A new dataset and how to upload it: one presigned POST, or parts' });

export const UploadedPart = z
  .object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string(), sizeBytes: z.number().int().min(0) })
  .meta({ id: 'UploadedPart', description: 'a part S3 holds already' });

export const UploadParts = z
  .object({
    datasetId: DatasetIdParam,
    partSizeBytes: z.number().int().positive(),
    partCount: z.number().int().min(1).max(1_000),
    uploaded: z.array(UploadedPart).meta({ description: 'the parts S3 holds, by part number: their ETags go to /complete as they are' }),
    parts: z.array(PartUrl).meta({ description: 'fresh URLs for every part not uploaded yet' }),
    uploadExpiresAt: UploadExpiresAt,
  })
  .meta({ id: 'UploadParts', description: 'Where a multipart upload stands, to resume it' });

export const JobPage = z
  .object({ items: z.array(Job), nextToken: z.string().nullable().meta({ description: 'pass as `nextToken` for the next page; null on the last' }) })
  .meta({ id: 'JobPage' });
export const ModelPage = z.object({ items: z.array(Model), nextToken: z.string().nullable() }).meta({ id: 'ModelPage' });

export const Prediction = z
  .object({
    modelId: ModelIdParam,
    predictions: z.array(z.number()).meta({ description: 'one per input, in input order' }),
    value: z.number().optional().meta({ description: 'the single prediction, when the request had `x`' }),
    timestamp: Timestamp,
  })
  .meta({ id: 'Prediction', example: { modelId: EXAMPLE_MODEL_ID, predictions: [21], value: 21, timestamp: '2026-11-30T12:00:02.000Z' } });

export const Health = z.object({ status: z.literal('ok'), version: z.string() }).meta({ id: 'Health' });
export const Readiness = z
  .object({
    status: z.literal('ready'),
    version: z.string(),
    checks: z.object({ dynamodb: z.literal('ok'), s3: z.literal('ok'), stepfunctions: z.literal('ok') }),
  })
  .meta({ id: 'Readiness', description: 'GET /health?deep=true: every dependency answered within a second' });

export const JobEvent = z
  .object({
    type: z.enum(['CREATED', 'STATUS_CHANGED', 'RETRIED']),
    at: Timestamp,
    from: z.enum(JOB_STATUSES).nullable().meta({ description: 'null for CREATED' }),
    to: z.enum(JOB_STATUSES),
    attempt: z.number().int().min(0).meta({ description: 'the training attempt the job was on (0 before the first)' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    progress: z.number().min(0).max(1),
  })
  .meta({ id: 'JobEvent', description: "One entry of a job's history: a status change or a retried training attempt" });
export const JobEventPage = z
  .object({ items: z.array(JobEvent), nextToken: z.string().nullable().meta({ description: 'pass as `nextToken` for the next page; null on the last' }) })
  .meta({ id: 'JobEventPage' });

/* Requests: the handlers' own schemas, at the default limits. */

export const CreateJobRequest = withMeta(createJobBodySchema(DEFAULT_LIMITS), {
  id: 'CreateJobRequest',
  description:
    'Exactly one of `data` (inline points, at most 10,000, every value a finite number) or `datasetId` + `target`. `alpha` is not allowed for LINEAR; for RIDGE and LASSO it defaults to 1.0, ' +
    `and it (like each value of \`alphas\`) is from ${ALPHA_RANGE.min} to ${ALPHA_RANGE.max}. ` +
    'With `datasetId`, `target` is a number column and `features` picks the columns the model uses: number and category columns (a category is one-hot, its first level the reference, as R\'s treatment contrasts), distinct, not the target; default: every other number and category column, in header order. `level` (LINEAR only, between 0 and 1, default 0.95): the confidence level of the model\'s coefficient table. `missing`: "drop" (default) leaves out the rows with a missing value in the target or a feature, as R\'s na.omit; "error" refuses the job (400) when those columns have any. `alphas` (instead of `alpha`, at most 100 values) fits one model per value in one job: the job lists them in `modelIds`.',
  example: {
    kind: 'RIDGE',
    alpha: 0.5,
    data: [
      { x: [0, 1], y: 1 },
      { x: [1, 0], y: 2 },
      { x: [2, 2], y: 4 },
    ],
  },
});
export const PredictRequest = withMeta(predictBodySchema(DEFAULT_LIMITS), {
  id: 'PredictRequest',
  description:
    'Exactly one of `x` (one input: a number for a one-feature model, or an array, one value per coefficient), `inputs` (at most 10,000 of them), or `rows` (at most 10,000 objects by column name, e.g. `{"Sepal.Width": 3, "Species": "setosa"}`: a number for a number column, a level for a category; the model\'s `columns` and `levels` say which; other keys are ignored). A missing column, an unknown level or a value of the wrong type is a 400 VALIDATION_ERROR naming it, as is an input whose prediction overflows double precision.',
  example: { x: [1.5, 0.5] },
});
export const CreateDatasetRequest = withMeta(CreateDatasetBody, {
  description:
    "Optional. `name`: a label. `sizeBytes`: the size of the file in bytes; above the multipart threshold (5 GiB by default) the upload is in parts. `delimiter` (`,` `;` tab `|`, default `,`) and `decimal` (`.` or `,`, default `.`): how the file is written, e.g. `;` and `,` for R's write.csv2 and European spreadsheets. A gzip-compressed file is recognised by its first bytes and read in one range.",
});
export { CompleteUploadBody as CompleteUploadRequest } from '#domain/datasets.js';
export { ListJobsQuery, ListQuery };

/* Errors. */

export const FieldIssue = z.object({ path: z.string(), message: z.string() }).meta({ id: 'FieldIssue', description: 'one failing field' });

/** `{"error":{"code","message","details"?}}`, every error of the API, whoever answers it (handler or API Gateway). */
export function errorSchema(codes?: readonly [string, ...string[]]) {
  return z.object({
    error: z.object({
      code: codes ? z.enum(codes) : z.string().regex(/^[A-Z][A-Z0-9_]*$/),
      message: z.string(),
      details: z.array(FieldIssue).optional().meta({ description: 'VALIDATION_ERROR: every failing field' }),
    }),
  });
}

export const ErrorBody = errorSchema().meta({
  id: 'Error',
  description: 'Every error: a stable UPPER_SNAKE code, a message for humans, and for VALIDATION_ERROR the failing fields',
});

/* WebSocket messages. */

export const SubscribeMessage = z
  .object({
    action: z.literal('subscribe'),
    jobId: z.nullable(JobIdParam).optional().meta({ description: 'one job; without it (or null) every job of the caller' }),
  })
  .meta({ id: 'SubscribeMessage' });
export const UnsubscribeMessage = z
  .object({ action: z.literal('unsubscribe'), jobId: z.nullable(JobIdParam).optional().meta({ description: 'without it: the all-jobs subscription' }) })
  .meta({ id: 'UnsubscribeMessage' });

export const JobMessage = z.object({ type: z.literal('job'), job: Job }).meta({ id: 'JobMessage' });
export const SubscribedMessage = z.object({ type: z.literal('subscribed'), jobId: z.null() }).meta({ id: 'SubscribedMessage' });
export const UnsubscribedMessage = z.object({ type: z.literal('unsubscribed'), jobId: z.nullable(JobIdParam) }).meta({ id: 'UnsubscribedMessage' });
export const WEBSOCKET_ERROR_CODES = ['UNKNOWN_ACTION', 'NOT_FOUND', 'CONNECTION_CLOSED', 'INTERNAL_ERROR'] as const;
export const ErrorMessage = z.object({ type: z.literal('error'), code: z.enum(WEBSOCKET_ERROR_CODES), message: z.string() }).meta({
  id: 'ErrorMessage',
  description:
    'UNKNOWN_ACTION: not JSON, or no known action; NOT_FOUND: no such job of yours (as GET answers it); CONNECTION_CLOSED: the connection is closing, connect again; INTERNAL_ERROR: retry',
});
export const ServerMessageSchema = z.discriminatedUnion('type', [JobMessage, SubscribedMessage, UnsubscribedMessage, ErrorMessage]);

/*
 * Drift checks: each view type must be assignable to its schema and back, so a
 * field added to a view without its schema (or the reverse) fails `tsc`.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
export type ContractDriftChecks = [
  Check<Same<JobView, z.output<typeof Job>>>,
  Check<Same<ModelView, z.output<typeof Model>>>,
  Check<Same<DatasetView, z.output<typeof Dataset>>>,
  Check<Same<Exclude<ServerMessage, { type: 'job' | 'error' }>, Exclude<z.output<typeof ServerMessageSchema>, { type: 'job' | 'error' }>>>,
];
