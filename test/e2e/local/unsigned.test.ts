import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { api, target } from '../client.js';

/**
 * The offline stack's AWS endpoints answer only requests signed by a key the
 * stack issued: a tenant who learns the S3 endpoint from its upload URL cannot
 * list or overwrite another tenant's objects by leaving the signature off, and
 * nobody can post to `@connections` that way. (Step Functions, whose endpoint
 * only the functions know, is checked in test/unit/local/stepfunctions/server.test.ts.)
 */

const stranger = { accessKeyId: 'AKIASTRANGERKEY00000', secretAccessKey: 'not-issued-by-the-stack' };

describe.skipIf(target.name !== 'local')('local stack: unsigned and unknown-key requests to its AWS endpoints', () => {
  it("refuses an unsigned S3 list or overwrite of another tenant's upload, and a key it did not issue, with 403", async () => {
    const created = await api('POST', '/datasets', { key: target.keyA });
    expect(created.status).toBe(201);
    const { uploadUrl, fields } = created.body as { uploadUrl: string; fields: Record<string, string> };
    const form = new FormData();
    for (const [field, value] of Object.entries(fields)) form.append(field, value);
    form.append('file', new Blob(['x,y\n1,2\n2,4\n'], { type: 'text/csv' }), 'data.csv');
    expect((await fetch(uploadUrl, { method: 'POST', body: form })).status).toBe(204); // a signed POST policy still works

    const bucketUrl = uploadUrl.replace(/\/$/, '');
    const list = await fetch(`${bucketUrl}?list-type=2`);
    expect(list.status).toBe(403);
    expect(await list.text()).toContain('<Error><Code>AccessDenied</Code>');
    const overwrite = await fetch(`${bucketUrl}/${fields.key}`, { method: 'PUT', body: 'overwritten' });
    expect(overwrite.status).toBe(403);
    expect(await overwrite.text()).toContain('<Error><Code>AccessDenied</Code>');

    const url = new URL(bucketUrl);
    const s3 = new S3Client({ endpoint: url.origin, region: 'us-east-1', forcePathStyle: true, credentials: stranger });
    try {
      await expect(s3.send(new ListObjectsV2Command({ Bucket: url.pathname.slice(1) }))).rejects.toMatchObject({
        name: 'InvalidAccessKeyId',
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      s3.destroy();
    }
  });

  it.skipIf(target.wsUrl === undefined)('refuses an unsigned @connections POST, and one signed with a key it did not issue, with 403', async () => {
    const callbackUrl = (target.wsUrl as string).replace(/^ws/, 'http').replace(/\/$/, '');
    const unsigned = await fetch(`${callbackUrl}/@connections/c2VjcmV0=`, { method: 'POST', body: '{"forged":true}' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const management = new ApiGatewayManagementApiClient({ endpoint: callbackUrl, region: 'us-east-1', credentials: stranger });
    try {
      await expect(management.send(new PostToConnectionCommand({ ConnectionId: 'c2VjcmV0=', Data: 'x' }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      management.destroy();
    }
  });
});
