/** What every tenant may send: API Gateway enforces it per tenant through a usage plan (lib/rest-api.ts). */
export interface TenantLimits {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests allowed at once above the steady rate (at least the rate). */
  readonly burstLimit: number;
  /** Requests per day (UTC). */
  readonly dailyQuota: number;
}

export const DEFAULT_TENANT_LIMITS: TenantLimits = { rateLimit: 25, burstLimit: 50, dailyQuota: 200_000 };

/** What is wrong with a set of limits, or undefined: whole positive numbers, and a burst no smaller than the rate. */
export function tenantLimitsProblem(limits: TenantLimits): string | undefined {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) return `${name} must be a whole number >= 1`;
  }
  if (limits.burstLimit < limits.rateLimit) return 'burstLimit must be at least rateLimit';
  return undefined;
}
