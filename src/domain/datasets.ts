import type { InvalidCsv, NumericCsvSink, RowCells } from './csv.js';
import { type CsvFormat, DEFAULT_CSV_FORMAT } from './csv.js';
import { Conflict, NotFound, TrainingFailed, ValidationFailed } from './errors.js';
import { RegressionAccumulator } from './regression.js';
import type { ColumnSchema } from './schema.js';
import * as z from './zod.js';

/**
 * Uploaded CSV datasets: their lifecycle, the S3 key layout, and the public view.
 *
 *   PENDING_UPLOAD --(object created)--> VALIDATING --> READY | INVALID
 *
 * A dataset is validated once, for the first object uploaded to its key; training
 * reads that exact object (pinned by its ETag), so an overwrite after validation can
 * never be trained unchecked.
 */

export const DATASET_STATUSES = ['PENDING_UPLOAD', 'VALIDATING', 'READY', 'INVALID'] as const;
export type DatasetStatus = (typeof DATASET_STATUSES)[number];

/** Why a dataset is INVALID; `line` and `column` (1-based) point at the first problem. */
export interface DatasetError {
  code: string;
  message: string;
  line?: number;
  column?: number;
}

/** A dataset as stored. */
export interface DatasetRecord {
  tenantId: string;
  datasetId: string;
  name?: string;
  status: DatasetStatus;
  /** The S3 object key, always under the tenant's own prefix. */
  key: string;
  sizeBytes: number | null;
  rows: number | null;
  columns: string[];
  error: DatasetError | null;
  /** ETag of the object that was validated; training reads only that object. */
  etag?: string;
  /** The S3 key of the statistics the scan computed from that object (src/domain/range-scan.ts); every READY dataset has one. */
  statisticsKey?: string;
  /** The size the client declared when it created the dataset (absent for datasets created without one). */
  declaredSizeBytes?: number;
  /** Set when the upload is an S3 multipart upload (a declared size above the single-POST threshold). */
  multipart?: MultipartUploadRecord;
  /** How the file is written: its delimiter and decimal separator (absent: comma and point). */
  format?: CsvFormat;
  /** Each column's type, missing values and levels, learnt by the scan (absent on datasets scanned before schemas: every column a number). */
  schema?: ColumnSchema[];
  /** Set when the object was gzip-compressed: it was read as one range. */
  compression?: 'gzip';
  createdAt: string;
  validatedAt: string | null;
  /** Epoch seconds: the table's TTL attribute. */
  expiresAt: number;
}

/** A multipart upload: S3's upload id, the part size the server chose, and when `POST …/complete` completed it. */
export interface MultipartUploadRecord {
  uploadId: string;
  partSizeBytes: number;
  partCount: number;
  completedAt: string | null;
}

export interface DatasetView {
  datasetId: string;
  name: string | null;
  status: DatasetStatus;
  sizeBytes: number | null;
  rows: number | null;
  columns: string[];
  format: CsvFormat;
  schema: ColumnSchemaView[] | null;
  error: DatasetError | null;
  createdAt: string;
  validatedAt: string | null;
  expiresAt: string;
}

export function toDatasetView(dataset: DatasetRecord): DatasetView {
  return {
    datasetId: dataset.datasetId,
    name: dataset.name ?? null,
    status: dataset.status,
    sizeBytes: dataset.sizeBytes,
    rows: dataset.rows,
    columns: dataset.columns,
    format: dataset.format ?? DEFAULT_CSV_FORMAT,
    schema: dataset.status === 'READY' ? schemaOfDataset(dataset).map(toColumnSchemaView) : null,
    error: dataset.error,
    createdAt: dataset.createdAt,
    validatedAt: dataset.validatedAt,
    expiresAt: new Date(dataset.expiresAt * 1000).toISOString(),
  };
}

/** The delimiters and decimal separators a dataset may be written with (POST /datasets `delimiter`, `decimal`). */
export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const satisfies readonly CsvFormat['delimiter'][];
export const CSV_DECIMALS = ['.', ','] as const satisfies readonly CsvFormat['decimal'][];

/** Datasets are kept a week by default: long enough to train several models, short enough not to hoard data. */
export const DEFAULT_DATASET_RETENTION_DAYS = 7;

/**
 * How long a presigned upload may start. The POST policy is signed with the create
 * function's temporary credentials, and a signature is worth nothing once they
 * expire, which may come well before an hour: 15 minutes stays inside them. An
 * upload that misses it is refused by S3; the client creates a new upload to retry
 * (docs/design.md, Large datasets).
 */
