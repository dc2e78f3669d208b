import type { Database } from '../db/database.js';
import type { Clock } from '../../api/clock.js';
import { CHAIN_BATCH, chainPending } from './log.js';

export interface ChainerLogger {
  warn(details: object, message: string): void;
}

/**
 * How long recorded entries wait to be chained, so that each chaining transaction takes a batch. Readers
 * never wait for it (they flush), and a recorded entry is already durable: it only delays when the hash
 * covers it. On PGlite, where every transaction takes turns on one connection, chaining each commit's
 * entries on its own cost more than the chain's lock in the writer's transaction had.
 */
export const CHAIN_DELAY_MS = 20;

/**
 * Chains the recorded audit entries onto the log: shortly after each commit that recorded some (`nudge`),
 * and all of them before the log is read (`flush`), so a reader sees every entry committed before the
 * read began, whichever instance wrote it. One run at a time per instance.
 */
export class AuditChainer {
  private running: Promise<void> | null = null;
  private cancelTimer: (() => void) | null = null;
  private nudgedWhileRunning = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: ChainerLogger,
  ) {}

  /** Entries were recorded: chain them soon. A failure is logged; the next nudge or flush takes them. */
  nudge(): void {
    if (this.closed || this.cancelTimer) return;
    if (this.running) {
      this.nudgedWhileRunning = true;
      return;
    }
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = null;
      this.running = this.chainAll()
        .catch((error: unknown) => {
          this.log.warn(
            { err: error },
            'could not chain the recorded audit entries; the next write or read will',
          );
        })
        .finally(() => {
          this.running = null;
          if (this.nudgedWhileRunning) {
            this.nudgedWhileRunning = false;
            this.nudge();
          }
        });
    }, CHAIN_DELAY_MS);
  }

  /** Chains every entry recorded before this call; throws when the database refuses. */
  async flush(): Promise<void> {
    // A run under way may hold entries this caller wants chained: wait for it, then take whatever is
    // left (entries another instance is chaining are waited for on the head's lock).
    await this.running;
    await this.chainAll();
  }

  /** At shutdown: nothing more is started, and what was recorded is chained now. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.flush();
  }

  private async chainAll(): Promise<void> {
    while ((await chainPending(this.db)) === CHAIN_BATCH);
  }
}
