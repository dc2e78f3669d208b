import { recordAuditSql, type AuditDraft } from '../audit/log.js';
import type { Database, Sql, Transaction } from '../db/database.js';
import { Parameters } from '../db/parameters.js';
import { encodeNotice, NOTIFY_CHANNEL, type EventType } from '../events/types.js';
import type { Clock } from '../../api/clock.js';
import type { Announcement, AnnouncementOutbox } from './announcements.js';

interface PendingEvent {
  readonly userIds: readonly string[];
  readonly type: EventType;
  readonly data: unknown;
}

/** The condition on each part of a held write: it writes only if its refusal found nothing. */
export const UNLESS_REFUSED = 'NOT EXISTS (SELECT 1 FROM refusal)';

/**
 * A write held back to go out with the transaction's next statement. `refusal`, a SELECT of at most one
 * row's `id`, refuses it: when it finds a row, nothing is written (each of `items` and the outbox write
 * only `UNLESS_REFUSED`) and `refuse(id)` is thrown.
 */
export interface HeldWrite {
  readonly parameters: Parameters;
  readonly refusal: string;
  /** WITH items, each written with `UNLESS_REFUSED`. */
  readonly items: readonly string[];
  refuse(id: string): Error;
}

/**
 * One transaction's changes and their consequences. Domain code changes rows through `sql` and says what
 * follows (events to users, audit entries, new deadlines); `UnitOfWork.run` writes those in the same
 * transaction, so a state change, its audit entry and its events commit together or not at all.
 */
export class Work {
  readonly sql: Sql;
  private readonly events: PendingEvent[] = [];
  private readonly audits: AuditDraft[] = [];
  private readonly announcements: Announcement[] = [];
  private earliestDeadline: number | null = null;
  private readonly endedSessions = new Set<string>();
  private readonly endedGrants = new Set<string>();
  private readonly committedHooks: (() => void)[] = [];
  private held: HeldWrite | null = null;

  constructor(
    private readonly tx: Transaction,
    /** The one instant this transaction happens at. */
    readonly now: number,
    private readonly outbox: AnnouncementOutbox | null = null,
  ) {
    // A held write goes out before any other statement, so every statement sees it.
    this.sql = {
      query: async <Row extends object>(text: string, params?: readonly unknown[]) => {
        await this.sendHeld();
        return tx.query<Row>(text, params);
      },
      exec: async (script) => {
        await this.sendHeld();
        await tx.exec(script);
      },
    };
  }

  /**
   * Holds a write back to go out with the transaction's next statement. When nothing is read after it,
   * that is the outbox: a request opened and decided at once, its grant, its events and audit entries are
   * then one statement, which runs alone, with no BEGIN or COMMIT.
   */
  async hold(write: HeldWrite): Promise<void> {
    await this.sendHeld();
    this.held = write;
  }

  private async sendHeld(): Promise<void> {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    refuseIfRefused(held, await this.tx.query(heldStatement(held, [], null), held.parameters.values));
  }

  emit(userIds: Iterable<string>, type: EventType, data: unknown): void {
    const recipients = [...new Set(userIds)];
    if (recipients.length > 0) this.events.push({ userIds: recipients, type, data });
  }

  audit(draft: AuditDraft): void {
    this.audits.push(draft);
  }

  /** Tells the channels outside the app (webhooks) about this change, once it commits. */
  announce(announcement: Announcement): void {
    this.announcements.push(announcement);
  }

  /** A new deadline (an expiry, a reminder, a lapse) the schedulers of every instance must not sleep past. */
  wake(at: Date | null): void {
    if (at === null) return;
    const ms = at.getTime();
    if (this.earliestDeadline === null || ms < this.earliestDeadline) this.earliestDeadline = ms;
  }

