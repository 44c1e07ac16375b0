import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ValidationFailed } from '../../src/domain/errors.js';
import { ACTIVE_STATUSES, type JobRecord, type JobStatus, type ModelRecord, statusesBefore } from '../../src/domain/jobs.js';
import { ResourceId } from '../../src/domain/schemas.js';
import { documents } from './clients.js';

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

  /** How many of the caller's jobs are QUEUED or RUNNING. */
  async countActive(tenantId: string): Promise<number> {
    let total = 0;
    for (const status of ACTIVE_STATUSES) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'byStatus',
            KeyConditionExpression: 'tenantStatus = :pk',
            ExpressionAttributeValues: { ':pk': `${tenantId}#${status}` },
            Select: 'COUNT',
            ExclusiveStartKey: startKey,
          }),
        );
        total += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
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

  /** Records training progress while the job is RUNNING; false once it no longer is. */
  async setProgress(tenantId: string, jobId: string, progress: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tenantId, jobId },
          UpdateExpression: 'SET progress = :progress',
          ConditionExpression: '#status = :running AND progress < :progress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':progress': progress, ':running': 'RUNNING' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
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
  | { status: 'TRAINED'; fields: Pick<ModelRecord, 'coefficients' | 'intercept' | 'features' | 'metrics' | 'fittedAt'> };

/**
 * Writes that change a job and its model together, in one transaction, so a client
 * never sees a COMPLETED job whose model is not TRAINED, nor a CANCELLED job whose
 * model is still TRAINING.
 */
export class Lifecycle {
  constructor(
    readonly jobs: JobStore,
    readonly models: ModelStore,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  /** Creates a QUEUED job and its TRAINING model; fails if either id is taken. */
  async create(job: JobRecord, model: ModelRecord): Promise<void> {
    // tenantStatus keys the byStatus index: without it a QUEUED job is neither counted as active nor listed by status.
    const jobItem = { ...job, tenantStatus: `${job.tenantId}#${job.status}` };
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.jobs.tableName, Item: jobItem, ConditionExpression: 'attribute_not_exists(jobId)' } },
          { Put: { TableName: this.models.tableName, Item: model, ConditionExpression: 'attribute_not_exists(modelId)' } },
        ],
      }),
    );
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
            UpdateExpression:
              'SET #status = :status, #coefficients = :coefficients, #intercept = :intercept, #features = :features, #metrics = :metrics, #fittedAt = :fittedAt',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#coefficients': 'coefficients',
              '#intercept': 'intercept',
              '#features': 'features',
              '#metrics': 'metrics',
              '#fittedAt': 'fittedAt',
            },
            ExpressionAttributeValues: {
              ':status': 'TRAINED',
              ':training': 'TRAINING',
              ':coefficients': model.fields.coefficients,
              ':intercept': model.fields.intercept,
              ':features': model.fields.features,
              ':metrics': model.fields.metrics,
              ':fittedAt': model.fields.fittedAt,
            },
          }
        : {
            UpdateExpression: 'SET #status = :status',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': 'FAILED', ':training': 'TRAINING' },
          };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: { TableName: this.jobs.tableName, Key: { tenantId: job.tenantId, jobId: job.jobId }, ...transitionUpdate(job.tenantId, to, changes) } },
            {
              Update: {
                TableName: this.models.tableName,
                Key: { tenantId: job.tenantId, modelId: job.modelId },
                ConditionExpression: '#status = :training',
                ...modelUpdate,
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
        return false;
      }
      throw error;
    }
  }
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
  if (countAttempt) values[':one'] = 1;
  return {
    UpdateExpression: `SET ${sets.join(', ')}${countAttempt ? ' ADD attempts :one' : ''}`,
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
const PageKey = z.record(z.string(), z.string().min(1).max(512));

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
