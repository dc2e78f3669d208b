import { describe, expect, it } from 'vitest';
import { NotificationPolicy, type Notice, type NoticeKind } from '../../main/core/notifications.js';
import type { NavigationTarget } from '../../preload/contract.js';
import { ManualClock } from '../support/manual-clock.js';

function setup(options: { doNotDisturb?: boolean; coalesceMs?: number } = {}) {
  const clock = new ManualClock();
  const shown: { notice: Notice; click: (target: NavigationTarget) => void }[] = [];
  const recorded: { notice: Notice; shown: boolean }[] = [];
  const opened: NavigationTarget[] = [];
  let doNotDisturb = options.doNotDisturb ?? false;
  const policy = new NotificationPolicy({
    clock,
    notifier: { show: (notice, click) => shown.push({ notice, click }) },
    doNotDisturb: () => doNotDisturb,
    record: (notice, wasShown) => recorded.push({ notice, shown: wasShown }),
    open: (target) => opened.push(target),
    ...(options.coalesceMs === undefined ? {} : { coalesceMs: options.coalesceMs }),
  });
  return {
    clock,
    policy,
    shown,
    recorded,
    opened,
    setDoNotDisturb: (value: boolean) => {
      doNotDisturb = value;
    },
  };
}

const notice = (key: string, kind: NoticeKind = 'activated', target?: NavigationTarget): Notice => ({
  key,
  kind,
  title: `title of ${key}`,
  body: `body of ${key}`,
  target: target ?? { view: 'access', grantId: key },
});

describe('the notification policy', () => {
  it('shows each event at once, and never again for the same key', () => {
    const { clock, policy, shown, recorded } = setup();
    policy.push(notice('a'));
    expect(shown.map((entry) => entry.notice)).toEqual([notice('a')]);
    policy.push(notice('a'));
    clock.advance(800);
    policy.push(notice('a')); // much later: still the same event
    clock.advance(10_000);
    expect(shown).toHaveLength(1);
    expect(recorded).toEqual([{ notice: notice('a'), shown: true }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('sends the first of a kind at once and sums up the rest of its burst; a lone follower keeps its own', () => {
    const { clock, policy, shown } = setup();
    for (const key of ['r1', 'r2', 'r3']) policy.push(notice(key, 'approval-needed'));
    for (const key of ['e1', 'e2']) policy.push(notice(key, 'ended'));
    policy.push(notice('x1', 'activated'));
    expect(shown.map((entry) => entry.notice.title)).toEqual(['title of r1', 'title of e1', 'title of x1']);
    clock.advance(799);
    expect(shown).toHaveLength(3);
    clock.advance(1);
    expect(shown.slice(3).map((entry) => entry.notice.title)).toEqual([
      '2 requests wait for your approval',
      'title of e2',
    ]);
    expect(shown[3]?.notice).toMatchObject({ kind: 'approval-needed', target: { view: 'approvals' } });
    // A window that sent something stays open one more period: the burst goes on being summed up.
    policy.push(notice('r4', 'approval-needed'));
    policy.push(notice('r5', 'approval-needed'));
    expect(shown).toHaveLength(5);
    clock.advance(800);
    expect(shown.at(-1)?.notice.title).toBe('2 requests wait for your approval');
    // Quiet for a whole window: the next notice is news again, at once.
    clock.advance(800);
    expect(clock.pendingTimers).toBe(0);
    policy.push(notice('r6', 'approval-needed'));
    expect(shown.at(-1)?.notice.title).toBe('title of r6');
    expect(shown).toHaveLength(7);
  });

  it('respects do-not-disturb: nothing shown, everything recorded, and the notices are not shown later', () => {
    const { clock, policy, shown, recorded, setDoNotDisturb } = setup({ doNotDisturb: true });
    policy.push(notice('a', 'expiring'));
    policy.push(notice('b', 'ended'));
    clock.advance(800);
    expect(shown).toEqual([]);
    expect(recorded).toEqual([
      { notice: notice('a', 'expiring'), shown: false },
      { notice: notice('b', 'ended'), shown: false },
    ]);
    setDoNotDisturb(false);
    policy.push(notice('a', 'expiring')); // the same event: not replayed
    policy.push(notice('c', 'ended'));
    clock.advance(800);
    expect(shown.map((entry) => entry.notice.key)).toEqual(['c']);
  });

  it('opens the notice’s view on a click, and the summary’s view for a summary', () => {
    const { clock, policy, shown, opened } = setup();
    const target: NavigationTarget = { view: 'approvals', requestId: 'req_00000000000000000000' };
    policy.push(notice('one', 'approval-needed', target));
    for (const key of ['e1', 'e2', 'e3']) policy.push(notice(key, 'expiring'));
    clock.advance(800);
    for (const entry of shown) entry.click(entry.notice.target);
    expect(opened).toEqual([target, { view: 'access', grantId: 'e1' }, { view: 'access' }]);
  });

  it('flush() sends what is held at once; stop() drops the rest and leaves no timer', () => {
    const { clock, policy, shown } = setup({ coalesceMs: 50 });
    policy.push(notice('a'));
    policy.push(notice('b'));
    expect(shown).toHaveLength(1);
    policy.flush();
    expect(shown.map((entry) => entry.notice.key)).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
    policy.push(notice('c'));
    policy.push(notice('d'));
    policy.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(shown.map((entry) => entry.notice.key)).toEqual(['a', 'b', 'c']);
  });
});
