import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  applyLaunchAtLogin,
  followLaunchAtLogin,
  HIDDEN_ARGUMENT,
  type LoginItemDeps,
} from '../../main/electron/login-item.js';
import { followSystemEvents } from '../../main/electron/system-events.js';
import { recordingLog, testCore } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

function deps(platform: NodeJS.Platform, isPackaged = true) {
  const setLoginItemSettings = vi.fn<LoginItemDeps['app']['setLoginItemSettings']>();
  const loginItem: LoginItemDeps = {
    app: { isPackaged, setLoginItemSettings },
    platform,
    executable: '/opt/Timebox Apps/Timebox.AppImage',
    autostartDir: join(mkdtempSync(join(tmpdir(), 'timebox-autostart-')), 'autostart'),
    log: recordingLog(),
  };
  return { ...loginItem, setLoginItemSettings };
}

describe('launch at login', () => {
  it('macOS: a login item', async () => {
    const macos = deps('darwin');
    await applyLaunchAtLogin(true, macos);
    expect(macos.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true });
  });

  it('Windows: a login item that starts hidden', async () => {
    const windows = deps('win32');
    await applyLaunchAtLogin(true, windows);
    expect(windows.setLoginItemSettings).toHaveBeenCalledWith({
      openAtLogin: true,
      args: [HIDDEN_ARGUMENT],
    });
    await applyLaunchAtLogin(false, windows);
    expect(windows.setLoginItemSettings).toHaveBeenLastCalledWith({
      openAtLogin: false,
      args: [HIDDEN_ARGUMENT],
    });
  });

  it('Linux: an XDG autostart entry, written and removed', async () => {
    const linux = deps('linux');
    await applyLaunchAtLogin(true, linux);
    const entry = readFileSync(join(linux.autostartDir, 'dev.timebox.app.desktop'), 'utf8');
    expect(entry).toContain('[Desktop Entry]');
    expect(entry).toContain('Exec="/opt/Timebox Apps/Timebox.AppImage" --hidden');
    expect(linux.setLoginItemSettings).not.toHaveBeenCalled();
    await applyLaunchAtLogin(false, linux);
    expect(existsSync(join(linux.autostartDir, 'dev.timebox.app.desktop'))).toBe(false);
  });

  it('a development run registers nothing', async () => {
    const development = deps('darwin', false);
    await applyLaunchAtLogin(true, development);
    expect(development.setLoginItemSettings).not.toHaveBeenCalled();
  });

  it('follows the setting: applied at start, then on each change of it only', async () => {
    const { core } = testCore();
    const macos = deps('darwin');
    followLaunchAtLogin(core.store, macos);
    expect(macos.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: false });
    await core.updateSettings({ launchAtLogin: true });
    await core.updateSettings({ doNotDisturb: true });
    await vi.waitFor(() => {
      expect(macos.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: true });
    });
    expect(macos.setLoginItemSettings).toHaveBeenCalledTimes(2);
  });
});

describe('system events', () => {
  it('resume and unlock reach the core', () => {
    const power = new EventEmitter();
    const core = { systemResumed: vi.fn(), screenUnlocked: vi.fn() };
    followSystemEvents(power, core);
    power.emit('resume');
    power.emit('unlock-screen');
    expect(core.systemResumed).toHaveBeenCalledTimes(1);
    expect(core.screenUnlocked).toHaveBeenCalledTimes(1);
  });
});
