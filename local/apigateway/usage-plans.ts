import { z } from 'zod';
import type { CfnTemplate } from '../cloudformation/template.js';

/**
 * API Gateway's request limits for the local REST gateway, as the template sets
 * them: the stage's throttling (every client together) and the tenants' usage plan
 * (a token bucket and a daily quota per usage identifier, the key the authorizer
 * answers as `usageIdentifierKey`). A request over either is refused with the
 * stack's THROTTLED or QUOTA_EXCEEDED gateway response (429 `RATE_LIMITED`).
 *
 * Every tenant is in the template's one usage plan here; plans a deployed stack
 * gives single tenants (`npm run api-key -- limits`) exist only on AWS.
 */

export interface Throttle {
  /** Tokens added per second. */
  rateLimit: number;
  /** The bucket's size: how many requests may come at once. */
  burstLimit: number;
}

export interface UsagePlanLimits {
  throttle: Throttle | undefined;
  /** Requests per UTC day. */
  dailyQuota: number | undefined;
}

/** A token bucket: `burstLimit` tokens, refilled at `rateLimit` a second; each request takes one. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly throttle: Throttle,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = throttle.burstLimit;
    this.updatedAt = now();
  }

  /** Takes a token if there is one. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.throttle.burstLimit, this.tokens + ((now - this.updatedAt) / 1000) * this.throttle.rateLimit);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type Admission = 'allowed' | 'THROTTLED' | 'QUOTA_EXCEEDED';

export class UsageLimits {
  private readonly stage: TokenBucket | undefined;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly used = new Map<string, { day: string; count: number }>();

  constructor(
    readonly stageThrottle: Throttle | undefined,
    readonly plan: UsagePlanLimits | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.stage = stageThrottle ? new TokenBucket(stageThrottle, now) : undefined;
  }

  /**
   * Admits one request: its usage identifier's plan first (rate, then quota), then
   * the stage. A request the plan refuses takes nothing from the stage, so one
   * tenant's burst cannot use up what the others share.
   */
  admit(usageIdentifier: string | undefined): Admission {
    if (usageIdentifier !== undefined && this.plan) {
      const { throttle, dailyQuota } = this.plan;
      if (throttle) {
        let bucket = this.buckets.get(usageIdentifier);
        if (!bucket) this.buckets.set(usageIdentifier, (bucket = new TokenBucket(throttle, this.now)));
        if (!bucket.take()) return 'THROTTLED';
      }
      if (dailyQuota !== undefined) {
        const day = new Date(this.now()).toISOString().slice(0, 10);
        const usage = this.used.get(usageIdentifier);
        const count = usage?.day === day ? usage.count : 0;
        if (count >= dailyQuota) return 'QUOTA_EXCEEDED';
        this.used.set(usageIdentifier, { day, count: count + 1 });
      }
    }
    if (this.stage && !this.stage.take()) return 'THROTTLED';
    return 'allowed';
  }
}

const UsagePlanProperties = z.object({
  Throttle: z.object({ RateLimit: z.number(), BurstLimit: z.number() }).optional(),
  Quota: z.object({ Limit: z.number(), Period: z.enum(['DAY', 'WEEK', 'MONTH']) }).optional(),
});

const StageProperties = z.object({
  MethodSettings: z
    .array(
      z.object({ HttpMethod: z.string(), ResourcePath: z.string(), ThrottlingRateLimit: z.number().optional(), ThrottlingBurstLimit: z.number().optional() }),
    )
    .optional(),
});

/** The stage's throttling and the template's usage plan (one at most), as the local gateway enforces them. */
export function usageLimitsOf(template: CfnTemplate, now: () => number = Date.now): UsageLimits {
  const resources = Object.values(template.Resources);
  const plans = resources.filter((resource) => resource.Type === 'AWS::ApiGateway::UsagePlan');
  if (plans.length > 1) throw new Error(`the local gateway enforces one usage plan; the template has ${plans.length}`);
  const plan = plans[0] && UsagePlanProperties.parse(plans[0].Properties);
  if (plan?.Quota && plan.Quota.Period !== 'DAY') throw new Error(`the local gateway counts daily quotas only; the plan's is per ${plan.Quota.Period}`);
  const stage = resources.find((resource) => resource.Type === 'AWS::ApiGateway::Stage');
  const all = stage && StageProperties.parse(stage.Properties).MethodSettings?.find((setting) => setting.HttpMethod === '*' && setting.ResourcePath === '/*');
  const stageThrottle =
    all?.ThrottlingRateLimit !== undefined && all.ThrottlingBurstLimit !== undefined
      ? { rateLimit: all.ThrottlingRateLimit, burstLimit: all.ThrottlingBurstLimit }
      : undefined;
  return new UsageLimits(
    stageThrottle,
    plan && {
      throttle: plan.Throttle && { rateLimit: plan.Throttle.RateLimit, burstLimit: plan.Throttle.BurstLimit },
      dailyQuota: plan.Quota?.Limit,
    },
    now,
  );
}
