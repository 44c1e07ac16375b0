import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.js';
import { TRANSIENT_ERRORS } from './training-workflow.js';

export interface DatasetScanProps {
  /** Plans the ranges; input `{tenantId, datasetId, key, etag, sizeBytes, format}`, output `{dataStart, ranges, compression}`. */
  readonly planFunction: lambda.IFunction;
  /** One range: validates it and writes its partial statistics to S3. */
  readonly rangeFunction: lambda.IFunction;
  /** Merges the partials and marks the dataset READY or INVALID. */
  readonly mergeFunction: lambda.IFunction;
  /** Marks the dataset INVALID (VALIDATION_FAILED) when a step failed for good. */
  readonly failedFunction: lambda.IFunction;
  /**
   * Ranges read at once (the Distributed Map's MaxConcurrency): each is one Lambda,
   * so this bounds the scan's share of the account's Lambda concurrency.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /** The range function's timeout: one range must be read within it. @default 15 minutes */
  readonly rangeTimeout?: Duration;
}

const RETRY = { interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 };

/**
 * The dataset scan (docs/design.md, "The dataset scan"): Plan, then a Map in DISTRIBUTED
 * mode whose children each read one byte range of the uploaded object, then Merge.
 * Children only pass `{index, rows}` back; statistics go through S3. No tolerated
 * failure: every row counts, so a child that fails for good fails the Map, and the
 * Catch marks the dataset INVALID (VALIDATION_FAILED) rather than READY on part of
 * its rows. The caller names each execution after its dataset.
 */
export class DatasetScan extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DatasetScanProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 10;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 10_000) {
      throw new Error(`DatasetScan: maxConcurrency must be a whole number from 1 to 10,000 (the Distributed Map's limit); got ${maxConcurrency}`);
    }
    const rangeTimeout = props.rangeTimeout ?? Duration.minutes(15);
    const object = {
      'tenantId.$': '$.tenantId',
      'datasetId.$': '$.datasetId',
      'key.$': '$.key',
      'etag.$': '$.etag',
      'sizeBytes.$': '$.sizeBytes',
      'format.$': '$.format',
    };
    const invoke = (stateId: string, fn: lambda.IFunction, payload: Record<string, unknown>, timeout: Duration, output?: Partial<tasks.LambdaInvokeProps>) =>
      new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        // The optimized lambda:invoke integration (the one the offline stack emulates), narrowed to the function's answer.
        ...(output ?? { outputPath: '$.Payload' }),
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(timeout),
      });

    // The plan (offsets only) is kept beside the execution's input, which later steps still need.
    const plan = invoke('Plan', props.planFunction, object, Duration.minutes(2), {
      resultSelector: { 'dataStart.$': '$.Payload.dataStart', 'ranges.$': '$.Payload.ranges', 'compression.$': '$.Payload.compression' },
      resultPath: '$.plan',
    });
    plan.addRetry({ errors: TRANSIENT_ERRORS, ...RETRY });

    const scanRange = invoke(
      'ScanRange',
      props.rangeFunction,
      // Each child's input (the Map's item selector below) holds these at its top level.
      { ...object, 'compression.$': '$.compression', 'dataStart.$': '$.dataStart', 'range.$': '$.range' },
      rangeTimeout.plus(Duration.minutes(1)),
    );
    // Bad data is not an error of the child (its partial records it), and a dependency that throttled, timed out or
    // failed on its side is thrown as TransientError: worth another try. Anything else (the object replaced under the
    // scan, a bug) would fail every try, so it fails the Map at once.
    scanRange.addRetry({ errors: TRANSIENT_ERRORS, ...RETRY });
    const map = new sfn.DistributedMap(this, 'ScanRanges', {
      itemsPath: '$.plan.ranges',
      itemSelector: { ...object, 'compression.$': '$.plan.compression', 'dataStart.$': '$.plan.dataStart', 'range.$': '$$.Map.Item.Value' },
      maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      // The children's answers are only counted: the merge reads the partials from S3.
      resultSelector: { 'rangeCount.$': 'States.ArrayLength($)' },
      resultPath: '$.scanned',
    });
    map.itemProcessor(scanRange);

    const merge = invoke(
      'Merge',
      props.mergeFunction,
      { ...object, 'compression.$': '$.plan.compression', 'rangeCount.$': '$.scanned.rangeCount' },
      Duration.minutes(5),
    );
    merge.addRetry({ errors: TRANSIENT_ERRORS, ...RETRY });

    const markFailed = invoke('MarkFailed', props.failedFunction, { ...object, 'failure.$': '$.failure' }, Duration.minutes(1));
    // A conditional, repeatable write: transient failures get more tries than the other steps. A deterministic one
    // fails every try, so it is not retried; the execution then ends FAILED and nothing else settles the dataset: it
    // stays VALIDATING until its record expires (the table's TTL), and the function's Errors alarm tells an operator.
    markFailed.addRetry({ errors: TRANSIENT_ERRORS, ...RETRY, maxAttempts: 5 });
    const failed = new sfn.Fail(this, 'ScanFailed', {
      error: 'ScanFailed',
      cause: 'The dataset could not be scanned; the dataset records why (GET /datasets/{datasetId}).',
    });
    const onFailure = markFailed.next(failed);
    for (const step of [plan, map, merge]) step.addCatch(onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });

    plan.next(map).next(merge);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 256, separator: '-' })}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(plan),
      timeout: Duration.hours(2),
      tracingEnabled: true,
      // Execution data is ids, offsets and counts (the statistics live in S3), so logging it in full is safe.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    const role = this.stateMachine.role;
    for (const fn of [props.planFunction, props.rangeFunction, props.mergeFunction, props.failedFunction]) {
      acknowledgeWildcardResource(
        role,
        `${fn.functionArn}:*`,
        'Step Functions may invoke a version or alias of its own task function, and only of these four.',
      );
    }
    // CDK's own grant for the Distributed Map: its child executions (execution:<machine>/<map run>:<child>) and map runs.
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (mapPolicy instanceof iam.Policy) {
      const statements = Stack.of(this).resolve(mapPolicy.document) as { Statement: { Resource: unknown }[] };
      for (const resource of statements.Statement.flatMap((statement) => [statement.Resource].flat())) {
        if (JSON.stringify(resource).includes('*')) {
          acknowledgeWildcardResource(
            mapPolicy,
            resource as string,
            "A Distributed Map starts, describes and stops child executions of its own state machine, named at run time: the grant covers this state machine's executions only.",
          );
        }
      }
    }
    acknowledgeWildcardResource(
      role,
      '*',
      'X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery and friends) have no resource-level permissions.',
    );
  }
}
