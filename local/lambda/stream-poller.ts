import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import type { StreamMappingDefinition } from '../cloudformation/template.js';
import { now, span, tracing } from '../trace.js';
import { recordFilter } from './event-filter.js';
import type { LocalLambdas } from './functions.js';

/**
 * Lambda's DynamoDB Streams event source mapping, for each mapping of the
 * template: reads the table's stream from DynamoDB Local shard by shard (children
 * after their parents), and invokes the mapped function with batches of up to
 * BatchSize records, in order. With a ParallelizationFactor above one, a shard's
 * records are spread over that many lanes by partition key and the lanes are
 * invoked concurrently: records of one key (one item's changes) stay in one lane,
 * in order, as on Lambda. Each lane goes at its own pace: a slow or failing batch
 * holds back its own lane only, while reading goes on and the other lanes keep
 * delivering (a lane that fell behind sends its backlog as one larger batch, up to
 * BatchSize). A failed batch is retried (from the first failed record when the
 * mapping reports batch item failures) up to MaximumRetryAttempts, then skipped,
 * as Lambda does without an on-failure destination.
 */

export interface StreamSource {
  mapping: StreamMappingDefinition;
  tableName: string;
}

export const IDLE_POLL_MS = 250; // Lambda polls a stream's shards four times a second
const DISCOVERY_INTERVAL_MS = 1_000;
const ERROR_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 10_000;

const BatchItemFailures = z.array(z.object({ itemIdentifier: z.string().min(1) }));
const MAX_GET_RECORDS = 1_000; // GetRecords' own limit

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records read but not yet delivered, per mapping: reading waits while this many are queued in its lanes. */
const READ_AHEAD_BATCHES = 2;

/** One lane of a mapping: its records in stream order, and whether a delivery is under way. */
interface Lane {
  queue: DynamoDBRecord[];
  draining: Promise<void> | undefined;
}

export class StreamPoller {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly lanes = new Map<ShardReader, Lane[]>();
  /** Readers waiting for room in their lanes: woken whenever a lane delivered a batch. */
  private waitingForRoom: (() => void)[] = [];

  constructor(
    private readonly streams: DynamoDBStreamsClient,
    private readonly dynamodb: DynamoDBClient,
    private readonly functions: Pick<LocalLambdas, 'invoke'>,
    private readonly region: string,
    private readonly log: (line: string) => void = console.log,
  ) {}

  /** Positions every mapping at its starting position, then polls in the background. */
  async start(sources: readonly StreamSource[]): Promise<void> {
    const readers = await Promise.all(sources.map((source) => this.openReader(source)));
    this.loops = readers.map((reader) => this.poll(reader));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeReaders();
    await Promise.all(this.loops);
    await Promise.all([...this.lanes.values()].flat().map((lane) => lane.draining));
  }

  private async openReader(source: StreamSource): Promise<ShardReader> {
    const { Table } = await this.dynamodb.send(new DescribeTableCommand({ TableName: source.tableName }));
    if (!Table?.LatestStreamArn) throw new Error(`table ${source.tableName} has no stream for ${source.mapping.logicalId}`);
    const partitionKey = Table.KeySchema?.find((key) => key.KeyType === 'HASH')?.AttributeName;
    if (!partitionKey) throw new Error(`table ${source.tableName} has no partition key`);
    const reader = new ShardReader(this.streams, Table.LatestStreamArn, source, partitionKey);
    await reader.discover(source.mapping.startingPosition);
    return reader;
  }

  /** Polls until stopped; an error is logged and polling goes on, as Lambda's poller would. */
  private async poll(reader: ShardReader): Promise<void> {
    let nextDiscovery = Date.now() + DISCOVERY_INTERVAL_MS;
    while (!this.stopped) {
      try {
        const delivered = await reader.readEachShard((records) => this.deliver(reader, records));
        if (Date.now() >= nextDiscovery) {
          await reader.discover('TRIM_HORIZON'); // shards that appear later are read from their start
          nextDiscovery = Date.now() + DISCOVERY_INTERVAL_MS;
        }
        if (!delivered) await sleep(IDLE_POLL_MS);
      } catch (error) {
        if (this.stopped) return;
        this.log(`[streams] ${reader.source.mapping.logicalId}: ${error instanceof Error ? error.message : String(error)}`);
        await sleep(ERROR_DELAY_MS);
      }
    }
  }

