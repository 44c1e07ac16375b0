import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbFront, startDynamoDbFront } from '../../../../local/dynamodb/iam-front.js';
import { LocalIam } from '../../../../local/iam/policy.js';

/** The functions' DynamoDB endpoint answers only calls signed by a key the stack issued, as DynamoDB answers the others. */

describe('the DynamoDB front: who is calling', () => {
  let upstream: Server;
  let front: DynamoDbFront;
  let reached = 0;

  beforeAll(async () => {
    // Stands in for DynamoDB Local: counts what reaches it.
    upstream = createServer((request, response) => {
      request.resume();
      reached += 1;
      response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' }).end('{"TableNames":[]}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    front = await startDynamoDbFront({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      iam: new LocalIam([], '000000000000', () => undefined, { accessKeyId: 'STACK', secretAccessKey: 'stack-secret' }),
      region: 'us-east-1',
      accountId: '000000000000',
    });
  });

  const clients: DynamoDBClient[] = [];
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await front.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const as = (accessKeyId: string, secretAccessKey: string) => {
    const client = new DynamoDBClient({ endpoint: front.endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    clients.push(client);
    return client;
  };

  it('refuses an unsigned call with MissingAuthenticationTokenException, before DynamoDB Local sees it', async () => {
    const response = await fetch(front.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.Scan' },
      body: JSON.stringify({ TableName: 'api-keys' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'com.amazon.coral.service#MissingAuthenticationTokenException' });
    expect(reached).toBe(0);
  });

  it('refuses a key it did not issue and a wrong secret, and passes a call signed with an issued key', async () => {
    await expect(as('AKIASTRANGER', 'stack-secret').send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(as('STACK', 'guessed').send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    expect(reached).toBe(0);
    await expect(as('STACK', 'stack-secret').send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
    expect(reached).toBe(1);
  });
});
