import { z } from 'zod';
import type { Condition } from '../policy/conditions/condition.js';
import { HoursCondition, minutesOf, WEEKDAYS } from '../policy/conditions/hours.js';
import { NetworksCondition, parseNetwork } from '../policy/conditions/networks.js';

/**
 * A role's `conditions:` and `otherwise:` in the policy file. Every value is checked where it stands, so
 * a bad time zone, weekday or range is refused at load with its line, like any other field.
 */

const timeOfDay = z.string().refine((time) => minutesOf(time) !== null, {
  error: 'expected a time of day as HH:MM, 00:00 to 23:59',
});

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IANA time zone name, e.g. Europe/Berlin or America/New_York' },
);

const hours = z
  .strictObject({
    tz: timeZone,
    days: z
      .array(z.enum(WEEKDAYS, { error: `expected a weekday: ${WEEKDAYS.join(', ')}` }))
      .min(1, { error: 'expected at least one day' })
      .default(['mon', 'tue', 'wed', 'thu', 'fri']),
    from: timeOfDay,
    to: timeOfDay,
  })
  .superRefine((value, ctx) => {
    // 22:00 to 06:00 runs past midnight, and is allowed; the same time twice is an empty window.
    if (value.from === value.to)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: 'expected a time other than from: the window would be empty (for all day, leave hours out)',
      });
  });

const network = z.string().transform((source, ctx) => {
  const parsed = parseNetwork(source);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

export const roleConditions = z.strictObject({
  hours: hours.optional(),
  networks: z.array(network).min(1, { error: 'expected at least one address range' }).optional(),
});

/** Outside the conditions: people decide (`approval`) or the request is refused (`refuse`). */
export const otherwise = z.enum(['approval', 'refuse'], { error: 'expected approval or refuse' });

/** The conditions as the policy engine checks them, in the order the file's keys are documented. */
export function toConditions(file: z.output<typeof roleConditions> | undefined): Condition[] {
  const conditions: Condition[] = [];
  if (file?.hours) {
    const { tz, days, from, to } = file.hours;
    conditions.push(
      new HoursCondition({
        tz,
        days,
        from: minutesOf(from) ?? 0,
        to: minutesOf(to) ?? 0,
      }),
    );
  }
  if (file?.networks) conditions.push(new NetworksCondition(file.networks));
  return conditions;
}