  /** Queues a page of records in their lanes and starts the idle lanes; waits while the lanes hold a full read-ahead. */
  private async deliver(reader: ShardReader, records: StreamRecord[]): Promise<void> {
    const { mapping } = reader.source;
    const factor = Math.max(1, mapping.parallelizationFactor);
    let lanes = this.lanes.get(reader);
    if (!lanes) this.lanes.set(reader, (lanes = Array.from({ length: factor }, () => ({ queue: [], draining: undefined }))));
    for (const record of records.map((each) => lambdaRecord(each, reader.streamArn, this.region)).filter(reader.accepts)) {
      lanes[laneIndexOf(record, factor, reader.partitionKey)]?.queue.push(record);
    }
    for (const lane of lanes) {
      if (lane.queue.length > 0 && lane.draining === undefined) lane.draining = this.drain(mapping, lane);
    }
    const room = READ_AHEAD_BATCHES * mapping.batchSize * factor;
    while (!this.stopped && lanes.reduce((queued, lane) => queued + lane.queue.length, 0) >= room) {
      await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
    }
  }

  private wakeReaders(): void {
    for (const wake of this.waitingForRoom.splice(0)) wake();
  }

  /** Delivers a lane's queue batch by batch, in order, until it is empty. */
  private async drain(mapping: StreamMappingDefinition, lane: Lane): Promise<void> {
    while (lane.queue.length > 0 && !this.stopped) {
      const batch = lane.queue.slice(0, mapping.batchSize);
      await this.deliverInOrder(mapping, batch);
      lane.queue.splice(0, batch.length);
      this.wakeReaders();
    }
    lane.draining = undefined;
  }

  private async deliverInOrder(mapping: StreamMappingDefinition, records: DynamoDBRecord[]): Promise<void> {
    let pending = records;
    for (let retry = 0; pending.length > 0 && !this.stopped; retry++) {
      const failedFrom = await this.invoke(mapping, pending);
      if (failedFrom >= pending.length) return;
      if (mapping.maximumRetryAttempts >= 0 && retry >= mapping.maximumRetryAttempts) {
        this.log(`[streams] ${mapping.logicalId}: skipping ${pending.length - failedFrom} record(s) after ${retry} retries`);
        return;
      }
      pending = pending.slice(failedFrom);
      await sleep(Math.min(500 * 2 ** retry, MAX_RETRY_DELAY_MS));
    }
  }

  /**
   * Invokes the function with a batch and answers the index of the first record to
   * retry (the batch's length when all succeeded). A thrown error fails the whole
   * batch; so does a failure report naming a record that is not in it, as on AWS.
   */
  private async invoke(mapping: StreamMappingDefinition, batch: DynamoDBRecord[]): Promise<number> {
    let output: unknown;
    const started = now();
    try {
      output = await this.functions.invoke(mapping.functionLogicalId, { Records: batch } satisfies DynamoDBStreamEvent);
    } catch {
      return 0;
    } finally {
      if (tracing) span('stream.invoke', started, { caller: mapping.functionLogicalId, detail: { records: batch.map(describeRecord) } });
    }
    // Like Lambda: no report (or an empty one) is a complete success, a malformed one a complete failure.
    const reported =
      mapping.reportBatchItemFailures && typeof output === 'object' && output !== null
        ? (output as Partial<DynamoDBBatchResponse>).batchItemFailures
        : undefined;
    if (reported === undefined || reported === null) return batch.length;
    const response = BatchItemFailures.safeParse(reported);
    if (!response.success) return 0;
    const failed = response.data.map((failure) => batch.findIndex((record) => record.dynamodb?.SequenceNumber === failure.itemIdentifier));
    if (failed.includes(-1)) return 0;
    return failed.length === 0 ? batch.length : Math.min(...failed);
  }
}

/** The shards of one stream: which are being read, with their iterators, and which are finished. */
class ShardReader {
  private readonly iterators = new Map<string, string>();
  private readonly finished = new Set<string>();
  private readonly seen = new Set<string>();
  readonly accepts: (record: DynamoDBRecord) => boolean;

  constructor(
    private readonly streams: DynamoDBStreamsClient,
    readonly streamArn: string,
    readonly source: StreamSource,
    /** The table's partition key attribute: what keeps records in one lane. */
    readonly partitionKey: string,
  ) {
    this.accepts = recordFilter(source.mapping.filterCriteria);
  }

