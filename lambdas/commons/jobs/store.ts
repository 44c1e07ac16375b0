import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '#commons/runtime/clients.js';
import { ValidationFailed } from '#domain/errors.js';
import { ACTIVE_STATUSES, type JobRecord, type JobStatus, type ModelRecord, statusesBefore } from '#domain/jobs.js';
import { ResourceId } from '#domain/schemas.js';
import * as z from '#domain/zod.js';
import { TenantStore } from './tenants.js';

/**
 * Data access for jobs and models. Every item is keyed by its tenant first, so a
 * query can only ever see the caller's items; every status change is a conditional
 * write that only moves a job forward.
 */

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

export interface ListOptions {
  limit: number;
  nextToken?: string | undefined;
}

/** A job's attributes that a transition may set besides its status. */
export type JobChanges = Partial<Pick<JobRecord, 'progress' | 'startedAt' | 'finishedAt' | 'error'>>;

export class JobStore {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  async get(tenantId: string, jobId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { tenantId, jobId }, ConsistentRead: true }));
    return Item as JobRecord | undefined;
  }

  /** The caller's jobs, newest first (job ids sort by creation time), optionally of one status. */
  async list(tenantId: string, options: ListOptions & { status?: JobStatus | undefined }): Promise<Page<JobRecord>> {
    const byStatus = options.status !== undefined;
    const partition = byStatus ? { name: 'tenantStatus', value: `${tenantId}#${options.status}` } : { name: 'tenantId', value: tenantId };
    const startKey = decodeToken(options.nextToken, tenantId, 'jobId', byStatus ? partition.value : undefined);
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(byStatus ? { IndexName: 'byStatus' } : {}),
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': partition.name },
        ExpressionAttributeValues: { ':pk': partition.value },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: startKey,
      }),
    );
    return { items: (result.Items ?? []) as JobRecord[], nextToken: encodeToken(result.LastEvaluatedKey) };
  }

  /**
   * How many of the caller's jobs are QUEUED or RUNNING, read consistently from
   * the table itself (the status index is eventually consistent). It reads every
   * job of the tenant, so it is only the repair path of the active-jobs counter.
   */
  async countActive(tenantId: string): Promise<number> {
    let total = 0;
    const values: Record<string, unknown> = { ':tenant': tenantId };
    for (const [index, status] of ACTIVE_STATUSES.entries()) values[`:active${index}`] = status;
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'tenantId = :tenant',
        FilterExpression: `#status IN (${ACTIVE_STATUSES.map((_, index) => `:active${index}`).join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
        Select: 'COUNT',
        ConsistentRead: true,
      },
    );
    for await (const page of pages) total += page.Count ?? 0;
    return total;
  }

  /**
   * Moves a job to `to` if its current status allows it, setting `changes` in the
   * same write. Answers the updated job, or undefined when the job was already
   * past that point (a duplicate or late event) or does not exist.
   */
  async transition(tenantId: string, jobId: string, to: JobStatus, changes: JobChanges = {}): Promise<JobRecord | undefined> {
    return this.update(tenantId, jobId, transitionUpdate(tenantId, to, changes));
  }

  /**
   * Marks the job RUNNING for one more training attempt. A retried attempt finds
   * the job RUNNING already, so RUNNING -> RUNNING is allowed here and only here.
   */
  async startAttempt(tenantId: string, jobId: string, startedAt: string): Promise<JobRecord | undefined> {
    return this.update(tenantId, jobId, transitionUpdate(tenantId, 'RUNNING', { startedAt, progress: 0 }, ['QUEUED', 'RUNNING'], true));
  }

  private async update(tenantId: string, jobId: string, update: ReturnType<typeof transitionUpdate>): Promise<JobRecord | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({ TableName: this.tableName, Key: { tenantId, jobId }, ...update, ReturnValues: 'ALL_NEW' }),
      );
      return Attributes as JobRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Records training progress while the job is RUNNING; false once it no longer is.
   * The condition also fails when this very write is already in the table: the
   * SDK retries a request that timed out, and the first try may have landed
   * (DynamoDB was slow, not down). So a failed condition stops training only when
   * the item it read says the job is no longer RUNNING; otherwise the job would
   * be left RUNNING by a training run that believed it cancelled.
   */
  async setProgress(tenantId: string, jobId: string, progress: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, jobId },
          UpdateExpression: 'SET progress = :progress ADD version :one',
          ConditionExpression: '#status = :running AND progress < :progress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':progress': progress, ':running': 'RUNNING', ':one': 1 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error.Item?.status?.S === 'RUNNING';
      throw error;
    }
  }
}

export class ModelStore {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  async get(tenantId: string, modelId: string): Promise<ModelRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { tenantId, modelId } }));
    return Item as ModelRecord | undefined;
  }

  /** Writes models trained together (a job's regularisation path past its first model); an existing one is left as it is. */
  async putTrained(models: readonly ModelRecord[]): Promise<void> {
    await Promise.all(
      models.map(async (model) => {
        try {
          await this.client.send(new PutCommand({ TableName: this.tableName, Item: model, ConditionExpression: 'attribute_not_exists(modelId)' }));
        } catch (error) {
          // Written by an earlier attempt of the same job: the same fit.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  async list(tenantId: string, options: ListOptions): Promise<Page<ModelRecord>> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'tenantId = :tenant',
        ExpressionAttributeValues: { ':tenant': tenantId },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: decodeToken(options.nextToken, tenantId, 'modelId'),
      }),
    );
    return { items: (result.Items ?? []) as ModelRecord[], nextToken: encodeToken(result.LastEvaluatedKey) };
  }
}

/** The outcome a job's end gives its model. */
export type ModelOutcome =
  | { status: 'FAILED' }
  | { status: 'TRAINED'; fields: Pick<ModelRecord, 'coefficients' | 'intercept' | 'features' | 'metrics' | 'fittedAt' | 'summary'> & { rowsDropped: number } };

/** What a create came to: the job exists now, the tenant is at its limit, or the Idempotency-Key already made a job. */
export type CreateOutcome = 'CREATED' | 'LIMIT_REACHED' | 'KEY_TAKEN';

export interface CreateOptions {
  job: JobRecord;
  model: ModelRecord;
  /** The tenant's active-jobs limit: the create takes one of its slots or does not happen. */
  maxActiveJobs: number;
  /** Binds the key to this job in the same write, so a retry after an unknown outcome finds it. */
  request?: { idempotencyKey: string; requestHash: string } | undefined;
}

/**
 * Writes that change a job and its model together, in one transaction, so a client
 * never sees a COMPLETED job whose model is not TRAINED, nor a CANCELLED job whose
 * model is still TRAINING. The same transactions take and give back the tenant's
 * active-job slot (tenants.ts), so the count can never drift from a lost write.
 */
export class Lifecycle {
  constructor(
    readonly jobs: JobStore,
    readonly models: ModelStore,
    readonly tenants: TenantStore,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  /** The three stores on the named tables, all through one client (the background functions' patient one). */
  static onTables(tables: { jobs: string; models: string; tenants: string }, client: DynamoDBDocumentClient): Lifecycle {
    return new Lifecycle(new JobStore(tables.jobs, client), new ModelStore(tables.models, client), new TenantStore(tables.tenants, client), client);
  }

  /** Creates a QUEUED job and its TRAINING model if the tenant has a free slot (and the key is unused). */
  async create({ job, model, maxActiveJobs, request }: CreateOptions): Promise<CreateOutcome> {
    const now = new Date();
    const items = {
      // tenantStatus keys the byStatus index: without it a QUEUED job is not listed by status.
      job: {
        Put: {
          TableName: this.jobs.tableName,
          Item: { ...job, tenantStatus: `${job.tenantId}#${job.status}` },
          ConditionExpression: 'attribute_not_exists(jobId)',
        },
      },
      model: { Put: { TableName: this.models.tableName, Item: model, ConditionExpression: 'attribute_not_exists(modelId)' } },
      slot: this.tenants.admitItem(job.tenantId, maxActiveJobs, now),
      ...(request && {
        request: this.tenants.requestItem(job.tenantId, request.idempotencyKey, { jobId: job.jobId, requestHash: request.requestHash }, now),
      }),
    };
    try {
      await this.transact(items);
      return 'CREATED';
    } catch (error) {
      const failed = conditionsFailed(error, items);
      if (failed === undefined) throw error;
      // A new job id can only exist already if this transaction did: the SDK retried a try that timed out but landed.
      if (failed.has('job')) return 'CREATED';
      // The key first: a replay answers its job even when the tenant is at its limit.
      if (failed.has('request')) return 'KEY_TAKEN';
      if (failed.has('slot')) return 'LIMIT_REACHED';
      throw error;
    }
  }

  /**
   * TransactWriteItems, again (with jitter) while it is cancelled only because
   * another transaction was writing the same items: the tenant's counter is one
   * item, so concurrent creates and ends of one tenant contend for it.
   */
  private async transact(items: TransactionItems): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: Object.values(items) }));
        return;
      } catch (error) {
        const onlyConflicts =
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.some((reason) => reason.Code === 'TransactionConflict') &&
          error.CancellationReasons.every((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'None' || reason.Code === undefined);
        if (!onlyConflicts || attempt >= TRANSACTION_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  /**
   * Ends a job (COMPLETED, FAILED or CANCELLED) and settles its model in one write.
   * Answers false when the job had already moved past where `to` can follow.
   */
  async finish(job: Pick<JobRecord, 'tenantId' | 'jobId' | 'modelId'>, to: JobStatus, changes: JobChanges, model: ModelOutcome): Promise<boolean> {
    const modelUpdate: { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } =
      model.status === 'TRAINED'
        ? {
            // Every name through a placeholder: `metrics` is a DynamoDB reserved word.
            UpdateExpression: `SET #status = :status, #coefficients = :coefficients, #intercept = :intercept, #features = :features, #metrics = :metrics, #fittedAt = :fittedAt, #rowsDropped = :rowsDropped${model.fields.summary === undefined ? '' : ', #summary = :summary'}`,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#coefficients': 'coefficients',
              '#intercept': 'intercept',
              '#features': 'features',
              '#metrics': 'metrics',
              '#fittedAt': 'fittedAt',
              '#rowsDropped': 'rowsDropped',
              ...(model.fields.summary === undefined ? {} : { '#summary': 'summary' }),
            },
            ExpressionAttributeValues: {
              ':status': 'TRAINED',
              ':training': 'TRAINING',
              ':coefficients': model.fields.coefficients,
              ':intercept': model.fields.intercept,
              ':features': model.fields.features,
              ':metrics': model.fields.metrics,
              ':fittedAt': model.fields.fittedAt,
              ':rowsDropped': model.fields.rowsDropped,
              ...(model.fields.summary === undefined ? {} : { ':summary': model.fields.summary }),
            },
          }
        : {
            UpdateExpression: 'SET #status = :status',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': 'FAILED', ':training': 'TRAINING' },
          };
    // Every end is from QUEUED or RUNNING (the job's condition), so it gives back exactly the slot its create took.
    const items = {
      job: { Update: { TableName: this.jobs.tableName, Key: { tenantId: job.tenantId, jobId: job.jobId }, ...transitionUpdate(job.tenantId, to, changes) } },
      model: {
        Update: {
          TableName: this.models.tableName,
          Key: { tenantId: job.tenantId, modelId: job.modelId },
          ConditionExpression: '#status = :training',
          ...modelUpdate,
        },
      },
      slot: this.tenants.releaseItem(job.tenantId, new Date()),
    };
    try {
      await this.transact(items);
      return true;
    } catch (error) {
      // The job had already ended (or its model was settled): nothing to do.
      if (conditionsFailed(error, items) !== undefined) return false;
      throw error;
    }
  }
}

/** Transactions cancelled only by a concurrent one are tried this many times in all. */
const TRANSACTION_ATTEMPTS = 8;

/** A transaction's items by name; they are sent in this order, and cancellation reasons are read back by name. */
type TransactionItems = Record<string, NonNullable<TransactWriteCommandInput['TransactItems']>[number]>;

/** The names of the items whose conditions failed, when a transaction was cancelled for that; undefined otherwise. */
function conditionsFailed(error: unknown, items: TransactionItems): Set<string> | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const names = Object.keys(items);
  const failed = new Set<string>();
  for (const [index, reason] of (error.CancellationReasons ?? []).entries()) {
    if (reason.Code === 'ConditionalCheckFailed') failed.add(names[index] ?? `#${index}`);
  }
  return failed.size > 0 ? failed : undefined;
}

