import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { TrayCommand } from '../../main/core/tray-model.js';
import { createHandlers } from '../../main/core/ipc-handlers.js';
import { toIpcError } from '../../main/core/errors.js';
import { loadTrayIcons, trayCommands, TrayView } from '../../main/electron/tray.js';
import { FakeClipboard, FakeImage, FakeTray } from './mocks/electron.js';
import { activeGrant, GRANT_ID, pendingRequest, signedInSession, testCore } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

type Template = MenuItemConstructorOptions[];

function setUp(platform: NodeJS.Platform = 'linux') {
  const { core, clock } = testCore();
  const tray = new FakeTray();
  const icons = {
    idle: new FakeImage('idle'),
    active: new FakeImage('active'),
    attention: new FakeImage('attention'),
  };
  const run = vi.fn<(command: TrayCommand) => void>();
  const onClick = vi.fn<() => void>();
  const buildMenu = vi.fn<(template: Template) => Template>((template) => template);
  const view = new TrayView({ tray, icons, buildMenu, store: core.store, clock, platform, run, onClick });
  const menu = (): Template => buildMenu.mock.lastCall?.[0] ?? [];
  const labels = (): string[] => menu().map((item) => item.label ?? item.type ?? '');
  const tooltip = (): string | undefined => tray.setToolTip.mock.calls.at(-1)?.[0];
  const icon = (): unknown => tray.setImage.mock.calls.at(-1)?.[0];
  return { core, clock, tray, icons, run, onClick, buildMenu, view, menu, labels, tooltip, icon };
}

describe('the tray', () => {
  it('shows the signed-out state: idle icon, tooltip, and a menu to sign in', () => {
    const world = setUp();
    world.view.start();
    expect(world.icon()).toBe(world.icons.idle);
    expect(world.tooltip()).toBe('Timebox: signed out');
    expect(world.labels()).toEqual(['Sign in…', 'separator', 'Settings', 'Quit Timebox']);
  });

  it('shows an active grant: active icon, time left in tooltip and menu, its commands in a submenu', () => {
    const world = setUp();
    world.core.store.update({
      session: signedInSession,
      grants: [activeGrant(world.clock.now(), 12 * 60_000)],
    });
    world.view.start();
    expect(world.icon()).toBe(world.icons.active);
    expect(world.tooltip()).toMatch(/^Timebox: prod-db · read ends in 12 min/);
    const grant = world.menu().find((item) => item.label?.startsWith('prod-db'));
    expect(grant?.label).toBe('prod-db · read: 12 min left');
    const submenu = grant?.submenu;
    expect(Array.isArray(submenu) ? submenu.map((item) => item.label) : submenu).toEqual([
      'Copy credential',
      'Extend…',
      'Relinquish',
    ]);
  });

  it('asks for attention when an approval waits', () => {
    const world = setUp();
    world.view.start();
    world.core.store.update({ session: signedInSession, approvals: [pendingRequest(world.clock.now())] });
    expect(world.icon()).toBe(world.icons.attention);
    expect(world.tooltip()).toBe('Timebox: no active access; 1 approval waits');
    expect(world.labels()).toContain('Approvals (1)');
  });

  it('draws again every minute while a grant is active, and at the start of its last minute', () => {
    const world = setUp();
    world.core.store.update({
      session: signedInSession,
      grants: [activeGrant(world.clock.now(), 3 * 60_000 + 30_000)],
    });
    world.view.start();
    expect(world.labels()).toContain('prod-db · read: 4 min left');
    world.clock.advance(60_000);
    expect(world.labels()).toContain('prod-db · read: 3 min left');
    world.clock.advance(80_000);
    expect(world.icon()).toBe(world.icons.active);
    // 60 s left: drawn at that moment, not at the next minute's tick.
    world.clock.advance(10_000);
    expect(world.icon()).toBe(world.icons.attention);
    expect(world.tooltip()).toMatch(/ends in 1 min/);
  });

  it('changes only what changed', () => {
    const world = setUp();
    world.view.start();
    world.core.store.update({
      clockOffsetMs: 0,
      connection: { status: 'live', retryAt: null, message: null },
    });
    expect(world.tray.setImage).toHaveBeenCalledTimes(1);
    expect(world.tray.setToolTip).toHaveBeenCalledTimes(1);
    expect(world.buildMenu).toHaveBeenCalledTimes(1);
  });

  it('runs a menu item’s command', () => {
    const world = setUp();
    world.view.start();
    const quit = world.menu().find((item) => item.label === 'Quit Timebox');
    // Our items ignore Electron's click arguments (the item, the window, the event).
    const click = quit?.click as (() => void) | undefined;
    click?.();
    expect(world.run).toHaveBeenCalledWith({ kind: 'quit' });
  });

  for (const platform of ['linux', 'win32'] as const) {
    it(`${platform}: the menu is the tray’s context menu, and a click opens the popover`, () => {
      const world = setUp(platform);
      world.view.start();
      expect(world.tray.setContextMenu).toHaveBeenLastCalledWith(world.menu());
      world.tray.emit('click');
      expect(world.onClick).toHaveBeenCalledTimes(1);
    });
  }

  it('darwin: a left click opens the popover, the menu pops up on right click', () => {
    const world = setUp('darwin');
    world.view.start();
    expect(world.tray.setContextMenu).not.toHaveBeenCalled();
    world.tray.emit('click');
    expect(world.onClick).toHaveBeenCalledTimes(1);
    world.tray.emit('right-click');
    expect(world.tray.popUpContextMenu).toHaveBeenCalledWith(world.menu());
  });

  it('stops: no more drawing, no timer left, the icon gone', () => {
    const world = setUp();
    world.core.store.update({ session: signedInSession, grants: [activeGrant(world.clock.now(), 600_000)] });
    world.view.start();
    world.view.stop();
    expect(world.clock.pendingTimers).toBe(0);
    world.core.store.update({ approvals: [pendingRequest(world.clock.now())] });
    expect(world.buildMenu).toHaveBeenCalledTimes(1);
    expect(world.tray.destroy).toHaveBeenCalled();
  });
});