  /** Sessions this transaction ends: every instance ends their event streams once it commits. */
  sessionsEnded(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) this.endedSessions.add(id);
  }

  /**
   * Grants this transaction ends before their expiry: once it commits, introspection on every instance
   * answers their credentials inactive. (An expired grant needs no word: its credentials' `exp` is never
   * past it.)
   */
  grantsEndedEarly(grantIds: Iterable<string>): void {
    for (const id of grantIds) this.endedGrants.add(id);
  }

  /** Runs once the transaction has committed (metrics, say); never when it rolls back. */
  onCommitted(hook: () => void): void {
    this.committedHooks.push(hook);
  }

  /**
   * @internal Writes the outbox, called by UnitOfWork as the transaction's last step: the events, the
   * audit entries and the NOTIFY that announces them (and any new deadline), in one statement, so the
   * outbox costs one round trip however much it holds. A held write goes out in the same statement, and
   * none of the outbox is written if its refusal finds a row.
   */
  async flush(): Promise<void> {
    const { held } = this;
    this.held = null;
    const parameters = held?.parameters ?? new Parameters();
    const onlyIf = held === null ? undefined : UNLESS_REFUSED;
    const parts: string[] = [];
    if (this.announcements.length > 0 && this.outbox !== null) {
      const { outbox } = this;
      const deliveries = outbox.writeSql(parameters, this.now, this.announcements, onlyIf);
      if (deliveries.length > 0) {
        parts.push(...deliveries);
        // Should this instance die before it delivers them, another instance's scheduler takes them over.
        this.wake(new Date(outbox.takeoverAt(this.now)));
        this.onCommitted(() => {
          outbox.committed(this.now);
        });
      }
    }
    const recipients = [...new Set(this.events.flatMap((event) => event.userIds))].sort();
    const notice =
      recipients.length > 0 ||
      this.earliestDeadline !== null ||
      this.endedSessions.size > 0 ||
      this.endedGrants.size > 0
        ? encodeNotice({
            users: recipients,
            deadline: this.earliestDeadline,
            endedSessions: [...this.endedSessions],
            endedGrants: [...this.endedGrants],
          })
        : null;
    if (held === null && this.events.length === 0 && this.audits.length === 0 && notice === null) return;
    if (this.events.length > 0) parts.push(...appendEventsSql(parameters, this.now, this.events, onlyIf));
    if (this.audits.length > 0)
      parts.push(`audited AS (${recordAuditSql(parameters, this.now, this.audits, onlyIf)})`);
    const notify =
      notice === null ? null : `pg_notify(${parameters.add(NOTIFY_CHANNEL)}, ${parameters.add(notice)})`;
    if (held !== null) {
      refuseIfRefused(held, await this.tx.queryLast(heldStatement(held, parts, notify), parameters.values));
      return;
    }
    // Data-modifying WITH items run to completion whether or not the main query reads them.
    const main = `SELECT ${notify ?? '1'}`;
    await this.tx.queryLast(
      parts.length > 0 ? `WITH ${parts.join(',\n')}\n${main}` : main,
      parameters.values,
    );
  }

  /** @internal */
  runCommittedHooks(): void {
    for (const hook of this.committedHooks) hook();
  }

  /** @internal */
  get deadline(): number | null {
    return this.earliestDeadline;
  }

  /** @internal The grants it ended before their expiry. */
  get grantsEnded(): readonly string[] {
    return [...this.endedGrants];
  }

  /** @internal Whether it recorded audit entries, which are now waiting to be chained. */
  get audited(): boolean {
    return this.audits.length > 0;
  }
}

export class UnitOfWork {
  private readonly deadlineListeners: ((deadline: number) => void)[] = [];
  private readonly auditListeners: (() => void)[] = [];
  private readonly grantEndListeners: ((grantIds: readonly string[]) => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly outbox: AnnouncementOutbox | null = null,
  ) {}

  /**
   * Tells this instance's scheduler of a new deadline as soon as the transaction commits, before the
   * HTTP answer goes out; other instances hear of it through NOTIFY.
   */
  onDeadline(listener: (deadline: number) => void): void {
    this.deadlineListeners.push(listener);
  }