/** The update and condition of a forward-only status change. */
function transitionUpdate(tenantId: string, to: JobStatus, changes: JobChanges, from = statusesBefore(to), countAttempt = false) {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':to': to, ':tenantStatus': `${tenantId}#${to}` };
  const sets = ['#status = :to', 'tenantStatus = :tenantStatus'];
  for (const [key, value] of Object.entries(changes)) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  for (const [index, status] of from.entries()) values[`:from${index}`] = status;
  values[':one'] = 1;
  return {
    UpdateExpression: `SET ${sets.join(', ')} ADD version :one${countAttempt ? ', attempts :one' : ''}`,
    ConditionExpression: `#status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/*
 * Page tokens are the last key of a page, base64url-encoded. They are opaque to
 * clients but not secret: a token is only accepted if it names the caller's own
 * partition, so a forged or foreign one is a 400, never another tenant's page.
 */
const PageKey = z.record(z.string(), z.string().check(z.minLength(1), z.maxLength(512)));

function encodeToken(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : null;
}

function decodeToken(token: string | undefined, tenantId: string, sortKey: 'jobId' | 'modelId', tenantStatus?: string): Record<string, string> | undefined {
  if (token === undefined) return undefined;
  const invalid = new ValidationFailed('nextToken is not a token this API gave you', [{ path: 'nextToken', message: 'invalid token' }]);
  let key: Record<string, string>;
  try {
    key = PageKey.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw invalid;
  }
  const expected = { tenantId, ...(tenantStatus === undefined ? {} : { tenantStatus }) };
  const names = Object.keys(key).sort();
  const wellFormed =
    names.join() === [...Object.keys(expected), sortKey].sort().join() &&
    Object.entries(expected).every(([name, value]) => key[name] === value) &&
    ResourceId.safeParse(key[sortKey]).success;
  if (!wellFormed) throw invalid;
  return key;
}
