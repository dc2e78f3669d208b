import type { DueTask } from '../domain/due.js';
import type { Clock } from '../../api/clock.js';

export interface SchedulerLogger {
  error(details: object, message: string): void;
}

const BATCH_SIZE = 200;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
const CONTENDED_RETRY_MS = 50;

/**
 * One timer, armed at the next deadline; no polling. When it fires, every task runs until nothing is due,
 * then the timer is armed at the next deadline the database knows. A commit anywhere (on any instance,
 * through LISTEN/NOTIFY) that brings a deadline forward calls `consider`. At start, whatever fell due
 * while the service was down is handled at once.
 */
export class Scheduler {
  private cancelTimer: (() => void) | null = null;
  private armedFor: number | null = null;
  private running: Promise<void> | null = null;
  private runAgain = false;
  private stopped = false;
  private failures = 0;
  /** When the latest pass over the tasks began: everything due by then is handled by that pass. */
  private passStartedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly tasks: readonly DueTask[],
    private readonly nextDeadline: () => Promise<number | null>,
    private readonly logger: SchedulerLogger,
  ) {}

  start(): Promise<void> {
    return this.run();
  }

  /** The deadline the timer is armed for; null when nothing is due. */
  get nextWakeAt(): number | null {
    return this.armedFor;
  }

  /**
   * A deadline that may be earlier than the one the timer waits for. A deadline at or before the start
   * of the latest pass is already covered by it (a deadline is always later than the commit that set it,
   * and that pass read every commit before it): a NOTIFY that arrives late changes nothing.
   */
  consider(deadline: number): void {
    if (this.stopped || deadline <= this.passStartedAt) return;
    if (this.armedFor === null || deadline < this.armedFor) this.arm(deadline);
  }

  /** Resolves once no run is in progress; tests call it after moving the clock. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedFor = null;
    await this.settled();
  }

  private arm(deadline: number): void {
    this.cancelTimer?.();
    this.armedFor = deadline;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = null;
      this.armedFor = null;
      void this.run();
    }, deadline - this.clock.now());
  }

  private run(): Promise<void> {
    if (this.running) {
      this.runAgain = true;
      return this.running;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      // A start that came while a pass was failing (the database coming back) is not lost with it.
      if (this.runAgain && !this.stopped) void this.run();
    });
    return this.running;
  }

  /** Whether a deadline passed while the tasks ran (read after awaits, which may have changed it). */
  private calledAgainMeanwhile(): boolean {
    return this.runAgain && !this.stopped;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        let handled = 0;
        do {
          this.runAgain = false;
          this.passStartedAt = this.clock.now();
          for (const task of this.tasks) {
            for (;;) {
              if (this.stopped) return;
              const count = await task.run(BATCH_SIZE);
              handled += count;
              if (count < BATCH_SIZE) break;
            }
          }
        } while (this.calledAgainMeanwhile());
        this.failures = 0;
        const next = await this.nextDeadline();
        if (next === null) return;
        if (next > this.clock.now()) {
          this.consider(next);
          return;
        }
        // Something fell due while we worked: go round again at once. When nothing was handled, the
        // due rows are locked by another instance finishing them; look again shortly instead of spinning.
        if (handled === 0) {
          this.consider(this.clock.now() + CONTENDED_RETRY_MS);
          return;
        }
      }
    } catch (error) {
      // The database may be away; everything due stays due, so try again soon, backing off.
      this.failures += 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
      this.logger.error({ err: error, retryInMs: delay }, 'due work failed; retrying');
      this.consider(this.clock.now() + delay);
    }
  }
}
