import { openDatabase } from '../../server/index.js';

const DAY_MS = 86_400_000;

export interface SeededHistory {
  /** Requests written, and the grants among them (one per approved request). */
  readonly requests: number;
  readonly grants: number;
  /** The history lies within [from, to). */
  readonly from: number;
  readonly to: number;
}

// Every request's creation time, spread evenly: $2 is the first, $3 the spacing in ms.
const CREATED = `($2::timestamptz + (i * $3::bigint) * interval '1 millisecond')`;
const ISO = (time: string): string =>
  `to_char((${time}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
// Cycles through the bench policy's roles: sandbox/operator and prod/console (a seat pool) approved at once,
// prod/read approved by the lead five minutes later, and every twentieth request for prod/read denied.
const ROLE = `(CASE WHEN i % 20 = 19 THEN 'denied' WHEN i % 3 = 0 THEN 'sandbox/operator'
                    WHEN i % 3 = 1 THEN 'prod/read' ELSE 'prod/console' END)`;

/**
 * Writes `approved` approved requests with their grants (and one denied request for every nineteen) over
 * the 90 days before `now`, straight into a migrated database the service is not running on: as the
 * service would have written them, in two statements. A third of the grants are given back early.
 */
export async function seedInsightsHistory(
  database: { readonly databaseUrl: string | null; readonly dataDir: string | null },
  approved: number,
  now: number,
): Promise<SeededHistory> {
  const total = Math.ceil((approved * 20) / 19);
  const from = now - 90 * DAY_MS;
  const spacing = Math.floor((90 * DAY_MS - DAY_MS) / total);
  const db = await openDatabase({
    ...database,
    logger: { warn: () => undefined },
  });
  try {
    await db.query(
      `INSERT INTO requests (id, requester_id, resource_id, role, kind, duration_seconds, reason, ticket, status,
                             created_at, updated_at, expires_at, decisions, grant_id)
       SELECT 'req_' || lpad(i::text, 20, '0'),
              'user' || lpad((i % 64 + 1)::text, 2, '0'),
              CASE WHEN ${ROLE} = 'sandbox/operator' THEN 'sandbox' ELSE 'prod' END,
              CASE WHEN ${ROLE} = 'sandbox/operator' THEN 'operator' WHEN ${ROLE} = 'prod/console' THEN 'console' ELSE 'read' END,
              'access', 1800, 'bench history', NULL,
              CASE WHEN ${ROLE} = 'denied' THEN 'denied' ELSE 'approved' END,
              ${CREATED}, ${CREATED} + interval '5 minutes', ${CREATED} + interval '4 hours',
              CASE WHEN ${ROLE} IN ('prod/read', 'denied')
                   THEN jsonb_build_array(jsonb_build_object('approverId', 'lead',
                          'decision', CASE WHEN ${ROLE} = 'denied' THEN 'deny' ELSE 'approve' END,
                          'comment', '', 'stage', 0, 'at', ${ISO(`${CREATED} + interval '5 minutes'`)}))
                   ELSE '[]'::jsonb END,
              CASE WHEN ${ROLE} = 'denied' THEN NULL ELSE 'grt_' || lpad(i::text, 20, '0') END
         FROM generate_series(0, $1 - 1) AS i`,
      [total, new Date(from), spacing],
    );
    await db.query(
      `INSERT INTO grants (id, request_id, user_id, resource_id, role, status, starts_at, expires_at, ended_at,
                           end_reason, ended_by)
       SELECT r.grant_id, r.id, r.requester_id, r.resource_id, r.role,
              CASE WHEN n % 3 = 0 THEN 'revoked' ELSE 'expired' END,
              r.updated_at, r.updated_at + interval '30 minutes',
              r.updated_at + CASE WHEN n % 3 = 0 THEN interval '7 minutes' ELSE interval '30 minutes' END,
              CASE WHEN n % 3 = 0 THEN 'relinquished' ELSE 'expired' END,
              CASE WHEN n % 3 = 0 THEN r.requester_id END
         FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM requests WHERE grant_id IS NOT NULL) r`,
    );
    const [counts] = await db.query<{ requests: number; grants: number }>(
      `SELECT (SELECT count(*)::int FROM requests) AS requests, (SELECT count(*)::int FROM grants) AS grants`,
    );
    return { requests: counts?.requests ?? 0, grants: counts?.grants ?? 0, from, to: now };
  } finally {
    await db.close();
  }
}
