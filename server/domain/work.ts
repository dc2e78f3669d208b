import { recordAudit, type AuditDraft } from '../audit/log.js';
import type { Database, Sql } from '../db/database.js';
import { encodeNotice, NOTIFY_CHANNEL, type EventType } from '../events/types.js';
import type { Clock } from '../lib/clock.js';

interface PendingEvent {
  readonly userIds: readonly string[];
  readonly type: EventType;
  readonly data: unknown;
}

/**
 * One transaction's changes and their consequences. Domain code changes rows through `sql` and says what
 * follows (events to users, audit entries, new deadlines); `UnitOfWork.run` writes those in the same
 * transaction, so a state change, its audit entry and its events commit together or not at all.
 */
export class Work {
  private readonly events: PendingEvent[] = [];
  private readonly audits: AuditDraft[] = [];
  private earliestDeadline: number | null = null;
  private readonly committedHooks: (() => void)[] = [];

  constructor(
    readonly sql: Sql,
    /** The one instant this transaction happens at. */
    readonly now: number,
  ) {}

  emit(userIds: Iterable<string>, type: EventType, data: unknown): void {
    const recipients = [...new Set(userIds)];
    if (recipients.length > 0) this.events.push({ userIds: recipients, type, data });
  }

  audit(draft: AuditDraft): void {
    this.audits.push(draft);
  }

  /** A new deadline (an expiry, a reminder, a lapse) the schedulers of every instance must not sleep past. */
  wake(at: Date | null): void {
    if (at === null) return;
    const ms = at.getTime();
    if (this.earliestDeadline === null || ms < this.earliestDeadline) this.earliestDeadline = ms;
  }

  /** Runs once the transaction has committed (metrics, say); never when it rolls back. */
  onCommitted(hook: () => void): void {
    this.committedHooks.push(hook);
  }

  /** @internal Writes the outbox; called by UnitOfWork as the transaction's last step. */
  async flush(): Promise<void> {
    // The events and the NOTIFY that announces them (and any new deadline) go in one statement.
    const recipients = [...new Set(this.events.flatMap((event) => event.userIds))].sort();
    const notice =
      recipients.length > 0 || this.earliestDeadline !== null
        ? encodeNotice({ users: recipients, deadline: this.earliestDeadline })
        : null;
    if (this.events.length > 0) await appendEvents(this.sql, this.now, this.events, notice);
    else if (notice !== null) await this.sql.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, notice]);
    await recordAudit(this.sql, this.now, this.audits);
  }

  /** @internal */
  runCommittedHooks(): void {
    for (const hook of this.committedHooks) hook();
  }

  /** @internal */
  get deadline(): number | null {
    return this.earliestDeadline;
  }

  /** @internal Whether it recorded audit entries, which are now waiting to be chained. */
  get audited(): boolean {
    return this.audits.length > 0;
  }
}

export class UnitOfWork {
  private readonly deadlineListeners: ((deadline: number) => void)[] = [];
  private readonly auditListeners: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Tells this instance's scheduler of a new deadline as soon as the transaction commits, before the
   * HTTP answer goes out; other instances hear of it through NOTIFY.
   */
  onDeadline(listener: (deadline: number) => void): void {
    this.deadlineListeners.push(listener);
  }

  /** Hears of every commit that recorded audit entries, so they are chained onto the log soon after. */
  onAudited(listener: () => void): void {
    this.auditListeners.push(listener);
  }

  async run<T>(body: (work: Work) => Promise<T>): Promise<T> {
    let finished: Work | undefined;
    const result = await this.db.transaction(async (sql) => {
      const work = new Work(sql, this.clock.now());
      const value = await body(work);
      await work.flush();
      finished = work;
      return value;
    });
    if (finished) {
      finished.runCommittedHooks();
      const { deadline } = finished;
      if (deadline !== null) for (const listener of this.deadlineListeners) listener(deadline);
      if (finished.audited) for (const listener of this.auditListeners) listener();
    }
    return result;
  }
}

/**
 * Gives each user's events consecutive sequence numbers and announces them, in one statement. The
 * per-user head row is locked until commit, so a user's events commit in sequence order and
 * `Last-Event-ID` resumes without gaps. Heads are locked in sorted order, so two transactions never wait
 * on each other in a cycle. Each event's number is its user's new head, less the user's events after it.
 */
async function appendEvents(
  sql: Sql,
  now: number,
  events: readonly PendingEvent[],
  notice: string | null,
): Promise<void> {
  const perUser = new Map<string, PendingEvent[]>();
  for (const event of events) {
    for (const userId of event.userIds) perUser.set(userId, [...(perUser.get(userId) ?? []), event]);
  }
  const users = [...perUser.keys()].sort();
  const counts = users.map((user) => perUser.get(user)?.length ?? 0);
  const rows: [string[], number[], string[], string[]] = [[], [], [], []];
  for (const user of users) {
    (perUser.get(user) ?? []).forEach((event, index) => {
      rows[0].push(user);
      rows[1].push(index + 1);
      rows[2].push(event.type);
      rows[3].push(JSON.stringify(event.data));
    });
  }
  await sql.query(
    `WITH heads AS (
       INSERT INTO event_heads (user_id, seq) SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (user_id) DO UPDATE SET seq = event_heads.seq + excluded.seq
       RETURNING user_id, seq
     ), appended AS (
       INSERT INTO events (user_id, seq, type, data, created_at)
       SELECT event.user_id, heads.seq - added.count + event.ordinal, event.type, event.data::jsonb, $7
         FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[]) AS event(user_id, ordinal, type, data)
         JOIN heads ON heads.user_id = event.user_id
         JOIN unnest($1::text[], $2::bigint[]) AS added(user_id, count) ON added.user_id = event.user_id
     )
     SELECT CASE WHEN $9::text IS NULL THEN NULL ELSE pg_notify($8, $9) END`,
    [users, counts, ...rows, new Date(now), NOTIFY_CHANNEL, notice],
  );
}