export const UPLOAD_URL_TTL_SECONDS = 15 * 60;

/** The dataset expires when it is due, even before DynamoDB's TTL sweep (which may lag by days) removes it. */
export function isExpired(dataset: Pick<DatasetRecord, 'expiresAt'>, now: Date = new Date()): boolean {
  return dataset.expiresAt * 1000 <= now.getTime();
}

/**
 * `POST /datasets` body: optional. `sizeBytes`, the size of the file to upload, chooses the upload: above the
 * single-POST threshold the answer is a multipart upload (docs/design.md, Large datasets). Without it, a presigned POST.
 */
export const CreateDatasetBody = z
  .strictObject({
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
    sizeBytes: z.optional(z.number().check(z.int(), z.positive(), z.lte(Number.MAX_SAFE_INTEGER))),
    delimiter: z.optional(z.enum(CSV_DELIMITERS)),
    decimal: z.optional(z.enum(CSV_DECIMALS)),
  })
  .check(
    z.refine((body) => !(body.decimal === ',' && (body.delimiter ?? ',') === ','), {
      path: ['decimal'],
      message: 'a decimal comma needs another delimiter (";" as R\'s write.csv2 writes)',
    }),
  );

/**
 * A dataset's schema: the one its scan learnt, or, for a dataset scanned before
 * schemas existed (which only took numbers), every column a number without missing values.
 */
export function schemaOfDataset(dataset: Pick<DatasetRecord, 'columns' | 'schema'>): ColumnSchema[] {
  return dataset.schema ?? dataset.columns.map((name) => ({ name, type: 'number', missing: 0 }));
}

/** Levels shown of a category in the dataset's view; every level is kept and used. */
export const LEVELS_SHOWN = 20;

export interface ColumnSchemaView {
  name: string;
  type: ColumnSchema['type'];
  missing: number;
  generated: boolean;
  /** Categories: how many levels, and the first LEVELS_SHOWN of them with their counts. */
  levelCount: number | null;
  levels: { value: string; count: number }[] | null;
}

function toColumnSchemaView(column: ColumnSchema): ColumnSchemaView {
  return {
    name: column.name,
    type: column.type,
    missing: column.missing,
    generated: column.generated === true,
    levelCount: column.levels ? column.levels.length : null,
    levels: column.levels ? column.levels.slice(0, LEVELS_SHOWN) : null,
  };
}

/** S3's multipart limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 of them. */
export const S3_MULTIPART = { minPartBytes: 5 * 1024 * 1024, maxPartBytes: 5 * 1024 * 1024 * 1024, maxParts: 10_000 } as const;

/** The most one presigned POST (one PUT) may carry: 5 GiB. */
export const SINGLE_UPLOAD_MAX_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * At most this many parts per upload, so that one answer carries a presigned URL for every part and stays far below
 * Lambda's 6 MB response limit (a URL is about 1 KB). 1,000 parts of 5 GiB (5,000 GiB) bound the dataset size limit.
 */
export const MAX_UPLOAD_PARTS = 1_000;

/** How uploads are chosen: the stack props of lib/datasets.ts, given to the functions as environment variables. */
export interface UploadSettings {
  /** Above this many bytes, a multipart upload; at or below it, a presigned POST. */
  multipartThresholdBytes: number;
  /** The part size the server starts from; larger when the file would need more than MAX_UPLOAD_PARTS parts. */
  partSizeBytes: number;
}

export type UploadPlan = { method: 'POST' } | { method: 'MULTIPART'; partSizeBytes: number; partCount: number };

const MIB = 1024 * 1024;

/** The upload for a file of `sizeBytes` (undefined: not declared, so a presigned POST). */
export function planUpload(sizeBytes: number | undefined, settings: UploadSettings): UploadPlan {
  if (sizeBytes === undefined || sizeBytes <= settings.multipartThresholdBytes) return { method: 'POST' };
  let partSizeBytes = settings.partSizeBytes;
  if (Math.ceil(sizeBytes / partSizeBytes) > MAX_UPLOAD_PARTS) partSizeBytes = Math.ceil(sizeBytes / MAX_UPLOAD_PARTS / MIB) * MIB;
  return { method: 'MULTIPART', partSizeBytes, partCount: Math.ceil(sizeBytes / partSizeBytes) };
}

