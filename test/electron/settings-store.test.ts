import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS, readStoredSettings, type StoredSettings } from '../../main/core/settings.js';
import type * as settingsStoreModule from '../../main/electron/settings-store.js';
import { electronMock, useElectronMockForPackages, userDataDir } from './mocks/electron.js';
import { GRANT_ID, recordingLog } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

let settingsModule: typeof settingsStoreModule;

beforeAll(async () => {
  // electron-store imports electron itself, outside Vitest's reach: give it the mock too.
  useElectronMockForPackages();
  settingsModule = await import('../../main/electron/settings-store.js');
});

const file = join(userDataDir, 'settings.json');
const vaultEntry = {
  grantId: GRANT_ID,
  resourceId: 'prod-db',
  role: 'read',
  expiresAt: '2030-01-07T10:00:00.000Z',
  storedAt: '2030-01-07T09:00:00.000Z',
  kind: 'token',
  credentialExpiresAt: '2030-01-07T09:05:00.000Z',
};

function open() {
  const log = recordingLog();
  // As the app does it: the folder is app.getPath('userData'), here a temporary one.
  const store = settingsModule.electronSettingsStore({
    directory: electronMock.app.getPath('userData'),
    log,
  });
  return { store, log };
}

beforeEach(() => {
  rmSync(userDataDir, { recursive: true, force: true });
  mkdirSync(userDataDir, { recursive: true });
});
afterAll(() => {
  rmSync(userDataDir, { recursive: true, force: true });
});

describe('settings over electron-store', () => {
  it('start from the defaults, in the user-data folder', () => {
    const { store } = open();
    expect(store.read()).toEqual({ ...DEFAULT_SETTINGS, vault: [] });
    expect(existsSync(file)).toBe(true);
  });

  it('persist, and read back in a new store (the next launch)', () => {
    const settings: StoredSettings = {
      serviceUrl: 'https://timebox.example.com',
      reminderLeadsSeconds: [900, 120],
      doNotDisturb: true,
      launchAtLogin: true,
      vault: [vaultEntry],
    };
    open().store.write(settings);
    expect(open().store.read()).toEqual(settings);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject(settings);
  });

  it('a damaged field falls back to its default alone; the vault index survives', () => {
    writeFileSync(
      file,
      JSON.stringify({
        serviceUrl: 42,
        reminderLeadsSeconds: 'often',
        doNotDisturb: 'yes',
        launchAtLogin: true,
        vault: [vaultEntry, { grantId: 7 }],
      }),
    );
    expect(open().store.read()).toEqual({
      ...DEFAULT_SETTINGS,
      launchAtLogin: true,
      vault: [vaultEntry],
    });
  });

  it('a file that is not JSON starts over from the defaults, and says so', () => {
    writeFileSync(file, '{"vault": [');
    const { store, log } = open();
    expect(store.read()).toEqual(readStoredSettings({}));
    expect(log.warnings()).toContain('the settings file is not JSON; starting from defaults');
  });

  it('refuses to write what it would not read back', () => {
    const { store } = open();
    const broken = { ...readStoredSettings({}), reminderLeadsSeconds: [1] };
    expect(() => {
      store.write(broken);
    }).toThrow(/schema/i);
    expect(store.read().reminderLeadsSeconds).toEqual(DEFAULT_SETTINGS.reminderLeadsSeconds);
  });

  it('its JSON schema accepts whatever the core’s reader produces', () => {
    expect(Object.keys(settingsModule.SETTINGS_SCHEMA).sort()).toEqual(
      Object.keys(readStoredSettings({})).sort(),
    );
  });
});
