import { S3Client } from '@aws-sdk/client-s3';
import { CLIENT_DEFAULTS } from './clients.js';

/**
 * The S3 client, once per container, in its own module so that only the functions
 * that use S3 bundle and start it (clients.ts is imported by every function).
 *
 * Its endpoint comes from the standard AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
 * variables like every other client. Path-style addressing is only forced when such
 * an override is set: local S3 servers (s3rver, LocalStack) serve buckets under a
 * path, while on AWS the default virtual-hosted style is the one to keep.
 */
const endpointOverride = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;

export const s3 = new S3Client({ ...CLIENT_DEFAULTS, forcePathStyle: endpointOverride !== undefined });
