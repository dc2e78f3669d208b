import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  publicSettings,
  readStoredSettings,
  settingsStoreOver,
  type VaultEntry,
} from '../../main/core/settings.js';

const entry = (grantId: string): VaultEntry => ({
  grantId,
  resourceId: 'prod-db',
  role: 'read',
  expiresAt: '2030-01-07T10:00:00.000Z',
  storedAt: '2030-01-07T09:00:00.000Z',
  kind: 'token',
  credentialExpiresAt: null,
});

const valid = {
  serviceUrl: 'https://timebox.example.com',
  reminderLeadsSeconds: [900, 120],
  doNotDisturb: true,
  launchAtLogin: true,
  vault: [entry('grt_a'), entry('grt_b')],
};

describe('stored settings', () => {
  it('reads a valid file as it is, and an empty one as the defaults', () => {
    expect(readStoredSettings(valid)).toEqual(valid);
    expect(readStoredSettings(undefined)).toEqual({ ...DEFAULT_SETTINGS, vault: [] });
    expect(readStoredSettings({})).toEqual({ ...DEFAULT_SETTINGS, vault: [] });
  });

  it.each([
    ['serviceUrl', 42, DEFAULT_SETTINGS.serviceUrl],
    ['reminderLeadsSeconds', 'ten minutes', DEFAULT_SETTINGS.reminderLeadsSeconds],
    ['reminderLeadsSeconds', [600, 5], DEFAULT_SETTINGS.reminderLeadsSeconds],
    ['reminderLeadsSeconds', [60, 120, 180, 240, 300, 360], DEFAULT_SETTINGS.reminderLeadsSeconds],
    ['doNotDisturb', 'yes', DEFAULT_SETTINGS.doNotDisturb],
    ['launchAtLogin', null, DEFAULT_SETTINGS.launchAtLogin],
  ])(
    'a damaged %s (%j) falls back alone: every other field and the vault index stay',
    (field, bad, fallback) => {
      const read = readStoredSettings({ ...valid, [field]: bad });
      expect(read).toEqual({ ...valid, [field]: fallback });
      expect(read.vault).toEqual(valid.vault);
    },
  );

  it('keeps an index entry written before credential kinds were recorded, or with a damaged kind, as of no kind', () => {
    const older = Object.fromEntries(Object.entries(entry('grt_old')).filter(([key]) => key !== 'kind'));
    const read = readStoredSettings({ ...valid, vault: [older, { ...entry('grt_odd'), kind: 42 }] });
    expect(read.vault).toEqual([
      { ...entry('grt_old'), kind: null },
      { ...entry('grt_odd'), kind: null },
    ]);
  });

  it('drops a damaged index entry alone, and keeps the others', () => {
    const read = readStoredSettings({
      ...valid,
      vault: [
        entry('grt_a'),
        { grantId: 'grt_bad' },
        'grt_c',
        null,
        // An expiry that is no time at all: no deadline could be set for it (its secret is swept as an orphan).
        { ...entry('grt_e'), expiresAt: 'tomorrow' },
        entry('grt_d'),
      ],
    });
    expect(read.vault.map((kept) => kept.grantId)).toEqual(['grt_a', 'grt_d']);
    expect(read.serviceUrl).toBe(valid.serviceUrl);
  });

  it.each([
    ['a string', 'not settings'],
    ['an array', [1, 2, 3]],
    ['a number', 7],
    ['null', null],
  ])('reads a file that is %s as the defaults', (_name, raw) => {
    expect(readStoredSettings(raw)).toEqual({ ...DEFAULT_SETTINGS, vault: [] });
  });

  it('never carries a secret: unknown fields, in the file or in an index entry, are dropped', () => {
    const read = readStoredSettings({
      ...valid,
      token: 'session-token-SECRET',
      session: { token: 'session-token-SECRET' },
      vault: [{ ...entry('grt_a'), secret: { token: 'grant-token-SECRET' }, password: 'SECRET' }],
    });
    expect(JSON.stringify(read)).not.toMatch(/SECRET/);
    expect(read.vault).toEqual([entry('grt_a')]);
    expect(Object.keys(read).sort()).toEqual(
      ['doNotDisturb', 'launchAtLogin', 'reminderLeadsSeconds', 'serviceUrl', 'vault'].sort(),
    );
  });

  it('persists through a conf-like store, which then holds exactly the settings', () => {
    const backing: { store: Record<string, unknown> } = { store: { leftover: 'SECRET', vault: 'damaged' } };
    const store = settingsStoreOver(backing);
    expect(store.read().vault).toEqual([]);
    store.write(readStoredSettings(valid));
    expect(backing.store).toEqual(valid);
    expect(store.read()).toEqual(valid);
    expect(JSON.stringify(backing.store)).not.toMatch(/SECRET/);
  });

  it('shows the windows the settings without the vault index', () => {
    expect(publicSettings(readStoredSettings(valid))).toEqual({
      serviceUrl: valid.serviceUrl,
      reminderLeadsSeconds: valid.reminderLeadsSeconds,
      doNotDisturb: true,
      launchAtLogin: true,
    });
  });
});
