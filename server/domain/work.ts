import { appendAudit, type AuditDraft } from '../audit/log.js';
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
    const recipients = await appendEvents(this.sql, this.now, this.events);
    await appendAudit(this.sql, this.now, this.audits);
    if (recipients.length > 0 || this.earliestDeadline !== null) {
      await this.sql.query('SELECT pg_notify($1, $2)', [
        NOTIFY_CHANNEL,
        encodeNotice({ users: recipients, deadline: this.earliestDeadline }),
      ]);
    }
  }

  /** @internal */
  runCommittedHooks(): void {
    for (const hook of this.committedHooks) hook();
  }

  /** @internal */
  get deadline(): number | null {
    return this.earliestDeadline;
  }
}

export class UnitOfWork {
  private readonly deadlineListeners: ((deadline: number) => void)[] = [];

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
    }
    return result;
  }
}

/**
 * Gives each user's events consecutive sequence numbers. The per-user head row is locked until commit,
 * so a user's events commit in sequence order and `Last-Event-ID` resumes without gaps. Heads are
 * locked in sorted order, so two transactions never wait on each other in a cycle.
 */
async function appendEvents(sql: Sql, now: number, events: readonly PendingEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const perUser = new Map<string, PendingEvent[]>();
  for (const event of events) {
    for (const userId of event.userIds) perUser.set(userId, [...(perUser.get(userId) ?? []), event]);
  }
  const users = [...perUser.keys()].sort();
  const heads = await sql.query<{ user_id: string; seq: number }>(
    `INSERT INTO event_heads (user_id, seq) SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (user_id) DO UPDATE SET seq = event_heads.seq + excluded.seq
     RETURNING user_id, seq`,
    [users, users.map((user) => perUser.get(user)?.length ?? 0)],
  );
  const columns: [string[], number[], string[], string[]] = [[], [], [], []];
  for (const head of heads) {
    const userEvents = perUser.get(head.user_id) ?? [];
    userEvents.forEach((event, index) => {
      columns[0].push(head.user_id);
      columns[1].push(head.seq - userEvents.length + 1 + index);
      columns[2].push(event.type);
      columns[3].push(JSON.stringify(event.data));
    });
  }
  await sql.query(
    `INSERT INTO events (user_id, seq, type, data, created_at)
     SELECT user_id, seq, type, data::jsonb, $5 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS t(user_id, seq, type, data)`,
    [...columns, new Date(now)],
  );
  return users;
}
