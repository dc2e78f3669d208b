import type { Condition, ConditionCheck, RequestContext } from './condition.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface HoursRule {
  /** An IANA time zone name, e.g. Europe/Berlin. */
  readonly tz: string;
  /** The days a window opens on. */
  readonly days: readonly Weekday[];
  /** Minutes after local midnight; `to` before `from` means the window runs past midnight. */
  readonly from: number;
  readonly to: number;
}

const MINUTES_PER_DAY = 24 * 60;

/** "08:00" as 480; null when it is not a time of day. */
export function minutesOf(time: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const clock = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const title = (day: Weekday): string => day.charAt(0).toUpperCase() + day.slice(1);

/**
 * Working hours in a time zone. The local day and time come from the platform's time zone database
 * (Intl, ICU's copy of the IANA database, updated with Node), never from offsets worked out here, so
 * daylight saving changes are the database's business: "08:00" is 08:00 on the wall clock in winter
 * and in summer. A window whose `to` is before its `from` (22:00–06:00) belongs to the day it opens on:
 * Friday's night shift runs into Saturday morning.
 */
export class HoursCondition implements Condition {
  readonly name = 'hours';
  private readonly format: Intl.DateTimeFormat;

  constructor(private readonly rule: HoursRule) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: rule.tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  check(context: RequestContext): ConditionCheck {
    const { day, minutes } = this.localTime(context.now);
    const { days, from, to, tz } = this.rule;
    const openedToday = days.includes(day);
    const openedYesterday = days.includes(WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] ?? 'sun');
    const met =
      from < to
        ? openedToday && minutes >= from && minutes < to
        : (openedToday && minutes >= from) || (openedYesterday && minutes < to);
    const window = `${this.daysText()} ${clock(from)}–${clock(to)}${from > to ? ' (into the next day)' : ''} ${tz}`;
    const now = `it is ${title(day)} ${clock(minutes)} there`;
    return {
      name: this.name,
      met,
      message: met
        ? `Within working hours (${window}): ${now}.`
        : `Outside working hours (${window}): ${now}.`,
    };
  }

  private localTime(now: number): { day: Weekday; minutes: number } {
    const parts = this.format.formatToParts(new Date(now));
    const part = (type: Intl.DateTimeFormatPartTypes): string =>
      parts.find((each) => each.type === type)?.value ?? '';
    const day = WEEKDAYS.find((each) => each === part('weekday').toLowerCase()) ?? 'sun';
    return { day, minutes: (Number(part('hour')) * 60 + Number(part('minute'))) % MINUTES_PER_DAY };
  }

  /** "Mon–Fri" for a run of days in week order, else the days listed. */
  private daysText(): string {
    const order = [...new Set(this.rule.days)].sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
    const first = order[0];
    const last = order.at(-1);
    if (first === undefined || last === undefined) return 'no day';
    if (order.length === 7) return 'every day';
    const isRun = order.length > 2 && WEEKDAYS.indexOf(last) - WEEKDAYS.indexOf(first) === order.length - 1;
    return isRun ? `${title(first)}–${title(last)}` : order.map(title).join(', ');
  }
}
