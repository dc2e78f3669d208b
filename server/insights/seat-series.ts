import type { SeatSeriesView } from '../../api/insights-schemas.js';
import type { Sql } from '../db/sql.js';
import { ApiError, badRequest } from '../lib/errors.js';
import type { Policy } from '../policy/types.js';
import type { Period } from './period.js';

const MAX_POINTS = 2000;
const DEFAULT_POINTS = 200;
const MIN_STEP_SECONDS = 60;

interface Pool {
  readonly resourceId: string;
  readonly role: string;
  readonly seats: number;
}

/** The pool named `resourceId/role`, or a 404 that says which pools exist. */
export function poolNamed(policy: Policy, name: string): Pool {
  const slash = name.indexOf('/');
  const resource = slash > 0 ? policy.resources.get(name.slice(0, slash)) : undefined;
  const role = resource?.roles.get(name.slice(slash + 1));
  if (!resource || !role || role.seats === null) {
    const pools = [...policy.resources.values()].flatMap((each) =>
      [...each.roles.values()].flatMap((candidate) =>
        candidate.seats === null ? [] : [`${each.id}/${candidate.name}`],
      ),
    );
    throw new ApiError(
      404,
      'pool_not_found',
      `No seat pool is named "${name}": name one as resourceId/role${pools.length > 0 ? ` (${pools.join(', ')})` : ''}.`,
    );
  }
  return { resourceId: resource.id, role: role.name, seats: role.seats };
}

/** How many of `intervals` are open at each of `instants` (both sorted ascending; [start, end)). */
function openAt(instants: readonly number[], intervals: readonly (readonly [number, number])[]): number[] {
  const starts = intervals.map(([start]) => start).sort((a, b) => a - b);
  const ends = intervals.map(([, end]) => end).sort((a, b) => a - b);
  let started = 0;
  let ended = 0;
  return instants.map((instant) => {
    while (started < starts.length && (starts[started] ?? Infinity) <= instant) started++;
    while (ended < ends.length && (ends[ended] ?? Infinity) <= instant) ended++;
    return started - ended;
  });
}

/**
 * Seats in use and requests in line at evenly spaced instants of the period, up to now: what has not
 * happened yet is not drawn. Reads only the pool's grants and queued requests that meet the period.
 */
export async function seatSeries(
  sql: Sql,
  pool: Pool,
  period: Period,
  stepSeconds: number | undefined,
  now: number,
): Promise<SeatSeriesView> {
  const step =
    stepSeconds === undefined
      ? Math.max(MIN_STEP_SECONDS, Math.ceil((period.to - period.from) / 1000 / DEFAULT_POINTS))
      : stepSeconds;
  const points = Math.floor((period.to - period.from) / 1000 / step) + 1;
  if (points > MAX_POINTS) {
    throw badRequest(
      'too_many_points',
      `A step of ${step} s makes ${points} points over this period; ask for at most ${MAX_POINTS} with a longer step.`,
      { maxPoints: MAX_POINTS },
    );
  }
  const last = Math.min(period.to, now);
  const instants: number[] = [];
  for (let at = period.from; at <= last; at += step * 1000) instants.push(at);

  const held = await sql.query<{ starts_at: Date; ends_at: Date }>(
    `SELECT starts_at, CASE WHEN status = 'active' THEN least(expires_at, $4) ELSE least(ended_at, expires_at) END AS ends_at
       FROM grants
      WHERE resource_id = $1 AND role = $2 AND starts_at <= $3
        AND CASE WHEN status = 'active' THEN least(expires_at, $4) ELSE least(ended_at, expires_at) END > $5`,
    [pool.resourceId, pool.role, new Date(last), new Date(now), new Date(period.from)],
  );
  // A request waits from when it was queued until it got its seat, was cancelled or lapsed.
  const waited = await sql.query<{ queued_at: Date; left_at: Date }>(
    `SELECT queued_at, left_at FROM (
       SELECT r.queued_at,
              CASE WHEN r.status = 'queued' THEN $4
                   WHEN r.status = 'approved' THEN coalesce(g.starts_at, r.updated_at)
                   ELSE r.updated_at END AS left_at
         FROM requests r LEFT JOIN grants g ON g.id = r.grant_id
        WHERE r.resource_id = $1 AND r.role = $2 AND r.queued_at IS NOT NULL AND r.queued_at <= $3
     ) waits WHERE left_at > $5`,
    [pool.resourceId, pool.role, new Date(last), new Date(now), new Date(period.from)],
  );
  const span = (start: Date, end: Date): readonly [number, number] => [start.getTime(), end.getTime()];
  return {
    resourceId: pool.resourceId,
    role: pool.role,
    total: pool.seats,
    at: instants.map((instant) => new Date(instant).toISOString()),
    inUse: openAt(
      instants,
      held.map((row) => span(row.starts_at, row.ends_at)),
    ),
    queued: openAt(
      instants,
      waited.map((row) => span(row.queued_at, row.left_at)),
    ),
  };
}
