import type { DesktopClock } from '../../main/core/clock.js';

interface Timer {
  /** On the monotonic clock, as real timers are. */
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when a test says so. `advance` moves wall and monotonic time together and fires
 * each timer due on the way, in order, with the clock at its deadline. `jumpWall` sets the wall clock
 * alone, as a user changing the system time does: timers, like real ones, keep to monotonic time.
 */
export class ManualClock implements DesktopClock {
  private wall: number;
  private mono = 0;
  private timers: Timer[] = [];
  private created = 0;

  constructor(start = Date.parse('2030-01-07T09:00:00.000Z')) {
    this.wall = start;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
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
    const timer: Timer = { at: this.mono + delayMs, order: this.created++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((candidate) => candidate !== timer);
    };
  }

  /** Moves time forward by `ms`, firing each timer due on the way with the clock at its deadline. */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      const step = Math.max(0, due.at - this.mono);
      this.mono += step;
      this.wall += step;
      due.callback();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }

  /** Moves wall time to `at` (never backwards), firing what falls due on the way. */
  advanceTo(at: number): void {
    this.advance(Math.max(0, at - this.wall));
  }

  /** Sets the wall clock by `deltaMs` without time passing: no timer fires. */
  jumpWall(deltaMs: number): void {
    this.wall += deltaMs;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
