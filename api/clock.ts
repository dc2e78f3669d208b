/**
 * Time, injected. Every deadline in the service (expiry, reminders, lapses, escalations, heartbeats,
 * token lifetimes) reads this clock, so tests move time forward instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`; the returned function cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

// setTimeout overflows (and fires at once) past 2^31-1 ms, about 24.8 days.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    let handle: NodeJS.Timeout;
    const arm = (remainingMs: number): void => {
      const step = Math.min(Math.max(0, remainingMs), MAX_TIMER_DELAY_MS);
      handle = setTimeout(() => {
        if (remainingMs > MAX_TIMER_DELAY_MS) arm(remainingMs - MAX_TIMER_DELAY_MS);
        else callback();
      }, step);
      // A pending deadline never keeps the process alive on its own: the listener does that.
      handle.unref();
    };
    arm(delayMs);
    return () => {
      clearTimeout(handle);
    };
  },
};

export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