  /**
   * Hears of grants ended before their expiry as soon as the transaction commits, before the HTTP answer
   * goes out, so this instance's introspection never answers a credential of theirs active afterwards.
   */
  onGrantsEndedEarly(listener: (grantIds: readonly string[]) => void): void {
    this.grantEndListeners.push(listener);
  }

  /** Hears of every commit that recorded audit entries, so they are chained onto the log soon after. */
  onAudited(listener: () => void): void {
    this.auditListeners.push(listener);
  }

  /**
   * One statement on its own, outside any transaction (a statement is atomic by itself): for a hot path
   * whose whole change fits in one statement, it saves BEGIN's and COMMIT's round trips. The statement
   * says whether it recorded audit entries, so they are chained like a transaction's.
   */
  async runStatement<T extends { readonly audited: boolean }>(
    statement: (sql: Sql, now: number) => Promise<T>,
  ): Promise<T> {
    const outcome = await statement(this.db, this.clock.now());
    if (outcome.audited) for (const listener of this.auditListeners) listener();
    return outcome;
  }

  async run<T>(body: (work: Work) => Promise<T>): Promise<T> {
    let finished: Work | undefined;
    const result = await this.db.transaction(async (tx) => {
      const work = new Work(tx, this.clock.now(), this.outbox);
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
      const { grantsEnded } = finished;
      if (grantsEnded.length > 0) for (const listener of this.grantEndListeners) listener(grantsEnded);
    }
    return result;
  }
}

/**
 * The statement that sends a held write, with `parts` (more WITH items, each written `UNLESS_REFUSED`) and
 * `notify` (a pg_notify call, made only if nothing refused it). It answers the refusing row's id, if any.
 */
function heldStatement(held: HeldWrite, parts: readonly string[], notify: string | null): string {
  const items = [`refusal AS (${held.refusal})`, ...held.items, ...parts];
  const notified = notify === null ? '' : `, (SELECT ${notify} WHERE ${UNLESS_REFUSED}) AS notified`;
  // Data-modifying WITH items run to completion whether or not the main query reads them.
  return `WITH ${items.join(',\n')}\nSELECT (SELECT id FROM refusal) AS refused${notified}`;
}

function refuseIfRefused(held: HeldWrite, [outcome]: readonly { refused?: string | null }[]): void {
  if (outcome?.refused) throw held.refuse(outcome.refused);
}

/**
 * The WITH items that give each user's events consecutive sequence numbers. The per-user head row is
 * locked until commit, so a user's events commit in sequence order and `Last-Event-ID` resumes without
 * gaps. Heads are locked in sorted order, so two transactions never wait on each other in a cycle. Each
 * event's number is its user's new head, less the user's events after it.
 */
function appendEventsSql(
  parameters: Parameters,
  now: number,
  events: readonly PendingEvent[],
  onlyIf?: string,
): string[] {
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
  const added = `unnest(${parameters.add(users)}::text[], ${parameters.add(counts)}::bigint[])`;
  const [user, ordinal, type, data] = rows.map((column) => parameters.add(column));
  return [
    `heads AS (
       INSERT INTO event_heads (user_id, seq) SELECT * FROM ${added}${onlyIf === undefined ? '' : ` WHERE ${onlyIf}`}
       ON CONFLICT (user_id) DO UPDATE SET seq = event_heads.seq + excluded.seq
       RETURNING user_id, seq
     )`,
    `appended AS (
       INSERT INTO events (user_id, seq, type, data, created_at)
       SELECT event.user_id, heads.seq - added.count + event.ordinal, event.type, event.data::jsonb, ${parameters.add(new Date(now))}
         FROM unnest(${user}::text[], ${ordinal}::bigint[], ${type}::text[], ${data}::text[]) AS event(user_id, ordinal, type, data)
         JOIN heads ON heads.user_id = event.user_id
         JOIN ${added} AS added(user_id, count) ON added.user_id = event.user_id
     )`,
  ];
}
