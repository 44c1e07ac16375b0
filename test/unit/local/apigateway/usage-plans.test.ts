import { describe, expect, it } from 'vitest';
import { TokenBucket, UsageLimits, usageLimitsOf } from '../../../../local/apigateway/usage-plans.js';

function clock(start = Date.parse('2026-11-30T23:59:58.000Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('lets a burst through, then one request per 1/rate seconds', () => {
    const time = clock();
    const bucket = new TokenBucket({ rateLimit: 2, burstLimit: 3 }, time.now);
    expect([1, 2, 3, 4].map(() => bucket.take())).toEqual([true, true, true, false]);
    time.advance(499);
    expect(bucket.take()).toBe(false);
    time.advance(1);
    expect(bucket.take()).toBe(true);
    time.advance(10_000); // refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => bucket.take())).toEqual([true, true, true, false]);
  });
});

describe('UsageLimits', () => {
  it("throttles one tenant's burst while another tenant's requests pass", () => {
    const time = clock();
    const limits = new UsageLimits({ rateLimit: 50, burstLimit: 100 }, { throttle: { rateLimit: 1, burstLimit: 2 }, dailyQuota: undefined }, time.now);
    expect(['a', 'a', 'a', 'b', 'b'].map((tenant) => limits.admit(tenant))).toEqual(['allowed', 'allowed', 'THROTTLED', 'allowed', 'allowed']);
  });

  it('refuses a tenant past its daily quota until the next UTC day', () => {
    const time = clock();
    const limits = new UsageLimits(undefined, { throttle: undefined, dailyQuota: 2 }, time.now);
    expect([1, 2, 3].map(() => limits.admit('a'))).toEqual(['allowed', 'allowed', 'QUOTA_EXCEEDED']);
    expect(limits.admit('b')).toBe('allowed');
    time.advance(2_000); // 00:00 UTC
    expect(limits.admit('a')).toBe('allowed');
  });

  it('applies the stage limit to everyone together, and only to requests the plan let through', () => {
    const time = clock();
    const limits = new UsageLimits({ rateLimit: 1, burstLimit: 2 }, { throttle: { rateLimit: 1, burstLimit: 1 }, dailyQuota: undefined }, time.now);
    expect(limits.admit('a')).toBe('allowed');
    expect(limits.admit('a')).toBe('THROTTLED'); // the plan's: the stage keeps its token
    expect(limits.admit('b')).toBe('allowed');
    expect(limits.admit('c')).toBe('THROTTLED'); // the stage's
    expect(limits.admit(undefined)).toBe('THROTTLED'); // no usage identifier (GET /health): the stage only
  });

  it('reads the stage throttling and the usage plan from the template', () => {
    const limits = usageLimitsOf({
      Resources: {
        Plan: { Type: 'AWS::ApiGateway::UsagePlan', Properties: { Throttle: { RateLimit: 25, BurstLimit: 50 }, Quota: { Limit: 1000, Period: 'DAY' } } },
        Stage: {
          Type: 'AWS::ApiGateway::Stage',
          Properties: { MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }] },
        },
      },
    } as never);
    expect(limits.stageThrottle).toEqual({ rateLimit: 50, burstLimit: 100 });
    expect(limits.plan).toEqual({ throttle: { rateLimit: 25, burstLimit: 50 }, dailyQuota: 1000 });
  });
});
