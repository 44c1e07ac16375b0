/**
 * Checks of the end-to-end suite that some targets cannot pass, each for a reason
 * of the target's own, not of this service (docs/testing.md, "What each target proves").
 * A target lists the ones it skips with the reason; the suite prints them when the
 * run starts and names the reason in each skipped test's title. Every other check
 * runs on every target, unchanged.
 */
export type Check =
  /** The WebSocket API: connect, subscribe, live changes (needs API Gateway v2). */
  | 'websocket'
  /** API Gateway's own errors (unknown route or method, its 10 MB limit) in the stack's error shape, through its gateway responses. */
  | 'gateway-errors'
  /** 401 for a missing or unknown key in the error shape, when the authorizer (API Gateway itself) refuses it. */
  | 'authorizer-errors'
  /** The jobs stream mapping bisects a failing batch (BisectBatchOnFunctionError); no end-to-end check exercises it yet. */
  | 'bisect';

export type Skips = Partial<Record<Check, string>>;

/** The lines printed when a run starts: what is skipped on this target and why. */
export function describeSkips(targetLabel: string, skips: Skips): string[] {
  const entries = Object.entries(skips) as [Check, string][];
  if (entries.length === 0) return [`[e2e] ${targetLabel}: every check runs`];
  return [`[e2e] ${targetLabel}: ${entries.length} kind(s) of check skipped`, ...entries.map(([check, reason]) => `[e2e]   skipped ${check}: ${reason}`)];
}
