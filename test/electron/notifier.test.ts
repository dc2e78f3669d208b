import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { NavigationTarget } from '../../preload/contract.js';
import { NotificationPolicy, type Notice } from '../../main/core/notifications.js';
import { ElectronNotifier } from '../../main/electron/notifier.js';
import { ManualClock } from '../support/manual-clock.js';
import { FakeNotification } from './mocks/electron.js';
import { GRANT_ID, recordingLog } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

const expiring: Notice = {
  key: `expiring:${GRANT_ID}:600`,
  kind: 'expiring',
  title: 'prod-db · read ends in 10 min',
  body: 'At 09:10. Extend it if you still need it.',
  target: { view: 'access', grantId: GRANT_ID },
  action: { label: 'Extend…', target: { view: 'extend', grantId: GRANT_ID } },
};

function setUp(platform: NodeJS.Platform = 'darwin') {
  FakeNotification.created.length = 0;
  FakeNotification.supported = true;
  const log = recordingLog();
  const notifier = new ElectronNotifier({
    api: {
      isSupported: () => FakeNotification.isSupported(),
      create: (options) => new FakeNotification(options),
    },
    platform,
    icon: '/app/resources/icon.png',
    log,
  });
  const clock = new ManualClock();
  const navigations: NavigationTarget[] = [];
  // The core's policy in front, as in the app: a click goes to `open`, which the app routes to navigate.
  const policy = new NotificationPolicy({
    clock,
    notifier,
    doNotDisturb: () => false,
    record: () => undefined,
    open: (target) => navigations.push(target),
    coalesceMs: 10,
  });
  const notify = (notice: Notice): FakeNotification | undefined => {
    policy.push(notice);
    policy.flush();
    return FakeNotification.created.at(-1);
  };
  return { notifier, log, navigations, notify };
}

let world: ReturnType<typeof setUp>;
beforeEach(() => {
  world = setUp();
});

describe('desktop notifications', () => {
  it('show the notice’s title and body with the app icon', () => {
    const shown = world.notify(expiring);
    expect(shown?.options).toMatchObject({
      title: expiring.title,
      body: expiring.body,
      icon: '/app/resources/icon.png',
    });
    expect(shown?.show).toHaveBeenCalledTimes(1);
  });

  it('a click opens the notice’s view', () => {
    world.notify(expiring)?.emit('click');
    expect(world.navigations).toEqual([{ view: 'access', grantId: GRANT_ID }]);
  });

  it('the action button (Extend…) opens the extend view, where the platform has buttons', () => {
    const shown = world.notify(expiring);
    expect(shown?.options.actions).toEqual([{ type: 'button', text: 'Extend…' }]);
    shown?.emit('action', { actionIndex: 0 });
    expect(world.navigations).toEqual([{ view: 'extend', grantId: GRANT_ID }]);
  });

  it('on Linux there are no buttons; the click still opens the view', () => {
    world = setUp('linux');
    const shown = world.notify(expiring);
    expect(shown?.options.actions).toBeUndefined();
    shown?.emit('click');
    expect(world.navigations).toEqual([{ view: 'access', grantId: GRANT_ID }]);
  });

  it('stay referenced until closed, so a late click still arrives', () => {
    const shown = world.notify(expiring);
    expect(world.notifier.live.get(expiring.key)).toBe(shown);
    shown?.emit('close');
    expect(world.notifier.live.size).toBe(0);
  });

  it('are let go once clicked, or when the desktop refuses them', () => {
    world.notify(expiring)?.emit('click');
    expect(world.notifier.live.size).toBe(0);
    world.notify({ ...expiring, key: 'other' })?.emit('failed');
    expect(world.notifier.live.size).toBe(0);
    expect(world.log.warnings()).toContain('the desktop refused a notification');
  });

  it('show nothing where the desktop has no notifications, and say so in the log', () => {
    FakeNotification.supported = false;
    world.notify(expiring);
    expect(FakeNotification.created).toHaveLength(0);
    expect(world.notifier.live.size).toBe(0);
    expect(world.log.warnings()).toEqual([
      'this desktop shows no notifications; the notice stays in the app',
    ]);
  });

  it('keep at most fifty alive', () => {
    for (let index = 0; index < 60; index++)
      world.notifier.alert(`alert:${index}`, 'Title', 'Body', () => undefined);
    expect(world.notifier.live.size).toBe(50);
    expect(world.notifier.live.has('alert:0')).toBe(false);
    expect(world.notifier.live.has('alert:59')).toBe(true);
  });
});
