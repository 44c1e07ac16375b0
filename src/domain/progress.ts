/**
 * Decides when training progress is worth writing: at most one write per
 * `intervalMs` (a long job updates a few times a second at most), yet at least one
 * between start and end (a short job reports once it is half-way), and never a
 * value that does not move forward.
 */
export class ProgressThrottle {
  private lastValue = 0;
  private lastAt: number;

  constructor(
    private readonly intervalMs = 250,
    private readonly clock: () => number = Date.now,
  ) {
    this.lastAt = clock();
  }

  /** True when `fraction` (0..1, exclusive of the end) should be written now. */
  shouldReport(fraction: number): boolean {
    if (fraction >= 1 || fraction - this.lastValue < 0.01) return false;
    const now = this.clock();
    const due = now - this.lastAt >= this.intervalMs || (this.lastValue === 0 && fraction >= 0.5);
    if (!due) return false;
    this.lastValue = fraction;
    this.lastAt = now;
    return true;
  }
}

/** Rounds a fraction for storage: progress is shown, not computed with. */
export function roundProgress(fraction: number): number {
  return Math.min(1, Math.max(0, Math.round(fraction * 1000) / 1000));
}
