import type { Sql } from '../db/database.js';
import type { Policy } from '../policy/types.js';

/**
 * How a licence seat pool was used over a period, and what the always-assigned model would have cost:
 * there, everyone who used the tool holds a named seat for the whole period, whether they use it or not.
 */
export interface PoolUtilisation {
  readonly resourceId: string;
  readonly role: string;
  readonly seats: number;
  /** The most seats in use at one moment of the period. */
  readonly peakInUse: number;
  /** Seats in use on average over the period (up to now when the period has not ended). */
  readonly averageInUse: number;
  readonly seatHoursUsed: number;
  /** Grants that held a seat during the period, and the distinct people behind them. */
  readonly grants: number;
  readonly people: number;
  readonly queue: {
    /** Requests that waited in line during the period. */
    readonly requests: number;
    /** Time they spent in line within the period, in all, on average and the longest. */
    readonly totalWaitSeconds: number;
    readonly averageWaitSeconds: number;
    readonly longestWaitSeconds: number;
  };
  readonly alwaysAssigned: {
    /** Seats the old model would need: one per person who used the tool. */
    readonly seats: number;
    readonly seatHours: number;
    /** Seat-hours it would have paid for and nobody used. */
    readonly idleSeatHours: number;
  };
}

export interface Period {
  readonly from: number;
  readonly to: number;
}

interface Interval {
  readonly start: number;
  readonly end: number;
}

const HOUR_MS = 3_600_000;
const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** The part of `interval` inside `period`, or null when they do not meet. */
function clip(interval: Interval, period: Period): Interval | null {
  const start = Math.max(interval.start, period.from);
  const end = Math.min(interval.end, period.to);
  return end > start ? { start, end } : null;
}

/**
 * The most intervals open at one instant. A seat freed and taken at the same instant counts once:
 * at equal times, ends come before starts.
 */
export function peakConcurrency(intervals: readonly Interval[]): number {
  const events = intervals.flatMap((interval) => [
    { at: interval.start, change: 1 },
    { at: interval.end, change: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let open = 0;
  let peak = 0;
  for (const event of events) {
    open += event.change;
    peak = Math.max(peak, open);
  }
  return peak;
}

/** Every seat pool of the policy over `period`, as of `now`: what has not happened yet does not count. */
export async function seatPoolUtilisation(
  sql: Sql,
  policy: Policy,
  period: Period,
  now: number,
): Promise<PoolUtilisation[]> {
  const pools = [...policy.resources.values()].flatMap((resource) =>
    [...resource.roles.values()].flatMap((role) =>
      role.seats === null ? [] : [{ resourceId: resource.id, role: role.name, seats: role.seats }],
    ),
  );
  if (pools.length === 0) return [];
  const elapsed: Period = { from: period.from, to: Math.min(period.to, now) };
  const resourceIds = pools.map((pool) => pool.resourceId);
  const roles = pools.map((pool) => pool.role);
  // A grant holds its seat from its start until it ended, or until now while it is active.
  const grants = await sql.query<{
    resource_id: string;
    role: string;
    user_id: string;
    starts_at: Date;
    ends_at: Date;
  }>(
    `SELECT g.resource_id, g.role, g.user_id, g.starts_at,
            CASE WHEN g.status = 'active' THEN least(g.expires_at, $4) ELSE g.ended_at END AS ends_at
       FROM grants g JOIN unnest($1::text[], $2::text[]) AS pool(resource_id, role)
            ON g.resource_id = pool.resource_id AND g.role = pool.role
      WHERE g.starts_at < $3
        AND CASE WHEN g.status = 'active' THEN least(g.expires_at, $4) ELSE g.ended_at END > $5`,
    [resourceIds, roles, new Date(elapsed.to), new Date(now), new Date(elapsed.from)],
  );
  // A request waits in line from when it was queued until it got its seat, was cancelled or lapsed.
  const waits = await sql.query<{ resource_id: string; role: string; queued_at: Date; left_at: Date | null }>(
    `SELECT r.resource_id, r.role, r.queued_at,
            CASE WHEN r.status = 'queued' THEN NULL
                 WHEN r.status = 'approved' THEN g.starts_at
                 ELSE r.updated_at END AS left_at
       FROM requests r JOIN unnest($1::text[], $2::text[]) AS pool(resource_id, role)
            ON r.resource_id = pool.resource_id AND r.role = pool.role
       LEFT JOIN grants g ON g.id = r.grant_id
      WHERE r.queued_at IS NOT NULL AND r.queued_at < $3`,
    [resourceIds, roles, new Date(elapsed.to)],
  );

  const periodHours = Math.max(0, elapsed.to - elapsed.from) / HOUR_MS;
  return pools.map((pool) => {
    const inPool = (row: { readonly resource_id: string; readonly role: string }): boolean =>
      row.resource_id === pool.resourceId && row.role === pool.role;
    const held = grants.filter(inPool).flatMap((grant) => {
      const interval = clip({ start: grant.starts_at.getTime(), end: grant.ends_at.getTime() }, elapsed);
      return interval ? [{ ...interval, userId: grant.user_id }] : [];
    });
    const waited = waits.filter(inPool).flatMap((wait) => {
      const interval = clip(
        { start: wait.queued_at.getTime(), end: wait.left_at?.getTime() ?? now },
        elapsed,
      );
      return interval ? [(interval.end - interval.start) / 1000] : [];
    });
    const seatHoursUsed = held.reduce((sum, interval) => sum + (interval.end - interval.start), 0) / HOUR_MS;
    const people = new Set(held.map((interval) => interval.userId)).size;
    const totalWait = waited.reduce((sum, seconds) => sum + seconds, 0);
    return {
      resourceId: pool.resourceId,
      role: pool.role,
      seats: pool.seats,
      peakInUse: peakConcurrency(held),
      averageInUse: periodHours === 0 ? 0 : round(seatHoursUsed / periodHours, 3),
      seatHoursUsed: round(seatHoursUsed, 3),
      grants: held.length,
      people,
      queue: {
        requests: waited.length,
        totalWaitSeconds: round(totalWait, 3),
        averageWaitSeconds: waited.length === 0 ? 0 : round(totalWait / waited.length, 3),
        longestWaitSeconds: round(Math.max(0, ...waited), 3),
      },
      alwaysAssigned: {
        seats: people,
        seatHours: round(people * periodHours, 3),
        idleSeatHours: round(people * periodHours - seatHoursUsed, 3),
      },
    };
  });
}
