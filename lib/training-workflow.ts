import { ArnFormat, CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface TrainingWorkflowProps {
  /** Trains one job; input `{tenantId, jobId}`. Handles bad data itself (the job FAILS with a code). */
  readonly trainFunction: lambda.IFunction;
  /** Marks the job FAILED after the training task's retries are spent or it timed out. */
  readonly markFailedFunction: lambda.IFunction;
  /** @default 15 minutes, Lambda's own maximum */
  readonly trainingTimeout?: Duration;
}

/** How cdk-nag prints a value in a finding: unresolved pseudo parameters as `<AWS::…>`. */
const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);

/** Errors worth retrying: Lambda service hiccups and the train function's own TransientError. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
];

/**
 * The training workflow (Standard): Train, retried with backoff on transient errors
 * only; any other failure or a timeout is caught and MarkFailed records it, so no
 * job is left QUEUED or RUNNING when its execution ends. Executions are named by
 * job id by the caller, which makes a repeated start a no-op.
 */
export class TrainingWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TrainingWorkflowProps) {
    super(scope, id);
    const trainingTimeout = props.trainingTimeout ?? Duration.minutes(15);
    if (trainingTimeout.toSeconds() > 900) throw new Error('TrainingWorkflow: trainingTimeout cannot exceed 15 minutes (the Lambda maximum)');

    const attemptTimeout = trainingTimeout.plus(Duration.minutes(1));
    const train = new tasks.LambdaInvoke(this, 'Train', {
      lambdaFunction: props.trainFunction,
      payload: sfn.TaskInput.fromObject({ 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId' }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false, // the explicit Retry below lists them
      taskTimeout: sfn.Timeout.duration(attemptTimeout),
    });
    train.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });

    const markFailed = new tasks.LambdaInvoke(this, 'MarkFailed', {
      lambdaFunction: props.markFailedFunction,
      payload: sfn.TaskInput.fromObject({ 'tenantId.$': '$.tenantId', 'jobId.$': '$.jobId', 'failure.$': '$.failure' }),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
    });
    markFailed.addRetry({ errors: [...TRANSIENT_ERRORS, 'States.TaskFailed'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5 });
    train.addCatch(markFailed.next(new sfn.Fail(this, 'TrainingFailed', { error: 'TrainingFailed', cause: 'see the job' })), {
      errors: ['States.ALL'],
      resultPath: '$.failure',
    });

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(train),
      // Longer than every Train attempt plus backoff and MarkFailed, so the Catch always runs before this.
      timeout: Duration.seconds(attemptTimeout.toSeconds() * 3 + 600),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.acknowledgeInvokeGrants([props.trainFunction, props.markFailedFunction]);
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery actions (logs:CreateLogDelivery and friends) have no resource-level permissions.',
    });
  }

  /** cdk-nag: the LambdaInvoke tasks grant invoking each function's versions too (`<arn>:*`). */
  private acknowledgeInvokeGrants(functions: lambda.IFunction[]): void {
    const stack = Stack.of(this);
    for (const fn of functions) {
      const id = stack.getLogicalId(fn.node.defaultChild as CfnElement);
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${id}.Arn>:*]`,
        reason: 'Step Functions may invoke a version or alias of its own task function, and only those two functions.',
      });
    }
  }

  /** Lets `grantee` stop this state machine's executions, and nothing else. */
  grantStopExecution(grantee: iam.IGrantable): iam.Grant {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['states:StopExecution'], resourceArns: [executions] });
    const stack = Stack.of(this);
    const machine = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement);
    if (!(grantee.grantPrincipal instanceof iam.Role)) return grant;
    Validations.of(grantee.grantPrincipal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${literal(stack.region, 'AWS::Region')}:${literal(stack.account, 'AWS::AccountId')}:execution:<${machine}.Name>:*]`,
      reason: 'Execution names are job ids known only at run time; the grant covers this state machine\'s executions only.',
    });
    return grant;
  }
}
