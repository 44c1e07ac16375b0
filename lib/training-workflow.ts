import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { TRANSIENT_ERROR_NAME } from '#domain/transient.js';
import { acknowledgeWildcardResource } from './nag.js';

export interface TrainingWorkflowProps {
  /**
   * Trains one job; input `{tenantId, jobId}`. It handles bad data itself (the job
   * FAILS with a code) and throws `TransientError` for what a retry may fix.
   * Its own timeout should be `trainingTimeout`.
   */
  readonly trainFunction: lambda.IFunction;
  /** Marks the job FAILED once training failed for good; input `{tenantId, jobId, failure: {Error, Cause}}`. */
  readonly markFailedFunction: lambda.IFunction;
  /**
   * The train function's timeout: one attempt may take this long. At most 15 minutes.
   * @default 15 minutes, Lambda's maximum
   */
  readonly trainingTimeout?: Duration;
}

/**
 * The errors every Retry of the project's state machines lists (this one and the dataset scan's), and no
 * others: Lambda's own service hiccups, and TransientError, which every task function throws for a
 * dependency that throttled, timed out or failed on its side (lambdas/commons/runtime/powertools.ts, eventHandler).
 * Anything else a task throws is deterministic (bad input, a bug, a failed condition): another try would
 * fail the same way, so it goes straight to the Catch.
 */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  TRANSIENT_ERROR_NAME,
];

const TRAIN_RETRY = { interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 };
const MARK_FAILED_RETRY = { interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5 };
const MARK_FAILED_TIMEOUT = Duration.minutes(1);

/**
 * The training workflow (Standard): Train, retried with backoff on transient errors
 * only; any other failure, or a timeout, is caught and MarkFailed records it on the
 * job, so no job is left QUEUED or RUNNING when its execution ends. The caller names
 * each execution after its job id, which makes a repeated start a no-op.
 */
export class TrainingWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TrainingWorkflowProps) {
    super(scope, id);
    const trainingTimeout = props.trainingTimeout ?? Duration.minutes(15);
    if (trainingTimeout.toSeconds() < 60 || trainingTimeout.toSeconds() > 900) {
      throw new Error(`TrainingWorkflow: trainingTimeout must be from 1 to 15 minutes (Lambda's maximum); got ${trainingTimeout.toHumanString()}`);
    }

    // A minute past the function's own timeout: Lambda ends a slow attempt first, so the
    // failure names the function's timeout rather than a bare States.Timeout.
    const attemptTimeout = trainingTimeout.plus(Duration.minutes(1));
    const train = new tasks.LambdaInvoke(this, 'Train', {
      lambdaFunction: props.trainFunction,
      payload: sfn.TaskInput.fromObject({ 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId' }),
      // The optimized lambda:invoke integration (the one the offline stack emulates), narrowed to the function's answer.
      outputPath: '$.Payload',
      retryOnServiceExceptions: false, // the Retry below lists them, with the project's backoff
      taskTimeout: sfn.Timeout.duration(attemptTimeout),
    });
    train.addRetry({ errors: TRANSIENT_ERRORS, ...TRAIN_RETRY });

    const markFailed = new tasks.LambdaInvoke(this, 'MarkFailed', {
      lambdaFunction: props.markFailedFunction,
      payload: sfn.TaskInput.fromObject({ 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId', 'failure.$': '$.failure' }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(MARK_FAILED_TIMEOUT),
    });
    // Marking the job failed is a conditional, repeatable write: a transient failure gets more tries than Train's. A
    // deterministic one would fail every try, so it is not retried; the execution then ends FAILED, and the job is
    // still ended, by the ExecutionEnded rule below (mark-failed again, from EventBridge) and, failing that, by the
    // sweep (lambdas/train/sweep-jobs.ts), which fails a job whose execution ended without settling it.
    markFailed.addRetry({ errors: TRANSIENT_ERRORS, ...MARK_FAILED_RETRY });
    const failed = new sfn.Fail(this, 'TrainingFailed', {
      error: 'TrainingFailed',
      cause: 'Training failed for good; the job records why (GET /jobs/{jobId}).',
    });
    train.addCatch(markFailed.next(failed), { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      // Under /aws/vendedlogs/, Step Functions delivers logs without adding this group to the account's CloudWatch Logs
      // resource policy, which is capped at 5,120 characters and makes the deployment fail once full. Named after the
      // stack and this construct, so two stacks in one account never share it.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 256, separator: '-' })}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(train),
      timeout: executionTimeout(attemptTimeout),
      tracingEnabled: true,
      // Execution data is ids, outcomes and failures (the data points live in S3), so logging it in full is safe.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    // The safety net: an execution that ends without the Catch running (stopped by hand, or the
    // execution itself timing out) still gets its job marked FAILED. Mark-failed is idempotent: a
    // job already ended (including by the Catch, or CANCELLED by the client) is left as it is.
    new events.Rule(this, 'ExecutionEnded', {
      description: 'Marks the job FAILED when a training execution ends FAILED, TIMED_OUT or ABORTED',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
      targets: [new targets.LambdaFunction(props.markFailedFunction, { retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    });

    const role = this.stateMachine.role;
    for (const fn of [props.trainFunction, props.markFailedFunction]) {
      acknowledgeWildcardResource(role, `${fn.functionArn}:*`, 'Step Functions may invoke a version or alias of its own task function, and only of these two.');
    }
    acknowledgeWildcardResource(
      role,
      '*',
      'X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery and friends) have no resource-level permissions.',
    );
  }

  /** Lets `grantee` start executions of this state machine. */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /** Lets `grantee` stop this state machine's executions, and no other's. */
  grantStopExecution(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnExecutions(grantee, 'states:StopExecution');
  }

  /** Lets `grantee` describe this state machine's executions (the sweeper), and no other's. */
  grantDescribeExecution(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnExecutions(grantee, 'states:DescribeExecution');
  }

  private grantOnExecutions(grantee: iam.IGrantable, action: string): iam.Grant {
    // arn:<partition>:states:<region>:<account>:execution:<state machine name>:<execution name>
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [action], resourceArns: [executions] });
    if (grantee.grantPrincipal instanceof iam.Role) {
      acknowledgeWildcardResource(
        grantee.grantPrincipal,
        executions,
        "Execution names are job ids known only at run time; the grant covers this state machine's executions only.",
      );
    }
    return grant;
  }
}

/**
 * Longer than everything the definition can do, so the Catch always gets to run
 * before the execution itself times out: every Train attempt with its backoff,
 * then every MarkFailed attempt with its own.
 */
function executionTimeout(attemptTimeout: Duration): Duration {
  const backoff = (retry: typeof TRAIN_RETRY) =>
    Array.from({ length: retry.maxAttempts }, (_, n) => retry.interval.toSeconds() * retry.backoffRate ** n).reduce((a, b) => a + b, 0);
  const train = (TRAIN_RETRY.maxAttempts + 1) * attemptTimeout.toSeconds() + backoff(TRAIN_RETRY);
  const markFailed = (MARK_FAILED_RETRY.maxAttempts + 1) * MARK_FAILED_TIMEOUT.toSeconds() + backoff(MARK_FAILED_RETRY);
  return Duration.seconds(Math.ceil(train + markFailed));
}
