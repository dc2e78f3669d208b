import type { Database } from '../db/database.js';
import type { DueTask } from '../domain/due.js';
import type { UnitOfWork } from '../domain/work.js';
import { isIdOf } from '../lib/ids.js';
import type { Clock } from '../../api/clock.js';
import type { Channel, Delivery } from './channel.js';
import { DELIVERY_LEASE_MS } from './outbox.js';

export interface DeliveryRow {
  readonly id: string;
  readonly channel: string;
  readonly target: string;
  readonly event_type: string;
  readonly payload: unknown;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly last_error: string | null;
  readonly next_attempt_at: Date | null;
  readonly give_up_at: Date;
  readonly created_at: Date;
  readonly delivered_at: Date | null;
}

export interface DeliveriesLogger {
  warn(details: object, message: string): void;
}

const CLAIM_BATCH = 50;
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 3_600_000;

/** 5 s, 10 s, 20 s, … up to an hour between attempts: about 30 attempts in a day. */
export const retryDelay = (attempt: number): number =>
  Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, attempt - 1));

/**
 * The delivery worker. Deliveries are written by the change they announce (ChannelOutbox); the instance
 * that committed them claims them at once, and every instance's scheduler claims what is due (retries,
 * and the deliveries of an instance that died: a claim is a lease). A claim moves the row's due time to
 * the lease's end and counts the attempt, in one statement with FOR UPDATE SKIP LOCKED, so two instances
 * never send one delivery at once. A delivery is sent at least once: a crash after the receiver accepted
 * it and before the outcome was recorded sends it again, with the same id.
 *
 * A failure is retried with exponential backoff until the delivery's give-up time (the channels'
 * `retryFor` after it was written), then it is a dead letter, listed for administrators, who can send it
 * again. Sending runs after the commit, never inside a request: a slow receiver slows nobody's decision.
 */
