import { describe, expect, it } from 'vitest';
import { type CfnTemplate, LocalResolver } from '../../../../local/cloudformation/template.js';
import { eventRulesOf, LocalEventBus, patternMatches } from '../../../../local/events/bus.js';

const account = { region: 'eu-west-1', accountId: '000000000000' };
const template: CfnTemplate = {
  Resources: {
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
    MarkFailed: { Type: 'AWS::Lambda::Function', Properties: {} },
    Ended: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: 'Machine' }] },
        },
        State: 'ENABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': ['MarkFailed', 'Arn'] }, Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 2 } }],
      },
    },
    Schedule: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(5 minutes)', Targets: [] } },
  },
};
const machineArn = 'arn:aws:states:eu-west-1:000000000000:stateMachine:Machine';
const ended = (status: string, stateMachineArn = machineArn) => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { status, stateMachineArn, input: '{}' },
});

describe('the local event bus', () => {
  it("reads the template's event rules (not schedules), resolving the pattern and the Lambda target", () => {
    expect(eventRulesOf(new LocalResolver(template, account))).toEqual([
      {
        logicalId: 'Ended',
        pattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [machineArn] },
        },
        targets: [{ functionLogicalId: 'MarkFailed', maximumRetryAttempts: 2 }],
      },
    ]);
  });

  it('matches exact values as EventBridge does: every pattern key, one of a list, nested objects', () => {
    const [rule] = eventRulesOf(new LocalResolver(template, account));
    const pattern = rule?.pattern as Record<string, unknown>;
    expect(patternMatches(pattern, ended('FAILED'))).toBe(true);
    expect(patternMatches(pattern, ended('SUCCEEDED'))).toBe(false);
    expect(patternMatches(pattern, ended('FAILED', `${machineArn}-other`))).toBe(false);
    expect(patternMatches(pattern, { source: 'aws.states', detail: { status: 'FAILED', stateMachineArn: machineArn } })).toBe(false);
  });

  it('refuses a content filter at start-up instead of ignoring it', () => {
    const filtered: CfnTemplate = {
      Resources: { ...template.Resources, Ended: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: [{ prefix: 'aws.' }] }, Targets: [] } } },
    };
    expect(() => eventRulesOf(new LocalResolver(filtered, account))).toThrow(/content filter/);
  });

  it('delivers a matching event to the target in EventBridge’s envelope, retrying a failure as the RetryPolicy says', async () => {
    const calls: unknown[] = [];
    let failures = 1;
    const logged: string[] = [];
    const bus = new LocalEventBus(
      eventRulesOf(new LocalResolver(template, account)),
      async (functionLogicalId, event) => {
        calls.push({ functionLogicalId, event });
        if (failures-- > 0) throw new Error('throttled');
      },
      account,
      (line) => logged.push(line),
    );
    bus.put(ended('SUCCEEDED'));
    bus.put({ ...ended('FAILED'), resources: ['arn:execution'] });
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await bus.close();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({
      functionLogicalId: 'MarkFailed',
      event: {
        version: '0',
        id: expect.any(String),
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        account: '000000000000',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        region: 'eu-west-1',
        resources: ['arn:execution'],
        detail: { status: 'FAILED', stateMachineArn: machineArn, input: '{}' },
      },
    });
    expect(logged).toEqual([]);
  });
});