describe('tray icons', () => {
  const load = (path: string) => new FakeImage(path);

  it('are template images on macOS', () => {
    const icons = loadTrayIcons('darwin', '/app/resources/tray', load);
    expect(icons.idle.path).toBe('/app/resources/tray/idleTemplate.png');
    expect(icons.attention.path).toBe('/app/resources/tray/attentionTemplate.png');
    expect(Object.values(icons).every((icon) => icon.template)).toBe(true);
  });

  for (const platform of ['win32', 'linux'] as const) {
    it(`are coloured images on ${platform}`, () => {
      const icons = loadTrayIcons(platform, '/app/resources/tray', load);
      expect(icons.active.path).toBe('/app/resources/tray/active.png');
      expect(Object.values(icons).some((icon) => icon.template)).toBe(false);
    });
  }
});

describe('tray commands', () => {
  function commands() {
    const { core, clock, log } = testCore();
    const clipboard = new FakeClipboard();
    const handlers = createHandlers({
      core,
      clipboard,
      clock,
      log,
      openExternal: () => Promise.resolve(),
      externalHosts: [],
      rendererReady: () => undefined,
    });
    const credential = vi.spyOn(core, 'credential').mockResolvedValue({
      grantId: GRANT_ID,
      kind: 'database',
      expiresAt: new Date(clock.now() + 600_000).toISOString(),
      secret: { password: 'hunter2', uri: 'postgres://alice:hunter2@db/prod' },
    });
    const connectionUri = vi
      .spyOn(core, 'connectionUri')
      .mockResolvedValue('postgresql://timebox_grt:hunter2@db:5432/orders');
    const openPsql = vi.spyOn(core, 'openPsql').mockResolvedValue(undefined);
    const relinquish = vi.spyOn(core, 'relinquishGrant').mockRejectedValue(new Error('offline'));
    const navigate = vi.fn();
    const quit = vi.fn();
    const report = vi.fn<(title: string, error: unknown) => void>();
    const unlock = vi
      .spyOn(core, 'unlockKeychain')
      .mockResolvedValue({ outcome: 'unlocked', message: 'done' });
    const run = trayCommands({
      navigate,
      copyCredential: (grantId) => handlers.copyCredential({ grantId }, null),
      copyConnectionUri: (grantId) => handlers.copyConnectionUri({ grantId }, null),
      openPsql: (grantId) => handlers.openPsql({ grantId }, null),
      relinquishGrant: (grantId) => handlers.relinquishGrant({ grantId }, null),
      unlockKeychain: () => handlers.unlockKeychain({}, null),
      quit,
      report,
    });
    return {
      run,
      clipboard,
      credential,
      connectionUri,
      openPsql,
      relinquish,
      unlock,
      navigate,
      quit,
      report,
    };
  }

  it('Unlock keychain asks the core through the handler; what did not unlock is said with the outcome', async () => {
    const world = commands();
    world.run({ kind: 'unlock-keychain' });
    await vi.waitFor(() => {
      expect(world.unlock).toHaveBeenCalledTimes(1);
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(world.report).not.toHaveBeenCalled(); // unlocked shows in the state itself

    world.unlock.mockResolvedValueOnce({
      outcome: 'no-prompt',
      message: 'Your system could not show an unlock prompt.',
    });
    world.run({ kind: 'unlock-keychain' });
    await vi.waitFor(() => {
      expect(world.report).toHaveBeenCalledTimes(1);
    });
    const [title, error] = world.report.mock.calls[0] ?? [];
    expect(title).toBe('Keychain still locked');
    expect(toIpcError(error)).toEqual({
      code: 'keychain_no_prompt',
      message: 'Your system could not show an unlock prompt.',
    });
  });

  it('open shows the view, quit quits', () => {
    const world = commands();
    world.run({ kind: 'open', target: { view: 'request' } });
    world.run({ kind: 'quit' });
    expect(world.navigate).toHaveBeenCalledWith({ view: 'request' });
    expect(world.quit).toHaveBeenCalled();
  });

  it('copy goes through the same copyCredential handler as a window’s call', async () => {
    const world = commands();
    world.run({ kind: 'copy', grantId: GRANT_ID });
    await vi.waitFor(() => {
      expect(world.clipboard.text).toBe('hunter2');
    });
    expect(world.credential).toHaveBeenCalledWith(GRANT_ID);
  });

  it('Copy connection URI and Open psql go through the handlers a window calls', async () => {
    const world = commands();
    world.run({ kind: 'copy-uri', grantId: GRANT_ID });
    await vi.waitFor(() => {
      expect(world.clipboard.text).toBe('postgresql://timebox_grt:hunter2@db:5432/orders');
    });
    world.run({ kind: 'psql', grantId: GRANT_ID });
    await vi.waitFor(() => {
      expect(world.openPsql).toHaveBeenCalledWith(GRANT_ID);
    });
    expect(world.connectionUri).toHaveBeenCalledWith(GRANT_ID);
    expect(world.report).not.toHaveBeenCalled();
  });

  it('a failed Open psql or URI copy is reported with its own title', async () => {
    const world = commands();
    world.openPsql.mockRejectedValueOnce(new Error('psql is not installed'));
    world.run({ kind: 'psql', grantId: GRANT_ID });
    world.connectionUri.mockRejectedValueOnce(new Error('not a database login'));
    world.run({ kind: 'copy-uri', grantId: GRANT_ID });
    await vi.waitFor(() => {
      expect(world.report.mock.calls.map(([title]) => title).sort()).toEqual([
        'Could not copy the connection URI',
        'Could not open psql',
      ]);
    });
    expect(world.clipboard.text).toBe('');
  });

  it('a command that fails is reported', async () => {
    const world = commands();
    world.run({ kind: 'relinquish', grantId: GRANT_ID });
    await vi.waitFor(() => {
      expect(world.report).toHaveBeenCalledWith('Could not relinquish the grant', expect.any(Error));
    });
    world.credential.mockRejectedValueOnce(new Error('locked keychain'));
    world.run({ kind: 'copy', grantId: GRANT_ID });
    await vi.waitFor(() => {
      expect(world.report).toHaveBeenCalledWith('Could not copy the credential', expect.any(Error));
    });
  });
});
