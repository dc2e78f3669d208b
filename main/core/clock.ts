import { systemClock, type Clock } from '../../api/clock.js';

export type { Clock };

/** The desktop's clock: wall time and timers (injected in tests), and a monotonic reading to notice jumps. */
export interface DesktopClock extends Clock {
  /** Milliseconds on a clock that never jumps (it may pause while the machine sleeps). */
  monotonic(): number;
}

export const systemDesktopClock: DesktopClock = {
  now: () => systemClock.now(),
  setTimer: (callback, delayMs) => systemClock.setTimer(callback, delayMs),
  monotonic: () => performance.now(),
};
