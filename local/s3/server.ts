import { createReadStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { type CfnTemplate, type LocalResolver, referencedLogicalId } from '../cloudformation/template.js';
import { LOOPBACK } from '../http-server.js';
import type { LocalIam } from '../iam/policy.js';
import { deliverToOnFailureQueue } from '../lambda/async-destinations.js';
import { type CorsRule, startS3Front } from './front.js';

/**
 * S3 for the offline stack: s3rver on loopback with the template's buckets, and the
 * buckets' Lambda notifications (the `Custom::S3BucketNotifications` resources CDK
 * writes for `bucket.addEventNotification`) delivered to the template's functions
 * the way S3 delivers them: asynchronously, with the notification's event shape,
 * filtered by prefix and suffix, retried twice on failure, then handed to the
 * function's on-failure queue if it has one (lambda/async-destinations.ts).
 *
 * s3rver serves path-style URLs only: handlers get the endpoint through
 * AWS_ENDPOINT_URL_S3 and then force path style themselves (lambdas/commons/runtime/s3.ts).
 * That endpoint is the S3 front (front.ts), which checks what s3rver does not
 * (every request's signature, each function's role, a presigned POST's policy)
 * before s3rver stores or answers anything.
 */

/** What s3rver (untyped JavaScript) offers that is used here. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: unknown) => void): void;
}
interface S3rverModule {
  new (options: Record<string, unknown>): S3rverServer;
}
interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const load = createRequire(import.meta.url);

export interface BucketNotification {
  bucketLogicalId: string;
  functionLogicalId: string;
  /** `s3:ObjectCreated:*`, `s3:ObjectCreated:Post`, … */
  events: string[];
  prefix: string;
  suffix: string;
}

const NotificationsProperties = z.object({
  BucketName: z.unknown(),
  NotificationConfiguration: z
    .object({
      LambdaFunctionConfigurations: z
        .array(
          z.object({
            Events: z.array(z.string()),
            LambdaFunctionArn: z.unknown(),
            Filter: z.object({ Key: z.object({ FilterRules: z.array(z.object({ Name: z.string(), Value: z.string() })) }) }).optional(),
          }),
        )
        .default([]),
      // Queue and topic destinations have nothing to deliver to locally.
    })
    .default({ LambdaFunctionConfigurations: [] }),
});

/** The template's S3 -> Lambda notifications. */
export function bucketNotificationsOf(template: CfnTemplate): BucketNotification[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'Custom::S3BucketNotifications')
    .flatMap(([logicalId, resource]) => {
      const properties = NotificationsProperties.parse(resource.Properties);
      const bucketLogicalId = referencedLogicalId(properties.BucketName);
      if (bucketLogicalId === undefined) throw new Error(`${logicalId} does not name a bucket of the template`);
      return properties.NotificationConfiguration.LambdaFunctionConfigurations.map((configuration) => {
        const functionLogicalId = referencedLogicalId(configuration.LambdaFunctionArn);
        if (functionLogicalId === undefined) throw new Error(`${logicalId} notifies a function that is not in the template`);
        const rule = (name: string) => configuration.Filter?.Key.FilterRules.find((candidate) => candidate.Name.toLowerCase() === name)?.Value ?? '';
        return { bucketLogicalId, functionLogicalId, events: configuration.Events, prefix: rule('prefix'), suffix: rule('suffix') };
      });
    });
}

/** Whether S3 would send `eventName` (e.g. `ObjectCreated:Post`) for `key` to this notification. */
export function notificationMatches(notification: BucketNotification, eventName: string, key: string): boolean {
  const wanted = notification.events.some((pattern) => {
    const name = pattern.replace(/^s3:/, '');
    return name.endsWith(':*') ? eventName.startsWith(name.slice(0, -1)) : eventName === name;
  });
  return wanted && key.startsWith(notification.prefix) && key.endsWith(notification.suffix);
}

const S3rverEvent = z.object({
  Records: z.array(
    z
      .object({ eventName: z.string(), s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }).loose() }).loose() })
      .loose(),
  ),
});

export interface LocalS3Options {
  resolver: LocalResolver;
  /** Invokes a template function by logical id (LocalLambdas.invoke). */
  invoke(functionLogicalId: string, event: unknown): Promise<unknown>;
  /** The stack's own key pair (its callers are not checked); s3rver refuses unknown access key ids. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Each function's credentials and role, and the stack's own key (`credentials`): every request is authenticated by it. */
  iam: LocalIam;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The smallest part but the last of a multipart upload. @default 5 MiB, as on S3 */
  minPartBytes?: number | undefined;
  /** Objects are kept under `<dataDir>/s3`; without it, in a temporary directory removed by stop(). */
  dataDir?: string | undefined;
  region: string;
  log?: (message: string) => void;
}

