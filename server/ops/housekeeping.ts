import type { Database } from '../db/database.js';
import type { Clock } from '../../api/clock.js';

const HOUR_MS = 3_600_000;

/** How long each kind of transient row is kept. History (requests, grants, audit) is never deleted. */
export const RETENTION = {
  /** A stream resuming from further back than this gets only what is left, then resyncs (as the app does). */
  eventsMs: 7 * 24 * HOUR_MS,
  /** Idempotency keys protect retries, which happen within minutes. */
  idempotencyKeysMs: 24 * HOUR_MS,
  /** Sessions are kept a day past their end so a late request still gets token_expired, not invalid_token. */
  endedSessionsMs: 24 * HOUR_MS,
  /** Deliveries to channels outside the app, once delivered or given up on: the admin list's history. */
  finishedDeliveriesMs: 30 * 24 * HOUR_MS,
} as const;

/** Deletes expired transient rows now and then every hour, on the injected clock. */
export class Housekeeping {
  private cancel: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    void this.sweep();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  async sweep(): Promise<void> {
    const now = this.clock.now();
    try {
      await this.db.query('DELETE FROM events WHERE created_at < $1', [new Date(now - RETENTION.eventsMs)]);
      await this.db.query('DELETE FROM idempotency_keys WHERE created_at < $1', [
        new Date(now - RETENTION.idempotencyKeysMs),
      ]);
      await this.db.query('DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1', [
        new Date(now - RETENTION.endedSessionsMs),
      ]);
      await this.db.query(
        `DELETE FROM deliveries WHERE (status = 'delivered' AND delivered_at < $1) OR (status = 'failed' AND give_up_at < $1)`,
        [new Date(now - RETENTION.finishedDeliveriesMs)],
      );
      // A used approval link only has to be remembered while its request can still be decided.
      await this.db.query(
        `DELETE FROM approval_links_used used USING requests
          WHERE requests.id = used.request_id AND requests.status <> 'pending'`,
      );
    } catch (error) {
      this.onError(error);
    }
    this.cancel?.();
    this.cancel = this.clock.setTimer(() => void this.sweep(), HOUR_MS);
  }
}
