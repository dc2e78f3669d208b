import { badRequest } from '../lib/errors.js';

export interface Period {
  readonly from: number;
  readonly to: number;
}

const DAY_MS = 86_400_000;
export const MAX_PERIOD_DAYS = 400;
const DEFAULT_PERIOD_DAYS = 30;
// Times before 1970 or from the year 10000 on are valid ISO text that PostgreSQL will not compare with.
const LAST_INSTANT = Date.parse('10000-01-01T00:00:00.000Z');

/**
 * The period an insight or report covers: `to` defaults to now and `from` to 30 days before it. A period
 * that ends before it starts, is longer than 400 days or lies outside 1970–9999 is refused with a reason.
 */
export function periodOf(query: { readonly from?: string; readonly to?: string }, now: number): Period {
  const to = query.to === undefined ? now : Date.parse(query.to);
  const from = query.from === undefined ? to - DEFAULT_PERIOD_DAYS * DAY_MS : Date.parse(query.from);
  if (from < 0 || to >= LAST_INSTANT) {
    throw badRequest(
      'invalid_period',
      'Ask for a period between 1970 and the year 9999: nothing lies outside it.',
    );
  }
  if (from >= to) {
    throw badRequest('invalid_period', 'The period must start before it ends: send a from earlier than to.', {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
  }
  if (to - from > MAX_PERIOD_DAYS * DAY_MS) {
    throw badRequest(
      'invalid_period',
      `Ask for at most ${MAX_PERIOD_DAYS} days at a time; split a longer period into several.`,
      { maxDays: MAX_PERIOD_DAYS },
    );
  }
  return { from, to };
}
