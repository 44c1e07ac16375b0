import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './powertools.js';

/**
 * SDK clients, created once per container and reused across invocations. Endpoints
 * come only from the standard AWS_ENDPOINT_URL[_<SERVICE>] variables, so the same
 * code talks to AWS, LocalStack or the offline stack.
 */
export const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));

/*
 * Numbers are JSON numbers (doubles) end to end: one beyond 2^53 is stored as it is
 * rather than refused, and read back as a number rather than as a wrapped string.
 */
export const documents = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
  unmarshallOptions: { wrapNumbers: (value: string) => Number(value) },
});

export const stepFunctions = tracer.captureAWSv3Client(new SFNClient({}));
