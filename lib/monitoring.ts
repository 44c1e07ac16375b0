import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** The namespace and service dimension the functions' Powertools metrics are emitted under (lib/app-function.ts). */
const APP_NAMESPACE = 'RegressionJobs';
const APP_SERVICE = 'regression-jobs';

export interface MonitoringThresholds {
  /** Percent of API requests answered 5xx over 5 minutes. @default 5 */
  readonly api5xxPercent?: number;
  /** p99 API latency, in ms, over 5 minutes. @default 3000 */
  readonly apiP99LatencyMs?: number;
  /** Age of the oldest stream record a consumer is processing, in ms. @default 60000 */
  readonly iteratorAgeMs?: number;
}

export interface MonitoringProps {
  /** Every function of the stack, by a short name used in alarm names. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The functions that consume the jobs stream. */
  readonly streamConsumers: Readonly<Record<string, lambda.IFunction>>;
  /** Dead-letter and on-failure queues: any message in one is work that was given up on. */
  readonly failureQueues: Readonly<Record<string, { queue: sqs.IQueue; what: string }>>;
  readonly stateMachine: sfn.IStateMachine;
  readonly api: apigateway.RestApi;
  readonly tables: Readonly<Record<string, dynamodb.ITable>>;
  /** Subscribed to the alarm topic when given (stack prop or `-c alarmEmail=…`). */
  readonly alarmEmail?: string;
  readonly thresholds?: MonitoringThresholds;
}

