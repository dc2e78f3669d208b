import type { Database } from '../db/database.js';
import { nextReminderAt } from '../policy/engine.js';
import { endGrants } from './activation.js';
import { escalate, lapse } from './approval-flow.js';
import type { Domain } from './context.js';
import { updateGrant, type TableRows } from './store.js';
import { toGrantView } from './views.js';
import type { Work } from './work.js';

/**
 * The work that falls due with time: expiries, reminders, lapses and escalations. Each claims its rows
 * with FOR UPDATE SKIP LOCKED, so instances sharing a database never handle the same row twice: every
 * grant ends exactly once, every reminder goes out once. Each returns how many rows it handled.
 */
export interface DueTask {
  readonly name: string;
  run(limit: number): Promise<number>;
}

/**
 * A task that claims the rows of `table` that are `due` ($1 is now), earliest `by` first, and handles
 * them in the same transaction, so a claimed row is either fully handled or released by the rollback.
 */
function dueTask<Table extends keyof TableRows>(
  domain: Domain,
  name: string,
  claim: { readonly table: Table; readonly due: string; readonly by: string },
  handle: (work: Work, rows: TableRows[Table][]) => Promise<void>,
): DueTask {
  return {
    name,
    run: (limit) =>
      domain.uow.run(async (work) => {
        const rows = await work.sql.query<TableRows[Table]>(
          `SELECT * FROM ${claim.table} WHERE ${claim.due} ORDER BY ${claim.by} LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [new Date(work.now), limit],
        );
        await handle(work, rows);
        return rows.length;
      }),
  };
}

export function dueTasks(domain: Domain): DueTask[] {
  return [
    dueTask(
      domain,
      'expire grants',
      { table: 'grants', due: `status = 'active' AND expires_at <= $1`, by: 'expires_at' },
      async (work, due) => {
        // Seat-pool locks are taken in one global order, so two instances expiring grants of the
        // same pools never wait on each other in a cycle.
        const byPool = [...due].sort((a, b) =>
          `${a.resource_id}/${a.role}`.localeCompare(`${b.resource_id}/${b.role}`),
        );
        await endGrants(domain, work, byPool, 'expired', null, null);
      },
    ),
    dueTask(
      domain,
      'send reminders',
      { table: 'grants', due: `status = 'active' AND next_reminder_at <= $1`, by: 'next_reminder_at' },
      async (work, due) => {
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
      },
    ),
    dueTask(
      domain,
      'lapse requests',
      { table: 'requests', due: `status IN ('pending', 'queued') AND expires_at <= $1`, by: 'expires_at' },
      async (work, due) => {
        for (const request of due) await lapse(domain, work, request);
      },
    ),
    dueTask(
      domain,
      'escalate requests',
      { table: 'requests', due: `status = 'pending' AND escalates_at <= $1`, by: 'escalates_at' },
      async (work, due) => {
        for (const request of due) await escalate(domain, work, request);
      },
    ),
  ];
}

/** The earliest moment anything falls due; each part reads one partial index. */
export async function nextDeadline(db: Database): Promise<number | null> {
  const [row] = await db.query<{ next: Date | null }>(
    `SELECT least(
       (SELECT min(expires_at) FROM grants WHERE status = 'active'),
       (SELECT min(next_reminder_at) FROM grants WHERE status = 'active' AND next_reminder_at IS NOT NULL),
       (SELECT min(expires_at) FROM requests WHERE status IN ('pending', 'queued')),
       (SELECT min(escalates_at) FROM requests WHERE status = 'pending' AND escalates_at IS NOT NULL),
       (SELECT min(due_at) FROM access_tasks WHERE due_at IS NOT NULL),
       (SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending')
     ) AS next`,
  );
  return row?.next ? row.next.getTime() : null;
}