export class Deliveries {
  private readonly channels: ReadonlyMap<string, Channel>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Fired at stop: a send still waiting on its receiver gives up, to be tried again later. */
  private readonly abandon = new AbortController();
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    channels: readonly Channel[],
    private readonly retryForMs: number,
    private readonly logger: DeliveriesLogger,
  ) {
    this.channels = new Map(channels.map((channel) => [channel.name, channel]));
  }

  /** The scheduler's task: claims due deliveries and starts them. */
  dueTask(): DueTask {
    return { name: 'send deliveries', run: (limit) => this.claimAndStart(limit) };
  }

  /** Claims and starts what is due now (after a commit that wrote deliveries, or a retry by hand). */
  startDue(): void {
    if (this.stopped) return;
    this.track(
      this.claimAndStart(CLAIM_BATCH).then(
        (claimed) => {
          if (claimed === CLAIM_BATCH) this.startDue();
        },
        (error: unknown) => {
          // The scheduler claims them when their lease (or due time) comes: nothing is lost.
          this.logger.warn({ err: error }, 'could not claim deliveries; the scheduler will');
        },
      ),
    );
  }

  /** Resolves when no delivery is being sent (tests wait on it). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /**
   * Stops claiming, abandons the sends still waiting on a receiver (a stop never waits out a slow one)
   * and waits until every outcome is recorded: an abandoned send is a failed attempt, retried soon.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abandon.abort();
    await this.settled();
  }

  /** Deliveries newest first, for administrators. */
  async list(filter: {
    readonly status?: DeliveryRow['status'] | undefined;
    readonly channel?: string | undefined;
    readonly limit: number;
  }): Promise<DeliveryRow[]> {
    return this.db.query<DeliveryRow>(
      `SELECT * FROM deliveries
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [filter.status ?? null, filter.channel ?? null, filter.limit],
    );
  }

  /**
   * Sends a dead letter again: due now, with a new `retryFor` to succeed in. Returns the row as it is
   * now, null when there is no such delivery; a delivery that is not failed is returned unchanged.
   */
  async retry(id: string): Promise<{ row: DeliveryRow; retried: boolean } | null> {
    if (!isIdOf('dlv', id)) return null;
    const outcome = await this.uow.run(async (work) => {
      const [row] = await work.sql.query<DeliveryRow & { retried: boolean }>(
        `WITH retried AS (
           UPDATE deliveries SET status = 'pending', next_attempt_at = $2, give_up_at = $3
            WHERE id = $1 AND status = 'failed' RETURNING *
         )
         SELECT *, true AS retried FROM retried
         UNION ALL SELECT *, false FROM deliveries WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM retried)`,
        [id, new Date(work.now), new Date(work.now + this.retryForMs)],
      );
      if (row?.retried) work.wake(new Date(work.now + DELIVERY_LEASE_MS));
      return row;
    });
    if (!outcome) return null;
    const { retried, ...row } = outcome;
    if (retried) this.startDue();
    return { row, retried };
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async claimAndStart(limit: number): Promise<number> {
    if (this.stopped) return 0;
    const now = this.clock.now();
    const claimed = await this.db.query<DeliveryRow>(
      `UPDATE deliveries SET next_attempt_at = $2, attempts = attempts + 1
        WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [new Date(now), new Date(now + DELIVERY_LEASE_MS), limit],
    );
    for (const row of claimed) this.track(this.send(row));
    return claimed.length;
  }

  private async send(row: DeliveryRow): Promise<void> {
    const delivery: Delivery = {
      id: row.id,
      channel: row.channel,
      target: row.target,
      eventType: row.event_type,
      payload: row.payload,
      attempt: row.attempts,
    };
    try {
      const channel = this.channels.get(row.channel);
      if (!channel) throw new Error(`the ${row.channel} channel is no longer configured`);
      await channel.send(delivery, this.clock.now(), this.abandon.signal);
    } catch (error) {
      await this.recordFailure(row, error instanceof Error ? error.message : String(error)).catch(
        (recordError: unknown) => {
          // Our own database is away: the lease runs out and the delivery is tried again.
          this.logger.warn({ err: recordError, deliveryId: row.id }, 'could not record a failed delivery');
        },
      );
      return;
    }
    // Only the claim that sent it records it: a newer claim (after this lease ran out) counted again.
    await this.db
      .query(
        `UPDATE deliveries SET status = 'delivered', delivered_at = $2, next_attempt_at = NULL, last_error = NULL
          WHERE id = $1 AND attempts = $3 AND status = 'pending'`,
        [row.id, new Date(this.clock.now()), row.attempts],
      )
      .catch((error: unknown) => {
        // It will be sent again when the lease runs out, with the same id: receivers drop the repeat.
        this.logger.warn({ err: error, deliveryId: row.id }, 'could not record a delivery');
      });
  }

  private async recordFailure(row: DeliveryRow, message: string): Promise<void> {
    const lastError = message.slice(0, 500);
    await this.uow.run(async (work) => {
      const retryAt = work.now + retryDelay(row.attempts);
      const givingUp = retryAt > row.give_up_at.getTime();
      const [updated] = await work.sql.query<{ id: string }>(
        `UPDATE deliveries SET last_error = $3, status = $4, next_attempt_at = $5
          WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING id`,
        [
          row.id,
          row.attempts,
          lastError,
          givingUp ? 'failed' : 'pending',
          givingUp ? null : new Date(retryAt),
        ],
      );
      if (!updated) return;
      const details = {
        deliveryId: row.id,
        channel: row.channel,
        target: row.target,
        eventType: row.event_type,
        attempts: row.attempts,
        error: lastError,
      };
      if (givingUp) {
        this.logger.warn(
          details,
          'gave up on a delivery: it is a dead letter until an administrator retries it',
        );
      } else {
        this.logger.warn(
          { ...details, retryAt: new Date(retryAt).toISOString() },
          'a delivery failed; retrying',
        );
        work.wake(new Date(retryAt));
      }
    });
  }
}
