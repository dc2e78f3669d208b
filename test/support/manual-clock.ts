import type { Clock } from '../../server/lib/clock.js';

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/** A clock that moves only when a test says so; timers fire in deadline order as it passes them. */
export class ManualClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private created = 0;

  constructor(start = Date.parse('2030-01-07T09:00:00.000Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    if (delayMs <= 0) {
      // Already due, as with setTimeout(…, 0): it fires on its own, without waiting for advance().
      let cancelled = false;
      setImmediate(() => {
        if (!cancelled) callback();
      });
      return () => {
        cancelled = true;
      };
    }
    const timer: Timer = { at: this.current + delayMs, order: this.created++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((candidate) => candidate !== timer);
    };
  }

  /** Moves time forward by `ms`, firing each timer due on the way with the clock at its deadline. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = target;
  }

  /** Moves time to `at` (never backwards). */
  advanceTo(at: number): void {
    this.advance(Math.max(0, at - this.current));
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
