import type { Database } from '../db/database.js';
import { nextReminderAt } from '../policy/engine.js';
import { endGrant } from './activation.js';
import { escalate, lapse } from './approval-flow.js';
import type { Domain } from './context.js';
import type { GrantRecord, RequestRecord } from './records.js';
import { updateGrant } from './store.js';
import { toGrantView } from './views.js';

/**
 * The work that falls due with time: expiries, reminders, lapses and escalations. Each claims its rows
 * with FOR UPDATE SKIP LOCKED, so instances sharing a database never handle the same row twice: every
 * grant ends exactly once, every reminder goes out once. Each returns how many rows it handled.
 */
export interface DueTask {
  readonly name: string;
  run(limit: number): Promise<number>;
}

export function dueTasks(domain: Domain): DueTask[] {
  return [
    {
      name: 'expire grants',
      run: (limit) =>
        domain.uow.run(async (work) => {
          const due = await work.sql.query<GrantRecord>(
            `SELECT * FROM grants WHERE status = 'active' AND expires_at <= $1
              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [new Date(work.now), limit],
          );
          // Seat-pool locks are taken in one global order, so two instances expiring grants of the
          // same pools never wait on each other in a cycle.
          const byPool = [...due].sort((a, b) =>
            `${a.resource_id}/${a.role}`.localeCompare(`${b.resource_id}/${b.role}`),
          );
          for (const grant of byPool) await endGrant(domain, work, grant, 'expired', null, null);
          return due.length;
        }),
    },
    {
      name: 'send reminders',
      run: (limit) =>
        domain.uow.run(async (work) => {
          const due = await work.sql.query<GrantRecord>(
            `SELECT * FROM grants WHERE status = 'active' AND next_reminder_at <= $1
              ORDER BY next_reminder_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [new Date(work.now), limit],
          );
          for (const grant of due) {
            const expiresAt = grant.expires_at.getTime();
            // After downtime several leads may have passed: one reminder says the time that is left now.
            const next = nextReminderAt(
              domain.policy.service.reminderLeadsSeconds,
              grant.starts_at.getTime(),
              expiresAt,
              work.now,
            );
            const updated = await updateGrant(work.sql, grant.id, {
              next_reminder_at: next === null ? null : new Date(next),
            });
            work.emit([grant.user_id], 'grant.expiring', {
              grant: toGrantView(domain.policy, updated),
              secondsLeft: Math.max(0, Math.ceil((expiresAt - work.now) / 1000)),
            });
            work.wake(updated.next_reminder_at);
          }
          return due.length;
        }),
    },
    {
      name: 'lapse requests',
      run: (limit) =>
        domain.uow.run(async (work) => {
          const due = await work.sql.query<RequestRecord>(
            `SELECT * FROM requests WHERE status IN ('pending', 'queued') AND expires_at <= $1
              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [new Date(work.now), limit],
          );
          for (const request of due) await lapse(domain, work, request);
          return due.length;
        }),
    },
    {
      name: 'escalate requests',
      run: (limit) =>
        domain.uow.run(async (work) => {
          const due = await work.sql.query<RequestRecord>(
            `SELECT * FROM requests WHERE status = 'pending' AND escalates_at <= $1
              ORDER BY escalates_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [new Date(work.now), limit],
          );
          for (const request of due) await escalate(domain, work, request);
          return due.length;
        }),
    },
  ];
}

/** The earliest moment anything falls due; each part reads one partial index. */
export async function nextDeadline(db: Database): Promise<number | null> {
  const [row] = await db.query<{ next: Date | null }>(
    `SELECT least(
       (SELECT min(expires_at) FROM grants WHERE status = 'active'),
       (SELECT min(next_reminder_at) FROM grants WHERE status = 'active' AND next_reminder_at IS NOT NULL),
       (SELECT min(expires_at) FROM requests WHERE status IN ('pending', 'queued')),
       (SELECT min(escalates_at) FROM requests WHERE status = 'pending' AND escalates_at IS NOT NULL)
     ) AS next`,
  );
  return row?.next ? row.next.getTime() : null;
}
