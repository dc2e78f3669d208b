import { describe, expect, it } from 'vitest';
import { DeadlineScheduler, type TrackedGrant } from '../../main/core/deadlines.js';
import { ManualClock } from '../support/manual-clock.js';

type Fired =
  | { kind: 'reminder'; grantId: string; secondsLeft: number; lead: number; at: number }
  | {
      kind: 'expired' | 'renew';
      grantId: string;
      at: number;
    };

function setup(onFire?: (event: Fired, scheduler: DeadlineScheduler) => void) {
  const clock = new ManualClock();
  const fired: Fired[] = [];
  const scheduler: DeadlineScheduler = new DeadlineScheduler(clock, {
    reminder: (grantId, secondsLeft, lead) => {
      const event: Fired = { kind: 'reminder', grantId, secondsLeft, lead, at: clock.now() };
      fired.push(event);
      onFire?.(event, scheduler);
    },
    expired: (grantId) => {
      const event: Fired = { kind: 'expired', grantId, at: clock.now() };
      fired.push(event);
      onFire?.(event, scheduler);
    },
    renew: (grantId) => {
      const event: Fired = { kind: 'renew', grantId, at: clock.now() };
      fired.push(event);
      onFire?.(event, scheduler);
    },
  });
  const grant = (
    grantId: string,
    seconds: number,
    startedAgoSeconds = 0,
  ): TrackedGrant & { readonly startsAt: number } => ({
    grantId,
    startsAt: clock.now() - startedAgoSeconds * 1000,
    expiresAt: clock.now() + (seconds - startedAgoSeconds) * 1000,
    renewAt: null,
  });
  return { clock, fired, scheduler, grant };
}

const LEADS = [600, 60];

