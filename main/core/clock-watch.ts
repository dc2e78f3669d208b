import type { DesktopClock } from './clock.js';

/** A jump between wall and monotonic time beyond this means someone set the clock (or the machine slept). */
export const CLOCK_JUMP_MS = 2000;
/** How often the watch looks, unless something else asks sooner. */
export const CLOCK_CHECK_EVERY_MS = 30_000;

/**
 * Notices the wall clock moving against the monotonic one: the user (or the OS) set it, or the machine
 * slept. It looks on a timer of its own, which keeps to monotonic time as real timers do, so it needs
 * neither the network nor the event stream; anything that shows life in between (a stream heartbeat)
 * may ask it to look sooner. Each look compares with the one before, so the slow drift of a
 * time-synchronised wall clock never adds up to a jump.
 */
export class ClockWatch {
  private wallMinusMonotonic: number;
  private cancel: (() => void) | null = null;

  constructor(
    private readonly clock: DesktopClock,
    /** `jumpMs`: how far the wall clock moved beyond the time that passed (negative: it was set back). */
    private readonly onJump: (jumpMs: number) => void,
  ) {
    this.wallMinusMonotonic = this.reading();
  }

  start(): void {
    if (this.cancel) return;
    this.accept();
    const tick = (): void => {
      this.cancel = this.clock.setTimer(() => {
        this.check();
        if (this.cancel) tick();
      }, CLOCK_CHECK_EVERY_MS);
    };
    tick();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  /** Looks now; a jump is reported once. */
  check(): void {
    const reading = this.reading();
    const jump = reading - this.wallMinusMonotonic;
    this.wallMinusMonotonic = reading;
    if (Math.abs(jump) > CLOCK_JUMP_MS) this.onJump(jump);
  }

  /** Takes the clocks as they are now as the baseline: a change already handled (a resume) is not news. */
  accept(): void {
    this.wallMinusMonotonic = this.reading();
  }

  private reading(): number {
    return this.clock.now() - this.clock.monotonic();
  }
}
