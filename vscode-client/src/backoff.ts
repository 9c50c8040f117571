// When the server crashes: how long to wait before starting it again, and when to give up.

export const RESTART_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
export const STABLE_AFTER_MS = 3 * 60_000;

export class RestartPolicy {
  private crashes = 0;
  private lastCrash = -Infinity;

  constructor(
    private readonly delaysMs: readonly number[] = RESTART_DELAYS_MS,
    private readonly stableAfterMs: number = STABLE_AFTER_MS,
  ) {}

  /**
   * Record a crash at `now` (ms); return the delay before the next start, or undefined to
   * give up. A server that ran for `stableAfterMs` since the last crash starts a fresh count.
   */
  next(now: number): number | undefined {
    if (now - this.lastCrash >= this.stableAfterMs) {
      this.crashes = 0;
    }
    this.lastCrash = now;
    this.crashes += 1;
    return this.delaysMs[this.crashes - 1];
  }

  /** A start the user asked for: forget earlier crashes. */
  reset(): void {
    this.crashes = 0;
    this.lastCrash = -Infinity;
  }
}
