import { ipcMain } from 'electron';
import ElectronStore, { type Schema } from 'electron-store';
import {
  readStoredSettings,
  settingsStoreOver,
  type SettingsStore,
  type StoredSettings,
} from '../core/settings.js';
import type { CoreLogger } from '../core/timebox.js';

const text = { type: 'string' } as const;

/**
 * The settings file's JSON schema: what the core's storedSettingsSchema accepts, field by field
 * (Schema<StoredSettings> makes a field added there a compile error here). electron-store checks every
 * write against it, so the app never writes a file it would not read back.
 */
export const SETTINGS_SCHEMA: Schema<StoredSettings> = {
  serviceUrl: { type: ['string', 'null'] },
  reminderLeadsSeconds: {
    type: 'array',
    maxItems: 5,
    items: { type: 'integer', minimum: 10, maximum: 86_400 },
  },
  doNotDisturb: { type: 'boolean' },
  launchAtLogin: { type: 'boolean' },
  vault: {
    type: 'array',
    items: {
      type: 'object',
      required: ['grantId', 'resourceId', 'role', 'expiresAt', 'storedAt', 'kind'],
      properties: {
        grantId: text,
        resourceId: text,
        role: text,
        expiresAt: text,
        storedAt: text,
        kind: { type: ['string', 'null'] },
        credentialExpiresAt: { type: ['string', 'null'] },
      },
    },
  },
};

/**
 * Settings in `<directory>/settings.json` through electron-store. electron-store rejects a whole file
 * that breaks its schema; the core's reader instead keeps every sound field and defaults the rest, so
 * one damaged field never takes the vault index (the list of keychain entries to wipe) down with it.
 * Every read therefore passes through that reader before electron-store validates it. A file that is not
 * JSON at all starts over from the defaults, and says so in the log.
 */
export function electronSettingsStore(options: {
  /** app.getPath('userData'), given explicitly so there is one decision about where the app keeps data. */
  readonly directory: string;
  readonly log: CoreLogger;
}): SettingsStore {
  const store = new ElectronStore<StoredSettings>({
    name: 'settings',
    cwd: options.directory,
    schema: SETTINGS_SCHEMA,
    defaults: readStoredSettings({}),
    watch: false,
    deserialize: (text) => {
      try {
        return readStoredSettings(JSON.parse(text));
      } catch {
        options.log.warn({ file: 'settings.json' }, 'the settings file is not JSON; starting from defaults');
        return readStoredSettings({});
      }
    },
  });
  // electron-store answers a synchronous IPC message with the user-data path, for stores made in a
  // renderer. Ours live in main only, and main answers our contract's channels and nothing else.
  ipcMain.removeAllListeners(ELECTRON_STORE_CHANNEL);
  return settingsStoreOver(store);
}

/** The channel electron-store listens on (its index.js), for renderer-side stores. */
const ELECTRON_STORE_CHANNEL = 'electron-store-get-data';