describe('the deadline scheduler', () => {
  it('keeps exactly one timer for many grants, armed at the nearest deadline of any of them', () => {
    const { clock, scheduler, grant, fired } = setup();
    const durations = [3600, 45, 900, 90, 7200, 30, 1200, 601, 600];
    const grants = durations.map((seconds, index) => grant(`g${index}`, seconds));
    scheduler.update(grants, LEADS, 0);
    expect(clock.pendingTimers).toBe(1);
    // The nearest deadline is g7's 10-minute reminder (601 s long), before g5's end (30 s).
    expect(scheduler.nextAt).toBe(clock.now() + 1000);

    // Walk through every deadline: never more than one timer, each deadline fires once, in order.
    const end = Math.max(...grants.map((candidate) => candidate.expiresAt));
    while (clock.now() < end) {
      clock.advance(1000);
      expect(clock.pendingTimers).toBeLessThanOrEqual(1);
    }
    expect(clock.pendingTimers).toBe(0);
    expect(scheduler.nextAt).toBeNull();
    const expected: Fired[] = grants.flatMap((candidate) => {
      const length = candidate.expiresAt - candidate.startsAt;
      return [
        ...LEADS.filter((lead) => lead * 1000 < length).map((lead): Fired => ({
          kind: 'reminder',
          grantId: candidate.grantId,
          secondsLeft: lead,
          lead,
          at: candidate.expiresAt - lead * 1000,
        })),
        { kind: 'expired', grantId: candidate.grantId, at: candidate.expiresAt },
      ];
    });
    expect(fired).toHaveLength(expected.length);
    expect(new Set(fired.map((event) => JSON.stringify(event)))).toEqual(
      new Set(expected.map((event) => JSON.stringify(event))),
    );
    expect(fired.map((event) => event.at)).toEqual([...fired.map((event) => event.at)].sort((a, b) => a - b));
  });

  it('skips a lead as long as the grant or longer, and fires the shorter ones', () => {
    const { clock, scheduler, grant, fired } = setup();
    scheduler.update([grant('exact', 600), grant('short', 50)], LEADS, 0);
    clock.advance(600_000);
    expect(fired).toEqual([
      { kind: 'expired', grantId: 'short', at: clock.now() - 550_000 },
      { kind: 'reminder', grantId: 'exact', secondsLeft: 60, lead: 60, at: clock.now() - 60_000 },
      { kind: 'expired', grantId: 'exact', at: clock.now() },
    ]);
  });

  it('after a sleep past several leads, fires only the latest one, once, with the time left now', () => {
    const { clock, scheduler, grant, fired } = setup();
    scheduler.update([grant('g', 3600)], [1800, 600, 300, 60], 0);
    // Asleep: wall time moves, timers do not (the machine was not running them).
    clock.jumpWall(3600_000 - 30_000);
    expect(fired).toEqual([]);
    scheduler.rearm(); // resume
    expect(fired).toEqual([{ kind: 'reminder', grantId: 'g', secondsLeft: 30, lead: 60, at: clock.now() }]);
    scheduler.rearm(); // unlock right after: nothing again
    scheduler.update([grant('g', 3600, 3570)], [1800, 600, 300, 60], 0); // a resync of the same grant
    expect(fired).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(30_000);
    expect(fired.map((event) => event.kind)).toEqual(['reminder', 'expired']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires an expiry once, however often it is re-armed or told the same grants again', () => {
    const { clock, scheduler, grant, fired } = setup();
    const grants = [grant('g', 120)];
    scheduler.update(grants, LEADS, 0);
    clock.jumpWall(10 * 3600_000); // asleep far past the end
    scheduler.rearm();
    expect(fired).toEqual([{ kind: 'expired', grantId: 'g', at: clock.now() }]); // no stale reminder
    scheduler.rearm();
    scheduler.update(grants, LEADS, 0);
    clock.advance(3600_000);
    expect(fired).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('re-arms from wall time after the clock was set, so a deadline is neither early nor late', () => {
    const { clock, scheduler, grant, fired } = setup();
    const g = grant('g', 100);
    scheduler.update([g], [], 0);
    clock.jumpWall(40_000); // the user set the clock 40 s forward
    scheduler.rearm();
    expect(clock.pendingTimers).toBe(1);
    expect(scheduler.nextAt).toBe(g.expiresAt);
    clock.advance(59_999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([{ kind: 'expired', grantId: 'g', at: g.expiresAt }]);

    // Set backwards: a timer armed before would fire early; re-armed, it fires on time.
    const h = grant('h', 100);
    scheduler.update([h], [], 0);
    clock.jumpWall(-30_000);
    scheduler.rearm();
    clock.advance(129_999);
    expect(fired).toHaveLength(1);
    clock.advance(1);
    expect(fired[1]).toEqual({ kind: 'expired', grantId: 'h', at: h.expiresAt });
  });

  it('moves deadlines onto the local clock with the service clock offset', () => {
    const { clock, scheduler, fired } = setup();
    // The service's clock is 90 s ahead: its expiry (service time) comes 90 s earlier on ours.
    const serviceNow = clock.now() + 90_000;
    scheduler.update(
      [{ grantId: 'g', startsAt: serviceNow, expiresAt: serviceNow + 300_000, renewAt: null }],
      LEADS,
      90_000,
    );
    expect(scheduler.nextAt).toBe(clock.now() + 240_000);
    clock.advance(300_000 - 1);
    expect(fired).toEqual([
      { kind: 'reminder', grantId: 'g', secondsLeft: 60, lead: 60, at: clock.now() - 60_000 + 1 },
    ]);
    clock.advance(1);
    expect(fired.at(-1)).toEqual({ kind: 'expired', grantId: 'g', at: clock.now() });
  });

  it('handlers that call update() while firing cause no double fire and leave one timer', () => {
    let grants: TrackedGrant[] = [];
    const { clock, scheduler, grant, fired } = setup((event, scheduler) => {
      // As the core does: every change re-tracks the active grants, from inside the handler.
      if (event.kind === 'expired')
        grants = grants.filter((candidate) => candidate.grantId !== event.grantId);
      scheduler.update(grants, LEADS, 0);
      scheduler.update(grants, LEADS, 0);
      scheduler.rearm();
    });
    grants = [grant('a', 120), grant('b', 120), grant('c', 700)];
    scheduler.update(grants, LEADS, 0);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(60_000); // a and b remind together
    expect(fired.filter((event) => event.kind === 'reminder')).toHaveLength(2);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(60_000); // a and b end together
    expect(fired.filter((event) => event.kind === 'expired')).toHaveLength(2);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(700_000);
    const keys = fired.map(
      (event) => `${event.kind}:${event.grantId}:${event.kind === 'reminder' ? event.lead : ''}`,
    );
    expect(keys).toEqual([...new Set(keys)]);
    expect(keys).toHaveLength(2 + 2 + 2 + 1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reminds again for a new expiry after an extension, once per lead', () => {
    const { clock, scheduler, grant, fired } = setup();
    const g = grant('g', 300);
    scheduler.update([g], LEADS, 0);
    clock.advance(240_000);
    expect(fired).toHaveLength(1);
    scheduler.update([{ ...g, expiresAt: g.expiresAt + 600_000 }], LEADS, 0);
    clock.advance(600_000);
    // 15 minutes long now: the 10-minute lead fits too, and each lead fires once for the new expiry.
    expect(fired.map((event) => (event.kind === 'reminder' ? event.lead : event.kind))).toEqual([
      60, 600, 60,
    ]);
    clock.advance(60_000);
    expect(fired.at(-1)).toMatchObject({ kind: 'expired', grantId: 'g' });
  });

  it('watches a credential known from the vault index alone: its expiry, on the corrected clock, without reminders', () => {
    const { clock, scheduler, fired } = setup();
    const expiresAt = clock.now() + 15 * 60_000;
    // The service's clock is 90 s ahead of ours: the expiry comes 90 s earlier here.
    scheduler.update([{ grantId: 'indexed', startsAt: null, expiresAt, renewAt: null }], LEADS, 90_000);
    expect(scheduler.nextAt).toBe(expiresAt - 90_000);
    clock.advance(expiresAt - 90_000 - clock.now() - 1);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([{ kind: 'expired', grantId: 'indexed', at: expiresAt - 90_000 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  describe('bad and empty input', () => {
    it('arms nothing for no grants, and stop() cancels the one timer', () => {
      const { clock, scheduler, grant, fired } = setup();
      scheduler.update([], LEADS, 0);
      expect(clock.pendingTimers).toBe(0);
      expect(scheduler.nextAt).toBeNull();
      scheduler.update([grant('g', 120)], LEADS, 0);
      expect(clock.pendingTimers).toBe(1);
      scheduler.stop();
      expect(clock.pendingTimers).toBe(0);
      clock.advance(3600_000);
      expect(fired).toEqual([]);
    });

    it('a duplicated lead fires once; a grant dropped from the list fires nothing', () => {
      const { clock, scheduler, grant, fired } = setup();
      const keep = grant('keep', 300);
      scheduler.update([keep, grant('drop', 200)], [60, 60, 60], 0);
      scheduler.update([keep], [60, 60, 60], 0);
      clock.advance(300_000);
      expect(fired.map((event) => `${event.kind}:${event.grantId}`)).toEqual([
        'reminder:keep',
        'expired:keep',
      ]);
    });

    it('a grant that had already ended when it was first seen expires at once, without reminders', () => {
      const { clock, scheduler, fired } = setup();
      scheduler.update(
        [{ grantId: 'old', startsAt: clock.now() - 120_000, expiresAt: clock.now() - 1, renewAt: null }],
        LEADS,
        0,
      );
      expect(fired).toEqual([{ kind: 'expired', grantId: 'old', at: clock.now() }]);
      expect(clock.pendingTimers).toBe(0);
    });
  });

  it('renews a credential at its renewAt, on the same one timer, once per renewAt, and never past the expiry', () => {
    const { clock, scheduler, fired, grant } = setup();
    const start = clock.now();
    const renewing = { ...grant('renewing', 1800), renewAt: start + 240_000 };
    // A renewal due at or after the grant's end is no renewal.
    const lastMinute = { ...grant('last', 100), renewAt: start + 100_000 };
    scheduler.update([renewing, lastMinute], [], 0);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(240_000);
    expect(fired.filter((event) => event.kind === 'renew')).toEqual([
      { kind: 'renew', grantId: 'renewing', at: start + 240_000 },
    ]);
    // The same renewAt again (nothing renewed yet) does not fire twice; the next one does.
    scheduler.update([renewing], [], 0);
    scheduler.update([{ ...renewing, renewAt: start + 480_000 }], [], 0);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(240_000);
    expect(fired.filter((event) => event.kind === 'renew').map((event) => event.at)).toEqual([
      start + 240_000,
      start + 480_000,
    ]);
    // One already past (the machine slept) is due at once.
    scheduler.update([{ ...renewing, renewAt: start + 60_000 }], [], 0);
    expect(fired.at(-1)).toEqual({ kind: 'renew', grantId: 'renewing', at: clock.now() });
  });
});