export interface LocalS3 {
  /** The value for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  /** Local bucket name by the bucket's logical id. */
  buckets: Map<string, string>;
  /** Resolves once every notification delivered so far has been handled (for tests). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Lambda retries an asynchronous invocation twice; locally after 1 s and 2 s rather than minutes. */
const RETRY_DELAYS_MS = [1_000, 2_000];

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const { resolver, log = (message: string) => console.log(message) } = options;
  const buckets = new Map(
    Object.entries(resolver.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::S3::Bucket')
      .map(([logicalId]) => [logicalId, resolver.resolveString({ Ref: logicalId })]),
  );
  const notifications = bucketNotificationsOf(resolver.template);

  const temporary = options.dataDir === undefined ? await mkdtemp(path.join(tmpdir(), 'regression-jobs-s3-')) : undefined;
  const directory = temporary ?? path.resolve(options.dataDir as string, 's3');
  const removeTemporary = () => temporary && rmSync(temporary, { recursive: true, force: true });
  if (temporary) process.on('exit', removeTemporary);

  const account = (load('s3rver/lib/models/account') as S3rverAccounts).DUMMY_ACCOUNT;
  account.createKeyPair(options.credentials.accessKeyId, options.credentials.secretAccessKey);
  for (const principal of options.iam.principals) account.createKeyPair(principal.accessKeyId, principal.secretAccessKey);
  const S3rver = load('s3rver') as S3rverModule;
  const server = new S3rver({
    address: LOOPBACK,
    port: options.port ?? 0,
    directory,
    silent: true,
    // Path-style only: a virtual-host match on 127.0.0.1 would never be wanted.
    vhostBuckets: false,
    configureBuckets: [...buckets.values()].map((name) => ({ name })),
  });

  const inFlight = new Set<Promise<void>>();
  const deliver = async (functionLogicalId: string, event: unknown, what: string) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await options.invoke(functionLogicalId, event);
        return;
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          log(`[s3] ${what}: ${functionLogicalId} failed ${attempt + 1} times, giving up: ${(error as Error).message}`);
          // As Lambda does: the failed event goes to the function's on-failure destination, if the template sets one.
          await deliverToOnFailureQueue({ resolver, invoke: options.invoke, functionLogicalId, event, error, attempts: attempt + 1, log });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };

  // Objects the front stored for a POST or a completed multipart upload, by the event name S3 gives them
  // (ObjectCreated:Post, ObjectCreated:CompleteMultipartUpload); s3rver itself announces a PutObject.
  const posted = new Map<string, string>();
  server.on('event', (raw) => {
    const parsed = S3rverEvent.safeParse(raw);
    if (!parsed.success) return;
    for (const record of parsed.data.Records) {
      const bucketLogicalId = [...buckets].find(([, name]) => name === record.s3.bucket.name)?.[0];
      const key = record.s3.object.key;
      const postedKey = `${record.s3.bucket.name}/${key}`;
      const storedAs = record.eventName === 'ObjectCreated:Put' ? posted.get(postedKey) : undefined;
      if (storedAs !== undefined) posted.delete(postedKey);
      const eventName = storedAs ?? record.eventName;
      // As S3 sends it: the region, and the key URL-encoded (spaces as '+').
      const event = {
        Records: [
          {
            ...record,
            eventName,
            awsRegion: options.region,
            eventSource: 'aws:s3',
            s3: {
              ...record.s3,
              bucket: { ...record.s3.bucket, arn: `arn:aws:s3:::${record.s3.bucket.name}` },
              object: { ...record.s3.object, key: encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/') },
            },
          },
        ],
      };
      for (const notification of notifications) {
        if (notification.bucketLogicalId !== bucketLogicalId || !notificationMatches(notification, eventName, key)) continue;
        const delivery = deliver(notification.functionLogicalId, event, `${eventName} ${key}`).finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      }
    }
  });

  const address = await server.run();
  const upstream = `http://${LOOPBACK}:${address.port}`;
  // No flexible checksums: they would send the body aws-chunked, which s3rver stores as is.
  const client = new S3Client({
    endpoint: upstream,
    region: options.region,
    credentials: options.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const corsRules = new Map(
    Object.entries(resolver.template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::S3::Bucket')
      .map(([logicalId, resource]) => [
        resolver.resolveString({ Ref: logicalId }),
        ((resource.Properties as { CorsConfiguration?: { CorsRules?: CorsRule[] } } | undefined)?.CorsConfiguration?.CorsRules ?? []) as CorsRule[],
      ]),
  );
  const front = await startS3Front({
    corsRules,
    upstream,
    iam: options.iam,
    region: options.region,
    ...(options.minPartBytes === undefined ? {} : { minPartBytes: options.minPartBytes }),
    store: async ({ bucket, key, file, size, contentType, eventName }) => {
      posted.set(`${bucket}/${key}`, eventName);
      const { ETag } = await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: contentType }),
      );
      return { etag: ETag };
    },
  });
  return {
    endpoint: front.endpoint,
    buckets,
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    stop: async () => {
      await front.close();
      client.destroy();
      await server.close();
      // Let validations under way finish (they only read): a few seconds at most.
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (temporary) {
        process.off('exit', removeTemporary);
        await rm(temporary, { recursive: true, force: true });
      }
    },
  };
}
