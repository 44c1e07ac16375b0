import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from './powertools.js';

/**
 * SDK clients, created once per container and reused across invocations. Endpoints
 * come only from the standard AWS_ENDPOINT_URL[_<SERVICE>] variables, so the same
 * code talks to AWS, LocalStack or the offline stack.
 */
export const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));

export const documents = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});

export const stepFunctions = tracer.captureAWSv3Client(new SFNClient({}));
