import type { Clock } from '../../api/clock.js';
import type { RateWindow } from '../policy/types.js';

const MAX_TRACKED_KEYS = 10_000;

/**
 * Counts failed sign-ins per key (an account, an address) over a sliding window and refuses further
 * attempts once the limit is reached, until the oldest failure leaves the window. In memory, per
 * instance: behind N instances an attacker gets at most N times the limit, which the window still bounds.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly window: RateWindow,
  ) {}

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  retryAfterMs(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.window.attempts) return 0;
    const oldest = recent[recent.length - this.window.attempts] ?? this.clock.now();
    return Math.max(1, oldest + this.window.windowSeconds * 1000 - this.clock.now());
  }

  recordFailure(key: string): void {
    this.failures.set(key, [...this.recent(key), this.clock.now()]);
    // Keys are pruned when read; a spray from many addresses is pruned here so memory stays bounded.
    if (this.failures.size > MAX_TRACKED_KEYS)
      for (const tracked of [...this.failures.keys()]) this.recent(tracked);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.clock.now() - this.window.windowSeconds * 1000;
    const recent = (this.failures.get(key) ?? []).filter((at) => at > since);
    if (recent.length === 0) this.failures.delete(key);
    else this.failures.set(key, recent);
    return recent;
  }
}
