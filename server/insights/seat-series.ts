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

/**
 * The most of `intervals` ([start, end)) open at once in each step that begins at one of `instants`
 * (ascending, `stepMs` apart): a seat held for ten minutes between two instants still shows in its step.
 * At equal times ends come before starts, so a seat freed and taken at once counts once.
 */
function peakPerStep(
  instants: readonly number[],
  stepMs: number,
  intervals: readonly (readonly [number, number])[],
): number[] {
  const events = intervals.flatMap(([start, end]) => [
    { at: start, change: 1 },
    { at: end, change: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let next = 0;
  let open = 0;
  return instants.map((instant) => {
    for (; next < events.length && (events[next]?.at ?? Infinity) <= instant; next++)
      open += events[next]?.change ?? 0;
    let peak = open;
    for (; next < events.length && (events[next]?.at ?? Infinity) < instant + stepMs; next++) {
      open += events[next]?.change ?? 0;
      peak = Math.max(peak, open);
    }
    return peak;
  });
}

/**
 * Seats in use and requests in line over the period in evenly spaced steps, up to now (what has not
 * happened yet is not drawn): for each step, the most at once within it. Reads only the pool's grants and
 * queued requests that meet the period.
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
    inUse: peakPerStep(
      instants,
      step * 1000,
      held.map((row) => span(row.starts_at, row.ends_at)),
    ),
    queued: peakPerStep(
      instants,
      step * 1000,
      waited.map((row) => span(row.queued_at, row.left_at)),
    ),
  };
}
