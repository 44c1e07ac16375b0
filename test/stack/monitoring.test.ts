import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { RegressionStack } from '../../lib/regression-stack.js';
import { type CfnResource, defaultTemplate, Synthesized } from './synthesized.js';

/** The alarms, their topic and the dashboard (lib/monitoring.ts), as `cdk synth` builds them. */
let stack: Synthesized;
let topicId: string;
let alarms: Map<string, CfnResource['Properties'] & Record<string, unknown>>;

beforeAll(() => {
  // Synthesized once for the run, cdk-nag and cfn-guard included (test/stack/global-setup.ts).
  stack = new Synthesized(defaultTemplate());
  topicId = stack.only('AWS::SNS::Topic')[0];
  alarms = new Map(
    stack.ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => [String(alarm.Properties!.AlarmName).replace(/^RegressionJobs-/, ''), alarm.Properties as never]),
  );
});

const single = (metric: string, namespace: string, statistic: string, period: number) => ({
  MetricName: metric,
  Namespace: namespace,
  Statistic: statistic,
  Period: period,
});

describe('alarms', () => {
  it('every alarm notifies the one topic, stays quiet without data, and says what to do', () => {
    expect(alarms.size).toBeGreaterThan(0);
    for (const [name, alarm] of alarms) {
      expect(alarm.AlarmActions, name).toEqual([{ Ref: topicId }]);
      expect(alarm.TreatMissingData, name).toBe('notBreaching');
      expect(String(alarm.AlarmDescription).length, name).toBeGreaterThan(60);
    }
  });

  it.each([
    ['FailedNotificationsNotEmpty', 'FailedNotifications'],
    ['FailedHistoryRecordsNotEmpty', 'FailedRecords'],
    ['DatasetValidationDeadLettersNotEmpty', 'ValidationFailuresDlq'],
  ])('%s: any message in the queue', (name, queueId) => {
    const alarm = alarms.get(name)!;
    expect(alarm).toMatchObject({
      ...single('ApproximateNumberOfMessagesVisible', 'AWS/SQS', 'Maximum', 60),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
    const [{ Value }] = alarm.Dimensions as [{ Value: { 'Fn::GetAtt': [string, string] } }];
    expect(Value['Fn::GetAtt'][0]).toMatch(new RegExp(`^\\w*${queueId}[0-9A-F]{8}$`));
  });

  it('every dead-letter and on-failure queue of the stack is watched', () => {
    const queues = stack.ofType('AWS::SQS::Queue').map(([id]) => id);
    const watched = [...alarms.values()]
      .filter((alarm) => alarm.Namespace === 'AWS/SQS')
      .map((alarm) => (alarm.Dimensions as [{ Value: { 'Fn::GetAtt': [string] } }])[0].Value['Fn::GetAtt'][0]);
    // The one queue left out is consumed by a function (validation-failed) and has its own dead-letter queue, which is watched.
    expect(queues.filter((id) => !watched.includes(id))).toEqual([expect.stringMatching(/^DatasetsValidationFailures[0-9A-F]{8}$/)]);
  });

  it('Step Functions executions failed or timed out: one is enough', () => {
    const stateMachine = stack.trainingStateMachine()[0];
    for (const [name, metric] of [
      ['ExecutionsFailed', 'ExecutionsFailed'],
      ['ExecutionsTimedOut', 'ExecutionsTimedOut'],
    ]) {
      expect(alarms.get(name!), name).toMatchObject({
        ...single(metric!, 'AWS/States', 'Sum', 300),
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachine } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('API 5xx above 5% of requests over 5 minutes, and p99 latency above 3 s for 15 minutes', () => {
    const api = [{ Name: 'ApiName', Value: 'RegressionJobs-api' }];
    expect(alarms.get('Api5xxRate')).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      Metrics: [
        { Expression: 'IF(requests > 0, 100 * errors / requests, 0)', ReturnData: true },
        {
          Id: 'errors',
          MetricStat: { Metric: { Dimensions: api, MetricName: '5XXError', Namespace: 'AWS/ApiGateway' }, Period: 300, Stat: 'Sum' },
          ReturnData: false,
        },
        {
          Id: 'requests',
          MetricStat: { Metric: { Dimensions: api, MetricName: 'Count', Namespace: 'AWS/ApiGateway' }, Period: 300, Stat: 'Sum' },
          ReturnData: false,
        },
      ],
    });
    expect(alarms.get('ApiP99Latency')).toMatchObject({
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
      ExtendedStatistic: 'p99',
      Period: 300,
      Dimensions: api,
      Threshold: 3000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
  });

  it('every function of the app has an errors and a throttles alarm: one is enough', () => {
    const functions = [...stack.appFunctions().values()].map(([id]) => id).sort();
    for (const metric of ['Errors', 'Throttles']) {
      const watched = [...alarms.values()]
        .filter((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === metric)
        .map((alarm) => {
          expect(alarm).toMatchObject({
            Statistic: 'Sum',
            Period: 300,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            EvaluationPeriods: 1,
          });
          return (alarm.Dimensions as [{ Name: string; Value: { Ref: string } }])[0].Value.Ref;
        });
      expect(watched.sort(), metric).toEqual(functions);
    }
  });

  it('both jobs-stream consumers: iterator age above a minute for 5 minutes', () => {
    for (const [name, entry] of [
      ['NotifyIteratorAge', 'lambdas/realtime/notify.ts'],
      ['HistoryRecorderIteratorAge', 'lambdas/history/record-job-events.ts'],
    ] as const) {
      expect(alarms.get(name), name).toMatchObject({
        ...single('IteratorAge', 'AWS/Lambda', 'Maximum', 60),
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: stack.functionId(entry) } }],
        Threshold: 60_000,
        EvaluationPeriods: 5,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('every table: any read or write throttle event', () => {
    const tables = stack.ofType('AWS::DynamoDB::Table').map(([id]) => id);
    const watched = [...alarms.entries()].filter(([name]) => name.endsWith('Throttled'));
    expect(watched.length).toBe(tables.length);
    const covered = watched.map(([name, alarm]) => {
      expect(alarm, name).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
      const metrics = alarm.Metrics as {
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: [{ Value: { Ref: string } }] } };
      }[];
      // Each throttle metric is sparse: a missing one must count as 0, not turn the sum into no data.
      expect(metrics[0]!.Expression).toBe('FILL(reads, 0) + FILL(writes, 0)');
      expect(metrics.slice(1).map((metric) => [metric.MetricStat!.Metric.Namespace, metric.MetricStat!.Metric.MetricName])).toEqual([
        ['AWS/DynamoDB', 'ReadThrottleEvents'],
        ['AWS/DynamoDB', 'WriteThrottleEvents'],
      ]);
      return metrics[1]!.MetricStat!.Metric.Dimensions[0].Value.Ref;
    });
    expect(covered.sort()).toEqual(tables.sort());
  });

  it('nothing else: the alarms are exactly those above', () => {
    const functions = stack.appFunctions().size;
    const tables = stack.ofType('AWS::DynamoDB::Table').length;
    expect(alarms.size).toBe(3 + 2 + 2 + 2 * functions + 2 + tables);
  });
});

describe('alarm topic and dashboard', () => {
  it('the topic enforces TLS and has no subscription unless an address is given', () => {
    expect(stack.ofType('AWS::SNS::Subscription')).toEqual([]);
    const policy = JSON.stringify(stack.only('AWS::SNS::TopicPolicy')[1].Properties);
    expect(policy).toContain('"aws:SecureTransport":"false"');
  });

  it("lets CloudWatch publish for this account's alarms of this stack, and nothing else: a topic policy replaces the default one", () => {
    const [, topicPolicy] = stack.only('AWS::SNS::TopicPolicy');
    expect(topicPolicy.Properties!.Topics).toEqual([{ Ref: topicId }]);
    const statements = (topicPolicy.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'AlarmsOfThisStackPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': expect.any(Array) },
        },
      },
    ]);
    // Exactly the stack's alarms, each by its own ARN.
    const sources = (allows[0]!.Condition as { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [string, string] }[] } }).ArnEquals['aws:SourceArn'];
    const alarmIds = stack.ofType('AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(sources.map((source) => source['Fn::GetAtt']).sort()).toEqual(alarmIds.map((id) => [id, 'Arn']).sort());
    // The TLS Deny is still there beside it.
    expect(statements.filter((statement) => statement.Effect === 'Deny')).toEqual([
      expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Action: 'sns:Publish' }),
    ]);
  });

  it('subscribes the address given as a prop or as -c alarmEmail=…, and refuses one that is not an address', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], alarmEmail: 'oncall@example.com' } });
    const withEmail = Template.fromStack(new RegressionStack(app, 'WithEmail'));
    withEmail.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const other = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new RegressionStack(other, 'Bad', { alarmEmail: 'not an address' })).toThrow(/alarmEmail must be an email address/);
  });

  it('the dashboard shows the job funnel, training throughput, API latency and errors, notifications, and every alarm', () => {
    const [, dashboard] = stack.only('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties!.DashboardBody);
    for (const text of [
      'Job funnel (per minute)',
      'JobCreated',
      'JobCompleted',
      'JobFailed',
      'JobCancelled',
      'rows / PERIOD(rows)',
      'RowsTrained',
      'API latency (ms)',
      'p99',
      '5XXError',
      '4XXError',
      'NotificationSent',
      'StaleConnectionRemoved',
    ]) {
      expect(body, text).toContain(text);
    }
  });
});
