import { describe, expect, it } from 'vitest';
import { tenantPlanName, usageIdentifierOf } from '#commons/auth/api-keys.js';
import { UsageLimits } from '../../../../../local/apigateway/usage-plans.js';

/**
 * A tenant's usage identifier and its own usage plan's name: two tenants never
 * share either, or they would share one plan's rate and quota.
 */

describe('usageIdentifierOf', () => {
  it('gives `a` and `a_` different identifiers under a short stack name, where padding used to make them one', () => {
    const a = usageIdentifierOf('S-tenant-', 'a');
    const aUnderscore = usageIdentifierOf('S-tenant-', 'a_');
    expect(a).not.toBe(aUnderscore);
    expect(a.length).toBeGreaterThanOrEqual(20);
    expect(aUnderscore.length).toBeGreaterThanOrEqual(20);
  });

  it('is one-to-one over tenant ids that differ only in trailing `_`, `-` or digits, and is always at least 20 characters', () => {
    const tenants = ['a', 'a_', 'a__', 'a-', 'a1', '1-a', '1', '1_', '10', '10-a', 'a'.repeat(64), `${'a'.repeat(63)}_`];
    const identifiers = tenants.map((tenant) => usageIdentifierOf('S-tenant-', tenant));
    expect(new Set(identifiers).size).toBe(tenants.length);
    for (const identifier of identifiers) expect(identifier.length).toBeGreaterThanOrEqual(20);
  });

  it('puts two such tenants in separate buckets of the local usage plan', () => {
    const limits = new UsageLimits(undefined, { throttle: { rateLimit: 1, burstLimit: 1 }, dailyQuota: undefined }, () => 0);
    expect(limits.admit(usageIdentifierOf('S-tenant-', 'a'))).toBe('allowed');
    expect(limits.admit(usageIdentifierOf('S-tenant-', 'a_'))).toBe('allowed');
    expect(limits.admit(usageIdentifierOf('S-tenant-', 'a'))).toBe('THROTTLED');
  });
});

describe('tenantPlanName', () => {
  it('never names the default plan (lib/rest-api.ts: `<stack>-tenant-default`), not even for tenant `default`', () => {
    expect(tenantPlanName('RegressionJobs', 'default')).not.toBe('RegressionJobs-tenant-default');
    expect(tenantPlanName('RegressionJobs', 'acme')).toBe('RegressionJobs-tenant-plan-acme');
  });
});