  /**
   * Starts reading the shards not seen yet whose parent is finished (or gone). At
   * LATEST, closed shards are skipped: they hold nothing newer than now.
   */
  async discover(position: 'LATEST' | 'TRIM_HORIZON'): Promise<void> {
    const shards = await this.listShards();
    const known = new Set(shards.map((shard) => shard.ShardId));
    for (const shard of shards) {
      const shardId = shard.ShardId as string;
      if (this.seen.has(shardId)) continue;
      if (position === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) {
        this.seen.add(shardId);
        this.finished.add(shardId);
        continue;
      }
      const parent = shard.ParentShardId;
      if (parent !== undefined && known.has(parent) && !this.finished.has(parent)) continue;
      const { ShardIterator } = await this.streams.send(
        new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: position }),
      );
      this.seen.add(shardId);
      if (ShardIterator) this.iterators.set(shardId, ShardIterator);
      else this.finished.add(shardId);
    }
  }

  /**
   * One GetRecords per shard being read, each batch handled before the shard's
   * iterator moves on; a shard with no next iterator is finished. Answers whether
   * any shard had records.
   */
  async readEachShard(handle: (records: StreamRecord[]) => Promise<void>): Promise<boolean> {
    let delivered = false;
    for (const [shardId, iterator] of this.iterators) {
      const started = now();
      const page = await this.getRecords(shardId, iterator);
      if (tracing && page.Records?.length)
        span('stream.getRecords', started, { caller: this.source.mapping.functionLogicalId, detail: { records: page.Records.map(describeRecord) } });
      if (page.Records?.length) {
        delivered = true;
        await handle(page.Records);
      }
      if (page.NextShardIterator) {
        this.iterators.set(shardId, page.NextShardIterator);
      } else {
        this.iterators.delete(shardId);
        this.finished.add(shardId);
      }
    }
    return delivered;
  }

  /**
   * GetRecords, starting the shard over from its oldest record when the iterator
   * points before it (TrimmedDataAccessException). DynamoDB Local numbers stream
   * records with one counter for all tables, so an iterator taken while its shard
   * was still empty points before the shard's first record as soon as another
   * table has been written; every record of such a shard is newer than the
   * iterator, so none is skipped or read twice.
   */
  private async getRecords(shardId: string, iterator: string) {
    const limit = Math.min(this.source.mapping.batchSize, MAX_GET_RECORDS);
    try {
      return await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    } catch (error) {
      if (!(error instanceof TrimmedDataAccessException)) throw error;
      const { ShardIterator } = await this.streams.send(
        new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      return this.streams.send(new GetRecordsCommand({ ShardIterator, Limit: limit }));
    }
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  }
}

/**
 * Spreads records over at most `factor` lanes by their partition key's value, each
 * lane keeping the records' order; empty lanes are left out.
 */
export function inLanes(records: readonly DynamoDBRecord[], factor: number, partitionKey: string): DynamoDBRecord[][] {
  if (factor <= 1) return records.length > 0 ? [[...records]] : [];
  const lanes: DynamoDBRecord[][] = Array.from({ length: factor }, () => []);
  for (const record of records) lanes[laneIndexOf(record, factor, partitionKey)]?.push(record);
  return lanes.filter((lane) => lane.length > 0);
}

/** The lane (0 .. factor - 1) of a record's partition key. */
function laneIndexOf(record: DynamoDBRecord, factor: number, partitionKey: string): number {
  return laneOf(JSON.stringify(record.dynamodb?.Keys?.[partitionKey] ?? null), factor);
}

/** A stable hash of a key (FNV-1a) to a lane number. */
function laneOf(key: string, factor: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % factor;
}

/** A stream record as Lambda delivers it: epoch seconds, binary attributes in base64. */
function lambdaRecord(record: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const change = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: base64Binaries({
      ...change,
      ApproximateCreationDateTime: change.ApproximateCreationDateTime ? Math.floor(change.ApproximateCreationDateTime.getTime() / 1000) : undefined,
    }) as DynamoDBRecord['dynamodb'],
  };
}

function base64Binaries(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(base64Binaries);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, base64Binaries(item)]));
}

/** A record in a trace: its keys' values and the new image's status (what bench/latency-budget.ts looks for). */
function describeRecord(record: StreamRecord | DynamoDBRecord): string {
  const values = Object.values(record.dynamodb?.Keys ?? {}).map((value) => String(value.S ?? value.N ?? ''));
  return `${values.join('/')} ${record.dynamodb?.NewImage?.status?.S ?? '-'}`;
}
