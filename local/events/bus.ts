import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type LocalResolver, referencedLogicalId } from '../cloudformation/template.js';

/**
 * EventBridge's default bus for the offline stack: the template's rules with an
 * event pattern (`AWS::Events::Rule`), matched against the events the local
 * services emit (Step Functions' "Execution Status Change"), and delivered to
 * their Lambda targets asynchronously, retried as the target's RetryPolicy says
 * (locally after 1, 2, 4… s, at most 30 s apart, instead of minutes).
 *
 * Patterns are matched as EventBridge matches them for exact values: every key of
 * the pattern must be in the event, a list matches one of its values, an object
 * matches the event's object of the same key. Content filters (prefix, numeric,
 * anything-but, exists) are refused at start-up, not silently ignored.
 */

export interface BusEvent {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  resources?: string[];
}

interface LocalRule {
  logicalId: string;
  pattern: Record<string, unknown>;
  targets: { functionLogicalId: string; maximumRetryAttempts: number }[];
}

const RuleProperties = z.object({
  EventPattern: z.record(z.string(), z.unknown()).optional(),
  State: z.string().default('ENABLED'),
  Targets: z.array(z.object({ Arn: z.unknown(), RetryPolicy: z.object({ MaximumRetryAttempts: z.number().int().min(0).optional() }).optional() })).default([]),
});

/** The rules that match events (not schedules), with the Lambda functions they target. */
export function eventRulesOf(resolver: LocalResolver): LocalRule[] {
  return Object.entries(resolver.template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Events::Rule')
    .flatMap(([logicalId, resource]) => {
      const properties = RuleProperties.parse(resource.Properties ?? {});
      if (properties.EventPattern === undefined || properties.State !== 'ENABLED') return [];
      const pattern = z.record(z.string(), z.unknown()).parse(resolver.resolve(properties.EventPattern));
      assertExactValues(logicalId, pattern);
      const targets = properties.Targets.flatMap((target) => {
        const functionLogicalId = referencedLogicalId(target.Arn);
        if (functionLogicalId === undefined || resolver.template.Resources[functionLogicalId]?.Type !== 'AWS::Lambda::Function') {
          throw new Error(`rule ${logicalId} targets ${JSON.stringify(target.Arn)}: the local event bus delivers to the template's functions only`);
        }
        return [{ functionLogicalId, maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? 185 }];
      });
      return [{ logicalId, pattern, targets }];
    });
}

function assertExactValues(ruleId: string, pattern: unknown): void {
  for (const value of Object.values(pattern as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      if (value.some((item) => typeof item === 'object' && item !== null)) {
        throw new Error(`rule ${ruleId} uses a content filter; the local event bus matches exact values only`);
      }
    } else if (typeof value === 'object' && value !== null) {
      assertExactValues(ruleId, value);
    } else {
      throw new Error(`rule ${ruleId}: a pattern's leaves must be lists of values`);
    }
  }
}

/** Whether `event` matches `pattern` (exact values, as above). */
export function patternMatches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return (Array.isArray(actual) ? actual : [actual]).some((value) => expected.includes(value));
    return typeof actual === 'object' && actual !== null && patternMatches(expected as Record<string, unknown>, actual as Record<string, unknown>);
  });
}

export class LocalEventBus {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly rules: readonly LocalRule[],
    private readonly invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>,
    private readonly account: { region: string; accountId: string },
    private readonly log: (line: string) => void = console.error,
  ) {}

  /** Puts an event on the bus, as the AWS service that emits it would; delivery happens in the background. */
  put(event: BusEvent): void {
    const envelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': event['detail-type'],
      source: event.source,
      account: this.account.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.account.region,
      resources: event.resources ?? [],
      detail: event.detail,
    };
    for (const rule of this.rules) {
      if (!patternMatches(rule.pattern, envelope)) continue;
      for (const target of rule.targets) {
        const delivery = this.deliver(rule.logicalId, target, envelope).finally(() => this.inFlight.delete(delivery));
        this.inFlight.add(delivery);
      }
    }
  }

  /** Stops retrying and waits (briefly) for deliveries under way. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }

  private async deliver(ruleId: string, target: LocalRule['targets'][number], event: unknown): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.invoke(target.functionLogicalId, event);
        return;
      } catch (error) {
        if (attempt >= target.maximumRetryAttempts) {
          this.log(
            `[events] ${ruleId}: ${target.functionLogicalId} failed ${attempt + 1} times, giving up: ${error instanceof Error ? error.message : String(error)}`,
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1_000 * 2 ** attempt)).unref());
      }
    }
  }
}
