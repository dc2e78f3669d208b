import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError } from '../../server/config/load.js';
import { HoursCondition, type HoursRule } from '../../server/policy/conditions/hours.js';
import {
  NetworksCondition,
  parseNetwork,
  type NetworkRange,
} from '../../server/policy/conditions/networks.js';

const WORKDAYS: HoursRule['days'] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const berlinOffice = new HoursCondition({ tz: 'Europe/Berlin', days: WORKDAYS, from: 8 * 60, to: 19 * 60 });
const at = (iso: string) => ({ now: Date.parse(iso), clientAddress: null });

describe('the hours condition', () => {
  it('opens at from and closes at to, on the wall clock of its time zone', () => {
    // Friday 27 March 2026 is winter time in Berlin (UTC+1).
    expect(berlinOffice.check(at('2026-03-27T06:59:59Z')).met).toBe(false); // 07:59:59
    expect(berlinOffice.check(at('2026-03-27T07:00:00Z'))).toEqual({
      name: 'hours',
      met: true,
      message: 'Within working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Fri 08:00 there.',
    });
    expect(berlinOffice.check(at('2026-03-27T17:59:00Z')).met).toBe(true); // 18:59
    expect(berlinOffice.check(at('2026-03-27T18:00:00Z'))).toEqual({
      name: 'hours',
      met: false,
      message: 'Outside working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Fri 19:00 there.',
    });
    expect(berlinOffice.check(at('2026-03-28T10:00:00Z')).message).toBe(
      'Outside working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Sat 11:00 there.',
    );
  });

  it('keeps to the wall clock across daylight saving changes', () => {
    // Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026. 06:30 UTC is 07:30
    // in Berlin on the Friday before (closed) and 08:30 on the Monday after (open).
    expect(berlinOffice.check(at('2026-03-27T06:30:00Z')).met).toBe(false);
    expect(berlinOffice.check(at('2026-03-30T06:30:00Z')).met).toBe(true);
    expect(berlinOffice.check(at('2026-03-30T05:59:00Z')).met).toBe(false); // 07:59 summer time
    // 17:30 UTC is 19:30 in summer (closed) and 18:30 in winter (open).
    expect(berlinOffice.check(at('2026-10-23T17:30:00Z')).met).toBe(false);
    expect(berlinOffice.check(at('2026-10-26T17:30:00Z')).met).toBe(true);
    // New York changes on other dates (8 March 2026): the zone's own rules apply.
    const newYork = new HoursCondition({ tz: 'America/New_York', days: WORKDAYS, from: 9 * 60, to: 17 * 60 });
    expect(newYork.check(at('2026-03-06T13:30:00Z')).met).toBe(false); // 08:30 EST
    expect(newYork.check(at('2026-03-09T13:30:00Z')).met).toBe(true); // 09:30 EDT
  });

  it('runs a window past midnight into the next day, belonging to the day it opens on', () => {
    const nights = new HoursCondition({ tz: 'UTC', days: ['fri'], from: 22 * 60, to: 6 * 60 });
    expect(nights.check(at('2026-03-27T21:59:00Z')).met).toBe(false); // Fri 21:59
    expect(nights.check(at('2026-03-27T22:00:00Z')).met).toBe(true); // Fri 22:00
    expect(nights.check(at('2026-03-28T05:59:00Z')).met).toBe(true); // Sat 05:59, Friday's night
    expect(nights.check(at('2026-03-28T06:00:00Z')).met).toBe(false); // Sat 06:00
    expect(nights.check(at('2026-03-28T22:30:00Z')).met).toBe(false); // Sat night: not opened on Saturday
    expect(nights.check(at('2026-03-27T03:00:00Z')).met).toBe(false); // Fri 03:00 is Thursday's night
    expect(nights.check(at('2026-03-27T23:00:00Z')).message).toBe(
      'Within working hours (Fri 22:00–06:00 (into the next day) UTC): it is Fri 23:00 there.',
    );
  });
});

describe('the networks condition', () => {
  const ranges = ['10.0.0.0/8', '2001:db8::/32'].map((source) => parseNetwork(source) as NetworkRange);
  const office = new NetworksCondition(ranges);
  const from = (clientAddress: string | null) => office.check({ now: 0, clientAddress });

  it('holds for an address in a range, IPv4, IPv6 and IPv4 seen as IPv6, at the edges', () => {
    expect(from('10.0.0.0')).toEqual({
      name: 'networks',
      met: true,
      message: 'From 10.0.0.0, in 10.0.0.0/8.',
    });
    expect(from('10.255.255.255').met).toBe(true);
    expect(from('::ffff:10.1.2.3')).toMatchObject({ met: true, message: 'From 10.1.2.3, in 10.0.0.0/8.' });
    expect(from('2001:db8:ffff::1').met).toBe(true);
  });

  it('fails, saying what to do, for an address outside, an unknown one, or one that is not an address', () => {
    expect(from('11.0.0.0')).toEqual({
      name: 'networks',
      met: false,
      message:
        'From 11.0.0.0, outside the allowed networks (10.0.0.0/8, 2001:db8::/32): connect from the office or the VPN.',
    });
    expect(from('9.255.255.255').met).toBe(false);
    expect(from('2001:db9::1').met).toBe(false);
    expect(from(null)).toMatchObject({ met: false, message: expect.stringContaining('unknown') as unknown });
    expect(from('not an address').met).toBe(false);
  });
});

