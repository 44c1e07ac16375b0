import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, ThrottlingException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ExecutionDoesNotExist } from '@aws-sdk/client-sfn';

/** The errors DynamoDB and Step Functions answer, built the way the SDK deserialises them. */

export function conditionalCheckFailed(item?: Record<string, AttributeValue>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item ? { Item: item } : {}),
  });
}

/** A cancelled transaction: one reason per item, `None` for the items that were fine. */
export function transactionCanceled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => (Code === 'None' ? { Code } : { Code, Message: 'The conditional request failed' })),
  });
}

export function throttling(): ThrottlingException {
  return new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: { httpStatusCode: 400 } });
}

export function executionDoesNotExist(): ExecutionDoesNotExist {
  return new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: { httpStatusCode: 400 } });
}
