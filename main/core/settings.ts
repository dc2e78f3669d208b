import { z } from 'zod';
import type { InvokeArgs, Settings } from '../../preload/contract.js';

/** A credential kept in the keychain, as the index in the settings file records it: no secret here. */
export const vaultEntrySchema = z.object({
  grantId: z.string(),
  resourceId: z.string(),
  role: z.string(),
  /** The grant's expiry, on the service's clock: the local deadline that wipes it hangs on this. */
  expiresAt: z.iso.datetime(),
  storedAt: z.string(),
  /** The credential's kind (`postgres`, say): what the windows may offer for it. Unknown in older files. */
  kind: z.string().nullable().catch(null),
  /**
   * When the stored credential itself stops working, on the service's clock: before the grant's expiry
   * for a signed token, which is renewed ahead of it. Unknown in older files (renewed at once).
   */
  credentialExpiresAt: z.iso.datetime().nullable().catch(null),
});
export type VaultEntry = z.output<typeof vaultEntrySchema>;

export const DEFAULT_SETTINGS: Settings = {
  serviceUrl: null,
  reminderLeadsSeconds: [600, 60],
  doNotDisturb: false,
  launchAtLogin: false,
};

/**
 * Everything the settings file holds; tokens and credentials never, those live in the keychain. A damaged
 * field falls back to its default on its own, so it never takes the vault index (the list of secrets to
 * wipe) down with it; a damaged index entry is dropped alone.
 */
export const storedSettingsSchema = z
  .object({
    serviceUrl: z.string().nullable().catch(DEFAULT_SETTINGS.serviceUrl),
    reminderLeadsSeconds: z
      .array(z.int().min(10).max(86_400))
      .max(5)
      .catch([...DEFAULT_SETTINGS.reminderLeadsSeconds]),
    doNotDisturb: z.boolean().catch(DEFAULT_SETTINGS.doNotDisturb),
    launchAtLogin: z.boolean().catch(DEFAULT_SETTINGS.launchAtLogin),
    vault: z
      .array(vaultEntrySchema.nullable().catch(null))
      .catch([])
      .transform((entries) => entries.filter((entry): entry is VaultEntry => entry !== null)),
  })
  .catch(() => ({
    ...DEFAULT_SETTINGS,
    reminderLeadsSeconds: [...DEFAULT_SETTINGS.reminderLeadsSeconds],
    vault: [],
  }));
export type StoredSettings = z.output<typeof storedSettingsSchema>;

/** Where settings persist: electron-store in the app, conf (its base) or memory in tests. */
export interface SettingsStore {
  read(): StoredSettings;
  write(settings: StoredSettings): void;
}

/** What a settings file holds, every valid field kept. */
export function readStoredSettings(raw: unknown): StoredSettings {
  return storedSettingsSchema.parse(raw ?? {});
}

/** A SettingsStore over anything with conf's `store` property (conf in Node, electron-store in Electron). */
export function settingsStoreOver(backing: { store: Record<string, unknown> }): SettingsStore {
  return {
    read: () => readStoredSettings(backing.store),
    write: (settings) => {
      backing.store = { ...settings };
    },
  };
}

export function publicSettings(stored: StoredSettings): Settings {
  return {
    serviceUrl: stored.serviceUrl,
    reminderLeadsSeconds: stored.reminderLeadsSeconds,
    doNotDisturb: stored.doNotDisturb,
    launchAtLogin: stored.launchAtLogin,
  };
}

/** The stored settings with a change the person made: a URL without its trailing slashes, leads once each, longest first. */
export function patchedSettings(
  current: StoredSettings,
  patch: InvokeArgs<'updateSettings'>,
): StoredSettings {
  return {
    ...current,
    ...(patch.serviceUrl === undefined ? {} : { serviceUrl: patch.serviceUrl?.replace(/\/+$/, '') ?? null }),
    ...(patch.reminderLeadsSeconds === undefined
      ? {}
      : { reminderLeadsSeconds: [...new Set(patch.reminderLeadsSeconds)].sort((a, b) => b - a) }),
    ...(patch.doNotDisturb === undefined ? {} : { doNotDisturb: patch.doNotDisturb }),
    ...(patch.launchAtLogin === undefined ? {} : { launchAtLogin: patch.launchAtLogin }),
  };
}