/** The caller's dataset with a multipart upload still open, or the 404 / 409 that says why not. */
export function openUpload(dataset: DatasetRecord | undefined): MultipartUploadRecord {
  if (!dataset) throw new NotFound('dataset');
  if (!dataset.multipart) throw new Conflict('NOT_A_MULTIPART_UPLOAD', 'this dataset is uploaded with a presigned POST, not in parts');
  if (dataset.multipart.completedAt !== null || dataset.status !== 'PENDING_UPLOAD') {
    throw new Conflict('UPLOAD_ALREADY_COMPLETE', 'the upload of this dataset is complete');
  }
  return dataset.multipart;
}

/** `POST /datasets/{datasetId}/complete` body: every part, in order, with the ETag S3 answered for it. */
export const CompleteUploadBody = z.strictObject({
  parts: z
    .array(
      z.strictObject({
        partNumber: z.number().check(z.int(), z.gte(1), z.lte(S3_MULTIPART.maxParts)),
        etag: z.string().check(z.minLength(1), z.maxLength(200)),
      }),
    )
    .check(z.minLength(1), z.maxLength(S3_MULTIPART.maxParts)),
});
export type CompletedPart = z.infer<typeof CompleteUploadBody>['parts'][number];

/**
 * The parts must be exactly 1..partCount, in order: the size declared at creation fixed their number, so a list with
 * one missing, repeated or out of order is refused before S3 is asked. Answers what is wrong, or undefined.
 */
export function checkPartList(parts: readonly CompletedPart[], partCount: number): { path: string; message: string } | undefined {
  for (const [index, part] of parts.entries()) {
    if (part.partNumber !== index + 1)
      return { path: `parts.${index}.partNumber`, message: `must be ${index + 1}: parts are numbered 1..${partCount}, in order` };
  }
  if (parts.length !== partCount) return { path: 'parts', message: `the upload has ${partCount} parts; ${parts.length} were given` };
  return undefined;
}

/** The error a dataset is marked INVALID with. */
export function datasetErrorOf(error: InvalidCsv): DatasetError {
  return {
    code: error.code,
    message: error.message,
    ...(error.line === undefined ? {} : { line: error.line }),
    ...(error.column === undefined ? {} : { column: error.column }),
  };
}

/** Features are the dataset's columns but the target, in header order. */
export function featuresOf(columns: readonly string[], target: string): string[] {
  if (!columns.includes(target)) {
    throw new ValidationFailed('target is not a column of the dataset', [
      { path: 'target', message: `must be one of the dataset's columns: ${columns.slice(0, 20).join(', ')}${columns.length > 20 ? ', …' : ''}` },
    ]);
  }
  return columns.filter((column) => column !== target);
}

/**
 * A CSV sink that feeds every row into a regression accumulator: the target column
 * is y, the others (in header order) are x. The header must be the one validated.
 */
export class TrainingSink implements NumericCsvSink {
  readonly features: string[];
  readonly accumulator: RegressionAccumulator;
  private readonly targetIndex: number;

  constructor(
    private readonly expectedColumns: readonly string[],
    target: string,
    fitIntercept: boolean,
  ) {
    this.targetIndex = expectedColumns.indexOf(target);
    if (this.targetIndex < 0) throw new TrainingFailed('INVALID_DATA', `the dataset has no column ${JSON.stringify(target)}`);
    this.features = expectedColumns.filter((_, index) => index !== this.targetIndex);
    this.accumulator = new RegressionAccumulator(this.features.length, fitIntercept);
  }

  header(columns: readonly string[]): void {
    const same = columns.length === this.expectedColumns.length && columns.every((name, index) => name === this.expectedColumns[index]);
    if (!same) throw new TrainingFailed('INVALID_DATA', 'the dataset header differs from the one validated');
  }

  /**
   * A row with `cells` has a missing or text value (its NaN is no number): training
   * refuses it rather than fit on it.
   */
  row(values: Float64Array, line?: number, cells?: RowCells): void {
    if (cells !== undefined) {
      // kinds[c] !== 0: not a number (CELL_NUMBER); a text cell has its text, a missing one none.
      const column = cells.kinds.findIndex((kind) => kind !== 0);
      const text = cells.texts[column];
      const what = text === undefined ? 'the value is missing' : `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is not a number`;
      const where = `${line === undefined ? '' : `line ${line}, `}column ${column + 1} (${JSON.stringify(this.expectedColumns[column])})`;
      throw new TrainingFailed('INVALID_DATA', `${where}: ${what}; training needs a number in every column`);
    }
    this.accumulator.addRecord(values, this.targetIndex);
  }

  rowBlock(columns: Float64Array, stride: number, count: number): void {
    this.accumulator.addColumns(columns, stride, count, this.targetIndex);
  }
}
