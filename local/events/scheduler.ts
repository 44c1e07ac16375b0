import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CfnTemplate, LocalAccount } from '../cloudformation/template.js';

/**
 * EventBridge scheduled rules, offline: every `AWS::Events::Rule` of the template
 * with a `ScheduleExpression` and a Lambda function target runs that function with
 * a "Scheduled Event", on a short period of its own rather than the rule's (a
 * five-minute sweep would make the offline stack slow to show anything), and on
 * demand (`runNow`, which the local control plane exposes for `npm run sweep`).
 * Runs of one rule never overlap: a tick that finds the last run still going is
 * skipped, as a slow target would be on AWS only if it were not concurrent.
 */

export interface ScheduleRule {
  logicalId: string;
  scheduleExpression: string;
  functionLogicalIds: string[];
}

const RuleProperties = z.object({
  ScheduleExpression: z.string(),
  State: z.string().optional(),
  Targets: z.array(z.object({ Arn: z.unknown() })).default([]),
});

/** The template's scheduled rules that target functions of the template (enabled ones only). */
export function scheduleRulesOf(template: CfnTemplate): ScheduleRule[] {
  const rules: ScheduleRule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const properties = RuleProperties.safeParse(resource.Properties);
    if (!properties.success || properties.data.State === 'DISABLED') continue;
    const functionLogicalIds = properties.data.Targets.flatMap(({ Arn }) => {
      const target = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }).safeParse(Arn);
      return target.success && template.Resources[target.data['Fn::GetAtt'][0]]?.Type === 'AWS::Lambda::Function' ? [target.data['Fn::GetAtt'][0]] : [];
    });
    if (functionLogicalIds.length > 0) rules.push({ logicalId, scheduleExpression: properties.data.ScheduleExpression, functionLogicalIds });
  }
  return rules;
}

export interface SchedulerOptions {
  rules: readonly ScheduleRule[];
  invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>;
  account: LocalAccount;
  /** How often every rule runs offline. */
  periodMs: number;
  log?: (line: string) => void;
}

export class LocalScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SchedulerOptions) {
    this.log = options.log ?? (() => undefined);
  }

  start(): void {
    if (this.options.rules.length === 0 || this.timer) return;
    this.timer = setInterval(() => {
      for (const rule of this.options.rules) if (!this.running.has(rule.logicalId)) void this.run(rule);
    }, this.options.periodMs);
    this.timer.unref();
  }

  /** Runs one rule (or `all`) now, waiting for its targets; false when there is no such rule. */
  async runNow(ruleLogicalId: string): Promise<boolean> {
    const rules = this.options.rules.filter((rule) => ruleLogicalId === 'all' || rule.logicalId === ruleLogicalId);
    if (rules.length === 0) return false;
    // A run already going is waited for, then a fresh one made: "now" means after this call.
    await Promise.all(
      rules.map(async (rule) => {
        await this.running.get(rule.logicalId);
        await this.run(rule);
      }),
    );
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.running.values());
  }

  private run(rule: ScheduleRule): Promise<void> {
    const { region, accountId } = this.options.account;
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [`arn:aws:events:${region}:${accountId}:rule/${rule.logicalId}`],
      detail: {},
    };
    const run = Promise.all(
      rule.functionLogicalIds.map((id) =>
        this.options.invoke(id, event).then(
          () => undefined,
          (error: unknown) => this.log(`[events] ${rule.logicalId} -> ${id} failed: ${error instanceof Error ? error.message : String(error)}`),
        ),
      ),
    ).then(() => {
      this.running.delete(rule.logicalId);
    });
    this.running.set(rule.logicalId, run);
    return run;
  }
}
