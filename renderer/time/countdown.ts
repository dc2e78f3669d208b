import type { GrantView } from '../../api/schemas.js';
import { timeLeft } from '../../main/core/tray-model.js';

/** Below this much time left, countdowns show seconds and tick every second. */
export const FINE_GRAINED_BELOW_MS = 10 * 60_000;
/** The ticker's pace while every grant has plenty of time, and while none is active. */
export const COARSE_TICK_MS = 15_000;
const SECOND_MS = 1000;

/** Milliseconds until `expiresAt` on the service's clock; never negative. */
export function remainingMs(expiresAt: string, serviceNow: number): number {
  return Math.max(0, Date.parse(expiresAt) - serviceNow);
}

/**
 * Whether a grant still gives access at `serviceNow`. The renderer decides this itself from the expiry,
 * so a grant reads as ended at its expiry even before main or the service says so.
 */
export function isLive(grant: Pick<GrantView, 'status' | 'expiresAt'>, serviceNow: number): boolean {
  return grant.status === 'active' && remainingMs(grant.expiresAt, serviceNow) > 0;
}

/** "1 h 05 min", "42 min" while there is time; "9:59" to "0:01" in the last ten minutes; "0:00" at the end. */
export function countdownText(ms: number): string {
  const left = Math.max(0, ms);
  if (left > FINE_GRAINED_BELOW_MS) return timeLeft(left);
  const seconds = Math.ceil(left / SECOND_MS);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** How a screen reader hears the countdown: words, not a clock face. */
export function countdownWords(ms: number): string {
  const left = Math.max(0, ms);
  if (left === 0) return 'ended';
  if (left > FINE_GRAINED_BELOW_MS) return `${timeLeft(left)} left`;
  const seconds = Math.ceil(left / SECOND_MS);
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [minutes > 0 ? `${minutes} min` : null, rest > 0 || minutes === 0 ? `${rest} s` : null];
  return `${parts.filter(Boolean).join(' ')} left`;
}

/** The share of the grant's time still left, 0..1, for the bar. */
export function fractionLeft(grant: Pick<GrantView, 'startsAt' | 'expiresAt'>, serviceNow: number): number {
  const total = Date.parse(grant.expiresAt) - Date.parse(grant.startsAt);
  if (total <= 0) return 0;
  return Math.min(1, remainingMs(grant.expiresAt, serviceNow) / total);
}

/**
 * When the shared ticker should tick next, in ms from `serviceNow`, given the expiries (service time) of
 * the grants that count down. Every 15 s while the nearest has more than ten minutes left (and exactly at
 * the ten-minute mark); then on each whole second of its time left, the last tick landing exactly on its
 * expiry, so it flips to ended then and not a tick later.
 */
export function nextTickDelay(serviceNow: number, expiries: readonly number[]): number {
  let nearest = Infinity;
  for (const expiry of expiries) if (expiry > serviceNow && expiry < nearest) nearest = expiry;
  if (nearest === Infinity) return COARSE_TICK_MS;
  const left = nearest - serviceNow;
  if (left > FINE_GRAINED_BELOW_MS) return Math.min(COARSE_TICK_MS, left - FINE_GRAINED_BELOW_MS);
  return left % SECOND_MS || SECOND_MS;
}
