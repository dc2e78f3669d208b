import type { Sql } from '../../server/index.js';

/** How many audit entries are recorded and not yet chained onto the log. */
export async function unchainedAuditEntries(db: Sql): Promise<number> {
  const [row] = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM audit_pending');
  return row?.count ?? 0;
}
