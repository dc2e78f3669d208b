import type { RoleInsightView } from '../../api/insights-schemas.js';
import type { Sql } from '../db/sql.js';
import type { Policy } from '../policy/types.js';
import type { Period } from './period.js';

interface RoleRow {
  readonly resource_id: string;
  readonly role: string;
  readonly requests: number;
  readonly approved: number;
  readonly denied: number;
  readonly auto: number;
  readonly lapsed: number;
  readonly decision_p50: number | null;
  readonly decision_p90: number | null;
  readonly requested_p50: number | null;
  readonly used_p50: number | null;
  readonly ended_grants: number;
  readonly ended_early: number;
  readonly never_fetched: number;
  readonly login_never_used: number;
}

const round = (value: number | null): number | null => (value === null ? null : Number(value.toFixed(3)));

/**
 * The access requests made in a period, per resource and role, with what became of them: one aggregate
 * statement, so the figures come from the database's rows and never from a copy kept on the side.
 *
 * - Time to decision runs from the request to the last decision a person made on it (a chain's last
 *   stage), for requests people approved or denied; percentiles interpolate (percentile_cont).
 * - Used duration is how long each grant of these requests lasted, for grants that have ended: up to
 *   its end, or its expiry when the expiry engine recorded the end later.
 * - A credential was fetched when the audit log holds a `credential.fetched` for the grant; a database
 *   login was used when the background sample saw a session of it (`grant_login_use`).
 */
export async function roleInsights(sql: Sql, policy: Policy, period: Period): Promise<RoleInsightView[]> {
  const rows = await sql.query<RoleRow>(
    `WITH asked AS (
       SELECT r.resource_id, r.role, r.status, r.duration_seconds, r.grant_id,
              jsonb_array_length(r.decisions) AS decisions,
              CASE WHEN r.status IN ('approved', 'denied') AND jsonb_array_length(r.decisions) > 0
                   THEN extract(epoch FROM ((r.decisions -> -1 ->> 'at')::timestamptz - r.created_at))::float8
              END AS decision_seconds
         FROM requests r
        WHERE r.kind = 'access' AND r.created_at >= $1 AND r.created_at < $2
     ),
     outcome AS (
       SELECT asked.*, g.status AS grant_status, g.end_reason,
              CASE WHEN g.status <> 'active'
                   THEN extract(epoch FROM (least(g.ended_at, g.expires_at) - g.starts_at))::float8 END
                AS used_seconds,
              g.id IS NOT NULL AND g.status <> 'active' AS ended,
              fetched.grant_id IS NOT NULL AS fetched,
              used.grant_id IS NOT NULL AS login_used
         FROM asked LEFT JOIN grants g ON g.id = asked.grant_id
         -- Joined as sets rather than looked up row by row: one pass over each, however many requests.
         LEFT JOIN (SELECT DISTINCT subject_id AS grant_id FROM audit_log
                     WHERE action = 'credential.fetched') fetched ON fetched.grant_id = g.id
         LEFT JOIN grant_login_use used ON used.grant_id = g.id
     )
     SELECT resource_id, role,
            count(*)::int AS requests,
            count(*) FILTER (WHERE status = 'approved')::int AS approved,
            count(*) FILTER (WHERE status = 'denied')::int AS denied,
            count(*) FILTER (WHERE status = 'approved' AND decisions = 0)::int AS auto,
            count(*) FILTER (WHERE status = 'lapsed')::int AS lapsed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY decision_seconds) AS decision_p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY decision_seconds) AS decision_p90,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds) AS requested_p50,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY used_seconds) AS used_p50,
            count(*) FILTER (WHERE ended)::int AS ended_grants,
            count(*) FILTER (WHERE ended AND end_reason = 'relinquished')::int AS ended_early,
            count(*) FILTER (WHERE ended AND NOT fetched)::int AS never_fetched,
            count(*) FILTER (WHERE ended AND NOT login_used)::int AS login_never_used
       FROM outcome
      GROUP BY resource_id, role
      ORDER BY resource_id, role`,
    [new Date(period.from), new Date(period.to)],
  );
  return rows.map((row) => ({
    resourceId: row.resource_id,
    role: row.role,
    requests: row.requests,
    approved: row.approved,
    denied: row.denied,
    auto: row.auto,
    lapsed: row.lapsed,
    decisionSeconds: { p50: round(row.decision_p50), p90: round(row.decision_p90) },
    requestedSeconds: { p50: round(row.requested_p50) },
    usedSeconds: { p50: round(row.used_p50) },
    endedGrants: row.ended_grants,
    endedEarly: row.ended_early,
    credentialNeverFetched: row.never_fetched,
    // Only a resource whose access is a database login can say whether it was used.
    loginNeverUsed: policy.resources.get(row.resource_id)?.postgres ? row.login_never_used : null,
  }));
}
