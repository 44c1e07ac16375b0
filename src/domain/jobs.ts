import type { MissingRule } from './design.js';
import type { CoefficientTable } from './inference.js';
import type { ModelKind } from './regression.js';

/**
 * Job and model records, their state machine, and the public views built from them.
 * The views are the only shapes clients ever see: `GET /jobs/{id}` and the WebSocket
 * notifications both use `toJobView`, so they cannot drift apart.
 */

export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const MODEL_STATUSES = ['TRAINING', 'TRAINED', 'FAILED'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** A job only moves forward: a duplicate or late event can never move it back. */
const NEXT: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ['RUNNING', 'FAILED', 'CANCELLED'],
  RUNNING: ['COMPLETED', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

/** The statuses that count against a caller's active-job limit. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING'];

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

/** Every status a job may be in for `to` to be a legal next status (the write's condition). */
export function statusesBefore(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}

/** Executions are named by their job id, so a retried start can never run a job twice. */
export function executionArnOf(stateMachineArn: string, jobId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${jobId}`;
}

export function isTerminal(status: JobStatus): boolean {
  return NEXT[status].length === 0;
}

export interface JobError {
  code: string;
  message: string;
}

export interface InlinePoint {
  x: number[];
  y: number;
}

/**
 * Where a job's rows are. Inline points live in an S3 object of their own (`key`),
 * not in the job item: 10,000 points of 100 features are far over DynamoDB's 400 KB
 * item limit, and every stream image of the job would carry them.
 */
export type JobSource =
  | { type: 'inline'; key: string; rows: number }
  | { type: 'dataset'; datasetId: string; target: string; features?: string[]; missing?: MissingRule };

/** A job as stored. */
export interface JobRecord {
  tenantId: string;
  jobId: string;
  modelId: string;
  status: JobStatus;
  kind: ModelKind;
  alpha: number | null;
  fitIntercept: boolean;
  name?: string;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: JobError | null;
  attempts: number;
  executionArn: string;
  source: JobSource;
  /** A regularisation path (`alphas`): one model per value; `modelIds` are those models, in the same order. */
  alphas?: number[];
  /** LINEAR: the confidence level of the model's coefficient table (default 0.95). */
  level?: number;
  modelIds?: string[];
  expiresAt: number;
  /** 1 when created, plus one for every write of the job since: a newer state always has a higher version. */
  version: number;
}

/** A model as stored. */
export interface ModelRecord {
  tenantId: string;
  modelId: string;
  jobId: string;
  status: ModelStatus;
  kind: ModelKind;
  alpha: number | null;
  fitIntercept: boolean;
  coefficients: number[];
  intercept: number | null;
  /** One name per coefficient (src/domain/design.ts). */
  features: string[];
  /** The dataset columns the model reads (absent on models trained before categories: the features). */
  columns?: string[];
  /** Each category column's levels, the reference first. */
  levels?: Record<string, string[]>;
  /** Rows left out for a missing value; absent before training (and on models trained before missing values). */
  rowsDropped?: number;
  /**
   * LINEAR: R's coefficient table (src/domain/inference.ts), as JSON text: p-values reach
   * 1e-300, below the smallest number a table item holds (1e-130).
   */
  summary?: string;
  metrics: { n: number; r2: number; rmse: number } | null;
  createdAt: string;
  fittedAt: string | null;
  expiresAt: number;
}

export interface JobView {
  jobId: string;
  modelId: string;
  status: JobStatus;
  kind: ModelKind;
  alpha: number | null;
  fitIntercept: boolean;
  name: string | null;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: JobError | null;
  attempts: number;
  datasetId: string | null;
  /** The values of a regularisation path, or null for a job of one alpha. */
  alphas: number[] | null;
  /** Every model of the job: `[modelId]`, or one per value of `alphas` in order. */
  modelIds: string[];
  /** Grows with every change of the job: of two states of a job, the one with the higher version is the newer. */
  version: number;
}

export type ModelView = Omit<ModelRecord, 'tenantId' | 'expiresAt' | 'columns' | 'levels' | 'rowsDropped' | 'summary'> & {
  columns: string[];
  levels: Record<string, string[]>;
  rowsDropped: number | null;
  /** LINEAR models once TRAINED: R's coefficient table; null otherwise. */
  summary: CoefficientTable | null;
};

export function toJobView(job: JobRecord): JobView {
  return {
    jobId: job.jobId,
    modelId: job.modelId,
    status: job.status,
    kind: job.kind,
    alpha: job.alpha,
    fitIntercept: job.fitIntercept,
    name: job.name ?? null,
    progress: job.progress,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    error: job.error,
    attempts: job.attempts,
    datasetId: job.source.type === 'dataset' ? job.source.datasetId : null,
    alphas: job.alphas ?? null,
    modelIds: job.modelIds ?? [job.modelId],
    version: job.version,
  };
}

export function toModelView(model: ModelRecord): ModelView {
  const { tenantId: _tenant, expiresAt: _expires, columns, levels, rowsDropped, summary, ...view } = model;
  return {
    ...view,
    columns: columns ?? model.features,
    levels: levels ?? {},
    rowsDropped: rowsDropped ?? (model.status === 'TRAINED' ? 0 : null),
    summary: summary === undefined ? null : (JSON.parse(summary) as CoefficientTable),
  };
}

/** Feature names of inline data: x0, x1, … in input order. */
export function inlineFeatureNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `x${index}`);
}
