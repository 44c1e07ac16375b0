import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbRequirements } from '../../../../local/dynamodb/iam-front.js';
import { accessKeyOfRequest, evaluate, type FunctionPrincipal, LocalIam, type PolicyStatement } from '../../../../local/iam/policy.js';
import { checkPostPolicy, s3Requirement, startS3Front } from '../../../../local/s3/front.js';

const allow = (actions: string[], resources: string[]): PolicyStatement => ({ effect: 'Allow', actions, resources });
const deny = (actions: string[], resources: string[]): PolicyStatement => ({ effect: 'Deny', actions, resources });
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/Jobs';

describe('IAM evaluation of a role’s statements', () => {
  it('allows only what an Allow names, with * and ? wildcards and actions compared case-insensitively', () => {
    const statements = [allow(['dynamodb:GetItem', 'dynamodb:Query'], [TABLE, `${TABLE}/index/*`]), allow(['s3:Get?bject'], ['arn:aws:s3:::bucket/jobs/*'])];
    expect(evaluate(statements, 'dynamodb:GetItem', TABLE)).toBe(true);
    expect(evaluate(statements, 'DynamoDB:getitem', TABLE)).toBe(true);
    expect(evaluate(statements, 'dynamodb:Query', `${TABLE}/index/byStatus`)).toBe(true);
    expect(evaluate(statements, 'dynamodb:PutItem', TABLE)).toBe(false);
    expect(evaluate(statements, 'dynamodb:GetItem', `${TABLE}-other`)).toBe(false);
    expect(evaluate(statements, 's3:GetObject', 'arn:aws:s3:::bucket/jobs/t1/a.json')).toBe(true);
    expect(evaluate(statements, 's3:GetObject', 'arn:aws:s3:::bucket/datasets/t1/a.csv')).toBe(false);
    expect(evaluate([], 'dynamodb:GetItem', TABLE)).toBe(false);
  });

  it('lets an explicit Deny win over any Allow', () => {
    expect(evaluate([allow(['dynamodb:*'], ['*']), deny(['dynamodb:DeleteItem'], [TABLE])], 'dynamodb:DeleteItem', TABLE)).toBe(false);
    expect(evaluate([allow(['dynamodb:*'], ['*']), deny(['dynamodb:DeleteItem'], [TABLE])], 'dynamodb:PutItem', TABLE)).toBe(true);
  });

  it('answers a denial in AWS’s words and logs the function, action and resource', () => {
    const logged: string[] = [];
    const principal: FunctionPrincipal = {
      functionLogicalId: 'GetJobFunction',
      functionName: 'GetJobFunction',
      roleName: 'GetJobFunctionRole',
      accessKeyId: 'ASIAGETJOB',
      secretAccessKey: 'secret',
      statements: [allow(['dynamodb:GetItem'], [TABLE])],
    };
    const iam = new LocalIam([principal], '000000000000', (line) => logged.push(line));
    expect(iam.authorize('ASIAGETJOB', 'dynamodb:GetItem', TABLE)).toEqual({ allowed: true });
    expect(iam.authorize('ASIAGETJOB', 'dynamodb:PutItem', TABLE)).toEqual({
      allowed: false,
      message: `User: arn:aws:sts::000000000000:assumed-role/GetJobFunctionRole/GetJobFunction is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    });
    expect(logged).toEqual([
      `[iam] AccessDenied: GetJobFunction (role GetJobFunctionRole) may not dynamodb:PutItem on ${TABLE}: no statement of its role allows it`,
    ]);
    // The stack's own callers (no function's key) are not checked.
    expect(iam.authorize('LOCALSTACKKEY', 'dynamodb:DeleteTable', TABLE)).toEqual({ allowed: true });
  });

  it('reads the caller from a SigV4 Authorization header or a presigned URL', () => {
    const authorization = 'AWS4-HMAC-SHA256 Credential=ASIAKEY123/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc';
    expect(accessKeyOfRequest({ authorization }, '/')).toBe('ASIAKEY123');
    expect(accessKeyOfRequest({}, '/bucket/key?X-Amz-Credential=ASIAPRESIGNED%2F20261130%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=x')).toBe('ASIAPRESIGNED');
    expect(accessKeyOfRequest({}, '/bucket/key')).toBeUndefined();
  });
});

describe('what a DynamoDB request needs', () => {
  const arn = (table: string) => `arn:table/${table}`;
  it('names each item action of a transaction, each table of a batch, and the index of a Query', () => {
    expect(
      dynamoDbRequirements(
        'TransactWriteItems',
        {
          TransactItems: [
            { Put: { TableName: 'Jobs' } },
            { Update: { TableName: 'Models' } },
            { ConditionCheck: { TableName: 'Counters' } },
            { Delete: { TableName: 'Jobs' } },
          ],
        },
        arn,
      ),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: 'arn:table/Jobs' },
      { action: 'dynamodb:UpdateItem', resource: 'arn:table/Models' },
      { action: 'dynamodb:ConditionCheckItem', resource: 'arn:table/Counters' },
      { action: 'dynamodb:DeleteItem', resource: 'arn:table/Jobs' },
    ]);
    expect(dynamoDbRequirements('BatchWriteItem', { RequestItems: { Jobs: [], Models: [] } }, arn)).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: 'arn:table/Jobs' },
      { action: 'dynamodb:BatchWriteItem', resource: 'arn:table/Models' },
    ]);
    expect(dynamoDbRequirements('Query', { TableName: 'Jobs', IndexName: 'byStatus' }, arn)).toEqual([
      { action: 'dynamodb:Query', resource: 'arn:table/Jobs/index/byStatus' },
    ]);
    expect(dynamoDbRequirements('GetItem', { TableName: 'Jobs', Key: {} }, arn)).toEqual([{ action: 'dynamodb:GetItem', resource: 'arn:table/Jobs' }]);
    expect(dynamoDbRequirements('ListTables', {}, arn)).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
  });
});

describe('what an S3 request needs', () => {
  it('maps reads, writes, copies, deletes and listings to their permissions', () => {
    expect(s3Requirement('GET', '/b/datasets/t1/a.csv', {})).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/datasets/t1/a.csv' }]);
    expect(s3Requirement('HEAD', '/b/a%20b.csv', {})).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/a b.csv' }]);
    expect(s3Requirement('PUT', '/b/x', { 'x-amz-copy-source': '/b/y' })).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::b/x' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::b/y' },
    ]);
    expect(s3Requirement('DELETE', '/b/x', {})).toEqual([{ action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/x' }]);
    expect(s3Requirement('GET', '/b?list-type=2&prefix=x', {})).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b' }]);
  });
});

describe('S3 POST policy', () => {
  const secret = 'uploader-secret';
  const secretOf = (key: string) => (key === 'ASIAUPLOADER' ? secret : undefined);
  let fields: Record<string, string>;
  const now = new Date();

  beforeAll(async () => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'ASIAUPLOADER', secretAccessKey: secret },
    });
    const post = await createPresignedPost(client, { Bucket: 'b', Key: 'datasets/t1/d1.csv', Conditions: [['content-length-range', 1, 100]], Expires: 900 });
    client.destroy();
    fields = { bucket: 'b', ...Object.fromEntries(Object.entries(post.fields).map(([name, value]) => [name.toLowerCase(), value])) };
  });

  it('accepts the fields as signed, and gives the size range to check once the file is counted', () => {
    expect(checkPostPolicy(fields, secretOf, now)).toEqual({ ok: true, sizeRange: [1, 100] });
  });

  it.each([
    ['a rewritten key', { key: 'datasets/t2/d1.csv' }, 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "datasets/t1/d1.csv"]'],
    ['a field the policy does not cover', { 'x-amz-meta-owner': 't2' }, 'Invalid according to Policy: Extra input fields: x-amz-meta-owner'],
    [
      'a forged signature',
      { 'x-amz-signature': '0'.repeat(64) },
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ],
    ['another bucket', { bucket: 'other' }, 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "b"]'],
  ])('refuses %s with 403 AccessDenied', (_, change, message) => {
    expect(checkPostPolicy({ ...fields, ...change }, secretOf, now)).toEqual({ ok: false, status: 403, code: 'AccessDenied', message });
  });

  it('refuses an expired policy and an unknown signer', () => {
    expect(checkPostPolicy(fields, secretOf, new Date(now.getTime() + 901_000))).toMatchObject({
      ok: false,
      status: 403,
      message: 'Invalid according to Policy: Policy expired.',
    });
    expect(checkPostPolicy(fields, () => undefined, now)).toMatchObject({ ok: false, status: 403, code: 'AccessDenied' });
  });
});

describe('the S3 front: policy, size and the 403 for a missing key', () => {
  let upstream: Server;
  let front: Awaited<ReturnType<typeof startS3Front>>;
  const stored: { key: string; size: number }[] = [];
  const uploader: FunctionPrincipal = {
    functionLogicalId: 'CreateDataset',
    functionName: 'CreateDataset',
    roleName: 'CreateDatasetRole',
    accessKeyId: 'ASIAUPLOADER',
    secretAccessKey: 'uploader-secret',
    statements: [allow(['s3:PutObject'], ['arn:aws:s3:::b/datasets/*'])],
  };
  const reader = (listBucket: boolean): FunctionPrincipal => ({
    ...uploader,
    functionLogicalId: listBucket ? 'Lister' : 'Reader',
    accessKeyId: listBucket ? 'ASIALISTER' : 'ASIAREADER',
    statements: [allow(['s3:GetObject'], ['arn:aws:s3:::b/*']), ...(listBucket ? [allow(['s3:ListBucket'], ['arn:aws:s3:::b'])] : [])],
  });

  beforeAll(async () => {
    // Stands in for s3rver: every object is missing.
    upstream = createServer((request: IncomingMessage, response) => {
      request.resume();
      response.writeHead(404, { 'Content-Type': 'application/xml' });
      response.end('<Error><Code>NoSuchKey</Code></Error>');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    front = await startS3Front({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      iam: new LocalIam([uploader, reader(false), reader(true)], '000000000000', () => undefined, { accessKeyId: 'STACK', secretAccessKey: 'stack-secret' }),
      region: 'us-east-1',
      store: async ({ key, size }) => {
        stored.push({ key, size });
        return { etag: '"e"' };
      },
    });
  });

  afterAll(async () => {
    await front.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const upload = async (change: Record<string, string>, content: string, maxBytes = 100) => {
    const client = new S3Client({ region: 'us-east-1', endpoint: front.endpoint, forcePathStyle: true, credentials: uploader });
    const post = await createPresignedPost(client, {
      Bucket: 'b',
      Key: 'datasets/t1/d1.csv',
      Conditions: [['content-length-range', 1, maxBytes]],
      Expires: 900,
    });
    client.destroy();
    const form = new FormData();
    for (const [name, value] of Object.entries({ ...post.fields, ...change })) form.append(name, value);
    form.append('file', new Blob([content]), 'd1.csv');
    const response = await fetch(post.url, { method: 'POST', body: form });
    return { status: response.status, body: await response.text() };
  };

  it('stores an upload that keeps to its policy (204), and nothing else', async () => {
    expect(await upload({}, 'x,y\n1,2\n')).toEqual({ status: 204, body: '' });
    expect(stored).toEqual([{ key: 'datasets/t1/d1.csv', size: 8 }]);
    const rewritten = await upload({ key: 'datasets/t2/d1.csv' }, 'x,y\n1,2\n');
    expect(rewritten.status).toBe(403);
    expect(rewritten.body).toContain(
      '<Code>AccessDenied</Code><Message>Invalid according to Policy: Policy Condition failed: ["eq", "$key", "datasets/t1/d1.csv"]</Message>',
    );
    const tooLarge = await upload({}, 'x'.repeat(101));
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body).toContain('<Code>EntityTooLarge</Code>');
    expect(stored).toHaveLength(1);
  });

  const as = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new S3Client({ region: 'us-east-1', endpoint: front.endpoint, forcePathStyle: true, credentials });

  it('answers a missing key 403 to a reader that may not ListBucket, and 404 to one that may', async () => {
    const get = (principal: FunctionPrincipal) => as(principal).send(new GetObjectCommand({ Bucket: 'b', Key: 'datasets/t1/gone.csv' }));
    await expect(get(reader(false))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(get(reader(true))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    // A write the role does not allow never reaches S3.
    await expect(as(reader(false)).send(new PutObjectCommand({ Bucket: 'b', Key: 'datasets/t1/new.csv', Body: 'x' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining('is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/datasets/t1/new.csv'),
    });
  });

  it('refuses an unsigned request with 403 AccessDenied: nobody is the stack by leaving the signature off', async () => {
    for (const [method, path] of [
      ['GET', '/b?list-type=2'],
      ['GET', '/b/datasets/t1/d1.csv'],
      ['PUT', '/b/datasets/t2/d1.csv'],
      ['DELETE', '/b/datasets/t1/d1.csv'],
    ] as const) {
      const response = await fetch(`${front.endpoint}${path}`, { method, ...(method === 'PUT' ? { body: 'overwritten' } : {}) });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.text()).toContain('<Error><Code>AccessDenied</Code><Message>Access Denied</Message>');
    }
    expect(stored.map(({ key }) => key)).not.toContain('datasets/t2/d1.csv');
  });

  it('refuses a key the stack did not issue (InvalidAccessKeyId) and a wrong secret (SignatureDoesNotMatch), with 403', async () => {
    const list = (credentials: { accessKeyId: string; secretAccessKey: string }) => as(credentials).send(new ListObjectsV2Command({ Bucket: 'b' }));
    await expect(list({ accessKeyId: 'AKIASTRANGER', secretAccessKey: 'stack-secret' })).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(list({ accessKeyId: 'STACK', secretAccessKey: 'guessed' })).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    // The stack's own key is known: its request reaches the bucket (here the stand-in answers 404 to everything).
    await expect(list({ accessKeyId: 'STACK', secretAccessKey: 'stack-secret' })).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('still accepts a presigned URL, whose signature is in the query', async () => {
    const url = await getSignedUrl(as(reader(true)), new GetObjectCommand({ Bucket: 'b', Key: 'datasets/t1/gone.csv' }), { expiresIn: 60 });
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`))).status).toBe(403);
  });
});
