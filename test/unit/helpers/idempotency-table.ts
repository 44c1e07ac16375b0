import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClientResolvedConfig,
  GetItemCommand,
  PutItemCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { conditionalCheckFailed } from './aws-errors.js';

type Item = Record<string, AttributeValue>;
/** What `mockClient(DynamoDBClient)` returns. */
type DynamoDBStub = AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBClientResolvedConfig>;

/**
 * An in-memory stand-in for the Powertools idempotency table, behind a mocked
 * low-level DynamoDBClient. It answers the commands the DynamoDB persistence layer
 * sends (read in node_modules/@aws-lambda-powertools/idempotency): PutItem of an
 * INPROGRESS record, conditional on the key being absent or expired, failing with
 * ConditionalCheckFailed and the existing item (ReturnValuesOnConditionCheckFailure
 * ALL_OLD); UpdateItem SET of the COMPLETED status and response; DeleteItem when the
 * wrapped function threw; GetItem as a fallback.
 */
export class FakeIdempotencyTable {
  readonly items = new Map<string, Item>();

  constructor(
    stub: DynamoDBStub,
    readonly tableName: string,
  ) {
    stub.on(PutItemCommand, { TableName: tableName }).callsFake((input: PutItemCommand['input']) => this.put(input));
    stub.on(UpdateItemCommand, { TableName: tableName }).callsFake((input: UpdateItemCommand['input']) => this.update(input));
    stub.on(DeleteItemCommand, { TableName: tableName }).callsFake((input: DeleteItemCommand['input']) => {
      this.items.delete(this.idOf(input.Key));
      return {};
    });
    stub.on(GetItemCommand, { TableName: tableName }).callsFake((input: GetItemCommand['input']) => {
      const item = this.items.get(this.idOf(input.Key));
      return item ? { Item: item } : {};
    });
  }

  /** The only record, for tests that made one. */
  only(): Item {
    const [item, ...others] = [...this.items.values()];
    if (!item || others.length > 0) throw new Error(`expected exactly one idempotency record, found ${this.items.size}`);
    return item;
  }

  private idOf(key: Item | undefined): string {
    const id = key?.id?.S;
    if (id === undefined) throw new Error('idempotency key without an `id` string');
    return id;
  }

  /** `attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND … #in_progress_expiry < :now_in_millis)` */
  private put(input: PutItemCommand['input']) {
    const id = this.idOf(input.Item);
    const existing = this.items.get(id);
    if (existing) {
      const values = input.ExpressionAttributeValues ?? {};
      const expired = Number(existing.expiration?.N) < Number(values[':now']?.N);
      const inProgressExpired =
        existing.status?.S === values[':inprogress']?.S &&
        existing.in_progress_expiration !== undefined &&
        Number(existing.in_progress_expiration.N) < Number(values[':now_in_millis']?.N);
      if (!expired && !inProgressExpired) {
        throw conditionalCheckFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? existing : undefined);
      }
    }
    this.items.set(id, { ...input.Item });
    return {};
  }

  /** Applies `SET #a = :a, #b = :b` with the names and values given. */
  private update(input: UpdateItemCommand['input']) {
    const id = this.idOf(input.Key);
    const item: Item = { ...(this.items.get(id) ?? input.Key) };
    const assignments = (input.UpdateExpression ?? '').replace(/^SET\s+/, '').split(/\s*,\s*/);
    for (const assignment of assignments) {
      const [name, value] = assignment.split(/\s*=\s*/);
      const attribute = input.ExpressionAttributeNames?.[name ?? ''];
      const attributeValue = input.ExpressionAttributeValues?.[value ?? ''];
      if (attribute === undefined || attributeValue === undefined) throw new Error(`cannot apply ${assignment}`);
      item[attribute] = attributeValue;
    }
    this.items.set(id, item);
    return {};
  }
}
