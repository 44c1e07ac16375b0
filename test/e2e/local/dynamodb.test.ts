import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamoDb, localDynamoDbClient, startDynamoDb } from '../../../local/dynamodb/server.js';
import { account } from '../../unit/local/fixtures.js';
import { target } from '../client.js';

/**
 * DynamoDB Local checks no credentials, so it must not be reachable from other
 * machines: it listens on loopback only (local/dynamodb/LoopbackDynamoDbLocal.java).
 */

/** Whether a TCP connection to host:port is accepted (true) or refused (false). */
async function accepts(host: string, port: number): Promise<boolean> {
  const socket = connect({ host, port });
  try {
    await Promise.race([once(socket, 'connect'), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer from ${host}:${port}`)), 5_000))]);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return false;
    throw error;
  } finally {
    socket.destroy();
  }
}

/** This machine's first non-loopback IPv4 address, the one another host would connect to. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;

describe.skipIf(target.name !== 'local')('local stack: DynamoDB Local', () => {
  let dynamo: LocalDynamoDb;
  let port: number;

  beforeAll(async () => {
    dynamo = await startDynamoDb({ region: account.region });
    port = Number(new URL(dynamo.endpoint).port);
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  it('answers on loopback', async () => {
    const client = localDynamoDbClient(dynamo.endpoint, account.region);
    try {
      await expect(client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: expect.any(Array) });
    } finally {
      client.destroy();
    }
  });

  it.skipIf(externalAddress === undefined)(
    "refuses connections to the machine's network address (skipped on a machine with no non-loopback IPv4 address)",
    async () => {
      expect(await accepts(externalAddress as string, port)).toBe(false);
    },
  );
});