/** A policy with one role whose conditions are `conditions` (YAML lines at the role's indentation). */
function policyWith(conditions: string): string {
  return `version: 1
groups:
  eng: {}
users:
  alice:
    displayName: Alice
    passwordHash: scrypt:32768:8:1:c2FsdA==:a2V5
    groups: [eng]
    admin: true
resources:
  sandbox:
    name: Sandbox
    kind: kubernetes
    roles:
      operator:
        requesters: [eng]
        duration: { min: 1m, default: 5m, max: 1h }
        approval: auto
${conditions}
`;
}

function problemsOf(text: string): { path: string; line: number | null; message: string }[] {
  try {
    parsePolicy({ file: 'timebox.yaml', text, env: {} });
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map((problem) => ({ ...problem }));
    throw error;
  }
  throw new Error('the policy loaded');
}

describe('conditions in the policy file', () => {
  it('loads hours (across midnight too), networks and otherwise', () => {
    const policy = parsePolicy({
      file: 'timebox.yaml',
      env: {},
      text: policyWith(`        conditions:
          hours: { tz: Europe/Berlin, days: [fri, sat], from: "22:00", to: "06:00" }
          networks: [10.0.0.0/8, 2001:db8::/32]
        otherwise: refuse`),
    });
    const role = policy.resources.get('sandbox')?.roles.get('operator');
    expect(role?.otherwise).toBe('refuse');
    expect(role?.conditions.map((condition) => condition.name)).toEqual(['hours', 'networks']);
    const unconditioned = parsePolicy({ file: 'timebox.yaml', env: {}, text: policyWith('') });
    expect(unconditioned.resources.get('sandbox')?.roles.get('operator')).toMatchObject({
      conditions: [],
      otherwise: 'approval',
    });
  });

  it('refuses an unknown time zone or weekday, a bad time, an empty window and bad ranges, each at its line', () => {
    const text = policyWith(`        conditions:
          hours:
            tz: Europe/Berlinn
            days: [mon, funday]
            from: "8am"
            to: "19:00"
          networks:
            - 10.0.0.0/33
            - 10.1.0.0/8
            - office
        otherwise: maybe`);
    const line = (snippet: string) => text.split('\n').findIndex((each) => each.includes(snippet)) + 1;
    const base = 'resources.sandbox.roles.operator';
    expect(problemsOf(text)).toEqual([
      {
        path: `${base}.conditions.hours.tz`,
        line: line('Europe/Berlinn'),
        message: 'expected an IANA time zone name, e.g. Europe/Berlin or America/New_York',
      },
      {
        path: `${base}.conditions.hours.days.1`,
        line: line('funday'),
        message: 'expected a weekday: sun, mon, tue, wed, thu, fri, sat',
      },
      {
        path: `${base}.conditions.hours.from`,
        line: line('8am'),
        message: 'expected a time of day as HH:MM, 00:00 to 23:59',
      },
      {
        path: `${base}.conditions.networks.0`,
        line: line('10.0.0.0/33'),
        message: 'expected an address range in CIDR notation, e.g. 10.0.0.0/8 or 2001:db8::/32',
      },
      {
        path: `${base}.conditions.networks.1`,
        line: line('10.1.0.0/8'),
        message: "expected the range's first address, 10.0.0.0/8, not an address inside it",
      },
      {
        path: `${base}.conditions.networks.2`,
        line: line('- office'),
        message: 'expected an address range in CIDR notation, e.g. 10.0.0.0/8 or 2001:db8::/32',
      },
      { path: `${base}.otherwise`, line: line('maybe'), message: 'expected approval or refuse' },
    ]);
    const empty = policyWith(`        conditions:
          hours: { tz: UTC, from: "09:00", to: "09:00" }`);
    expect(problemsOf(empty)).toEqual([
      {
        path: `${base}.conditions.hours.to`,
        line: empty.split('\n').findIndex((each) => each.includes('hours:')) + 1,
        message: 'expected a time other than from: the window would be empty (for all day, leave hours out)',
      },
    ]);
  });
});