/**
 * Alarms and a dashboard (docs/operations.md, Alarms). Every alarm notifies one SNS topic;
 * each says in its description what it means and where to look first. Missing data
 * is not breaching: an idle personal stack sends no data points and must stay quiet.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const thresholds = { api5xxPercent: 5, apiP99LatencyMs: 3000, iteratorAgeMs: 60_000, ...props.thresholds };
    if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
      throw new Error(`Monitoring: alarmEmail must be an email address; got "${props.alarmEmail}"`);
    }
    const stackName = Stack.of(this).stackName;

    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: `${stackName} alarms`, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key (aws/sns), whose key policy admits no other service; alarm notifications carry no client data, and a customer managed key is a cost a personal stack does without.',
    });
    const action = new actions.SnsAction(this.topic);

    const alarm = (name: string, options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>) => {
      const created = new cloudwatch.Alarm(this, name, {
        ...options,
        alarmName: `${stackName}-${name}`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };
    const atLeastOne = { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD };
    const fiveMinutes = Duration.minutes(5);

    for (const [name, { queue, what }] of Object.entries(props.failureQueues)) {
      alarm(`${name}NotEmpty`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        ...atLeastOne,
        alarmDescription: `${what} Read the message in the queue (its attributes name the failed record or event), fix the cause, then redrive or delete it.`,
      });
    }

    alarm('ExecutionsFailed', {
      metric: props.stateMachine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }),
      ...atLeastOne,
      alarmDescription:
        'A training execution failed (its Catch marks the job FAILED). Open the execution in the Step Functions console: the failed state and its error say whether it was the data, a bug or AWS.',
    });
    alarm('ExecutionsTimedOut', {
      metric: props.stateMachine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }),
      ...atLeastOne,
      alarmDescription:
        "A training execution hit the state machine's own timeout. The train function's logs for that job show how far it got: a dataset too large for the training timeout, or a hung call.",
    });

    const api5xxRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: props.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        requests: props.api.metricCount({ period: fiveMinutes, statistic: 'Sum' }),
      },
      label: 'API 5xx (%)',
      period: fiveMinutes,
    });
    alarm('Api5xxRate', {
      metric: api5xxRate,
      threshold: thresholds.api5xxPercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `Over ${thresholds.api5xxPercent}% of API requests answered 5xx in 5 minutes. The access log (errorType, integrationError) names the failing route; that handler's logs hold the stack trace.`,
    });
    const apiP99 = props.api.metricLatency({ period: fiveMinutes, statistic: 'p99' });
    alarm('ApiP99Latency', {
      metric: apiP99,
      threshold: thresholds.apiP99LatencyMs,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `API p99 latency above ${thresholds.apiP99LatencyMs} ms for 15 minutes. X-Ray traces show which call is slow (DynamoDB, S3, Step Functions or the handler itself).`,
    });

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, {
        metric: fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        ...atLeastOne,
        alarmDescription: `The ${name} function failed (an unhandled error, a timeout or out of memory). Its log group has the error and stack; X-Ray has the trace.`,
      });
      alarm(`${name}Throttles`, {
        metric: fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
        ...atLeastOne,
        alarmDescription: `The ${name} function was throttled: the account's concurrency is used up. Check the account's concurrent executions and what else runs in it; raise the quota if this is normal load.`,
      });
    }

    for (const [name, fn] of Object.entries(props.streamConsumers)) {
      alarm(`${name}IteratorAge`, {
        metric: fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: thresholds.iteratorAgeMs,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmDescription: `The ${name} consumer of the jobs stream is over ${thresholds.iteratorAgeMs / 1000} s behind for 5 minutes: a record keeps failing (see its errors and logs) or it cannot keep up.`,
      });
    }

    for (const [name, table] of Object.entries(props.tables)) {
      alarm(`${name}Throttled`, {
        metric: new cloudwatch.MathExpression({
          // Each throttle metric exists only for periods with a throttle: without FILL, a period with reads but
          // no writes throttled would sum to no value at all, and the alarm would miss it.
          expression: 'FILL(reads, 0) + FILL(writes, 0)',
          usingMetrics: {
            reads: table.metric('ReadThrottleEvents', { period: fiveMinutes, statistic: 'Sum' }),
            writes: table.metric('WriteThrottleEvents', { period: fiveMinutes, statistic: 'Sum' }),
          },
          label: `${name} throttle events`,
          period: fiveMinutes,
        }),
        ...atLeastOne,
        alarmDescription: `DynamoDB throttled requests on the ${name} table (on-demand: a sudden spike past twice the previous peak, or a hot partition). CloudWatch Contributor Insights on the table shows the hot keys.`,
      });
    }

    this.allowAlarmsToPublish();

    // The dashboard.
    const appMetric = (name: string, label: string, period = Duration.minutes(1)) =>
      new cloudwatch.Metric({ namespace: APP_NAMESPACE, metricName: name, dimensionsMap: { service: APP_SERVICE }, statistic: 'Sum', period, label });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${stackName}-operations` });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Job funnel (per minute)',
        width: 12,
        left: [
          appMetric('JobCreated', 'created'),
          appMetric('JobCompleted', 'completed'),
          appMetric('JobFailed', 'failed'),
          appMetric('JobCancelled', 'cancelled'),
          appMetric('StrandedJobsStarted', 'stranded, started by the sweeper'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Training throughput (rows/s)',
        width: 12,
        left: [
          new cloudwatch.MathExpression({
            expression: 'rows / PERIOD(rows)',
            usingMetrics: { rows: appMetric('RowsTrained', 'rows') },
            label: 'rows/s',
            period: Duration.minutes(1),
          }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        width: 8,
        left: [
          props.api.metricLatency({ statistic: 'p50', period: Duration.minutes(1) }),
          props.api.metricLatency({ statistic: 'p99', period: Duration.minutes(1) }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'API errors',
        width: 8,
        left: [
          props.api.metricClientError({ statistic: 'Sum', period: Duration.minutes(1), label: '4xx' }),
          props.api.metricServerError({ statistic: 'Sum', period: Duration.minutes(1), label: '5xx' }),
        ],
        right: [props.api.metricCount({ statistic: 'Sum', period: Duration.minutes(1), label: 'requests' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Notifications',
        width: 8,
        left: [appMetric('NotificationSent', 'delivered'), appMetric('StaleConnectionRemoved', '410 Gone (connection removed)')],
      }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }));
  }

  /**
   * A topic policy replaces the topic's default one, and `enforceSSL` writes one holding only its Deny: without
   * this statement CloudWatch may not publish, and every alarm's notification fails with nothing but a line in
   * the alarm's history. Only this account's alarms of this stack may publish (the confused-deputy conditions).
   */
  private allowAlarmsToPublish(): void {
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsOfThisStackPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': this.alarms.map((alarm) => alarm.alarmArn) },
        },
      }),
    );
  }
}
