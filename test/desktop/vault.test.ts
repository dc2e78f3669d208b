import { afterEach, describe, expect, it } from 'vitest';
import { grantAccount, SESSION_ACCOUNT } from '../../main/core/keychain-accounts.js';
import { KeychainUnavailableError, type Keychain } from '../../keychain/keychain.js';
import { CredentialVault, type StoredCredential } from '../../main/core/vault.js';
import { keychainAvailable, testKeychain } from '../support/keychain.js';
import { ManualClock } from '../support/manual-clock.js';
import { memorySettings, recordingLog } from './helpers.js';

const at = (ms: number) => new Date(ms).toISOString();
const clock = new ManualClock();
const log = recordingLog();
const grant = (id: string, minutes = 60) => ({
  id,
  resourceId: 'prod-db',
  role: 'read',
  expiresAt: at(clock.now() + minutes * 60_000),
});
const credentialOf = (g: ReturnType<typeof grant>, token = `jwt-SECRET-${g.id}`): StoredCredential => ({
  grantId: g.id,
  kind: 'token',
  expiresAt: g.expiresAt,
  secret: { token },
});

if (!keychainAvailable)
  console.warn('vault.test.ts: the real-keychain suites do not run here (no Secret Service).');

describe.runIf(keychainAvailable)('the credential vault on the real OS keychain', () => {
  const keychains: ReturnType<typeof testKeychain>[] = [];
  const fresh = () => {
    const keychain = testKeychain();
    keychains.push(keychain);
    const settings = memorySettings();
    const log = recordingLog();
    return { keychain, settings, log, vault: new CredentialVault(keychain, settings, clock, log) };
  };
  afterEach(async () => {
    for (const keychain of keychains.splice(0)) await keychain.wipe();
  });

  it('stores one account per grant, reads it back, and wipes it from keychain and index', async () => {
    const { keychain, settings, vault } = fresh();
    const a = grant('grt_a');
    const b = grant('grt_b', 30);
    await vault.store(a, credentialOf(a));
    await vault.store(b, credentialOf(b));
    expect((await keychain.accounts()).sort()).toEqual([grantAccount('grt_a'), grantAccount('grt_b')]);
    expect(await vault.read('grt_a')).toEqual(credentialOf(a));
    expect(settings.current.vault).toEqual([
      {
        grantId: 'grt_a',
        resourceId: 'prod-db',
        role: 'read',
        expiresAt: a.expiresAt,
        storedAt: at(clock.now()),
        kind: 'token',
        credentialExpiresAt: a.expiresAt,
      },
      {
        grantId: 'grt_b',
        resourceId: 'prod-db',
        role: 'read',
        expiresAt: b.expiresAt,
        storedAt: at(clock.now()),
        kind: 'token',
        credentialExpiresAt: b.expiresAt,
      },
    ]);

    expect(await vault.wipe('grt_a')).toBe(true);
    expect(await keychain.get(grantAccount('grt_a'))).toBeNull();
    expect(await vault.read('grt_a')).toBeNull();
    expect(vault.entries().map((entry) => entry.grantId)).toEqual(['grt_b']);
    expect(await vault.wipe('grt_a')).toBe(false); // nothing left to wipe: says so, fails nothing
    expect(await vault.read('grt_b')).toEqual(credentialOf(b));
  });

  it('replaces a grant’s credential in place (a new token after an extension)', async () => {
    const { keychain, vault } = fresh();
    const a = grant('grt_a');
    await vault.store(a, credentialOf(a, 'old-token'));
    const extended = { ...a, expiresAt: at(clock.now() + 120 * 60_000) };
    await vault.store(extended, credentialOf(extended, 'new-token'));
    expect(await keychain.accounts()).toEqual([grantAccount('grt_a')]);
    expect((await vault.read('grt_a'))?.secret).toEqual({ token: 'new-token' });
    expect(vault.entries()).toHaveLength(1);
    expect(vault.entries()[0]?.expiresAt).toBe(extended.expiresAt);
  });

  it('sweeps the entries of ended grants and accounts the index does not know, and nothing else', async () => {
    const { keychain, settings, vault } = fresh();
    const ended = grant('grt_ended', -5);
    const active = grant('grt_active', 30);
    await vault.store(ended, credentialOf(ended));
    await vault.store(active, credentialOf(active));
    // Left behind by a crash between writing the keychain and the index, or by a lost settings file.
    await keychain.set(grantAccount('grt_orphan'), JSON.stringify({ secret: { token: 'orphan' } }));
    await keychain.set(SESSION_ACCOUNT, '{"token":"session"}');

    const wiped = await vault.sweep((entry) => Date.parse(entry.expiresAt) > clock.now());
    expect(wiped.sort()).toEqual(['grt_ended', 'grt_orphan']);
    expect((await keychain.accounts()).sort()).toEqual([grantAccount('grt_active'), SESSION_ACCOUNT].sort());
    expect(settings.current.vault.map((entry) => entry.grantId)).toEqual(['grt_active']);

    expect(await vault.sweep(() => true)).toEqual([]); // nothing more to do
    expect((await vault.wipeAll()).sort()).toEqual(['grt_active']);
    expect(await keychain.accounts()).toEqual([SESSION_ACCOUNT]); // the session is the core's to end
    expect(settings.current.vault).toEqual([]);
  });

  it('survives sweeps and wipes that overlap (keytar would crash the process on a search racing a delete)', async () => {
    const { keychain, vault } = fresh();
    const grants = Array.from({ length: 24 }, (_, index) => grant(`grt_race${index}`));
    for (const each of grants) await vault.store(each, credentialOf(each));
    // Each wipe races a search of the same service, as an expiry wipe races a resync's sweep in the app.
    await Promise.all(
      grants.flatMap((each) => [vault.wipe(each.id), keychain.accounts(), vault.sweep(() => true)]),
    );
    expect(await keychain.accounts()).toEqual([]);
    expect(vault.entries()).toEqual([]);
  });

  it('never writes a secret into the settings store, in any write', async () => {
    const { settings, vault } = fresh();
    const grants = [grant('grt_1'), grant('grt_2', 5), grant('grt_3', 240)];
    for (const g of grants) await vault.store(g, credentialOf(g));
    await vault.wipe('grt_2');
    expect(settings.writes.length).toBeGreaterThanOrEqual(4);
    for (const written of settings.writes) expect(JSON.stringify(written)).not.toMatch(/SECRET|jwt/);
    expect(Object.keys(settings.current.vault[0] ?? {}).sort()).toEqual(
      ['credentialExpiresAt', 'expiresAt', 'grantId', 'kind', 'resourceId', 'role', 'storedAt'].sort(),
    );
  });

  it('restamps a kept credential to a new expiry without changing its secret; says false when none is kept', async () => {
    const { keychain, settings, vault } = fresh();
    const a = grant('grt_a', 10);
    const login: StoredCredential = {
      grantId: 'grt_a',
      kind: 'postgres',
      expiresAt: a.expiresAt,
      secret: {
        user: 'timebox_grt_a',
        password: 'pw-SECRET',
        uri: 'postgresql://timebox_grt_a:pw-SECRET@db/x',
      },
    };
    await vault.store(a, login);
    const later = { ...a, expiresAt: at(clock.now() + 40 * 60_000) };
    expect(await vault.restamp(later)).toBe(true);
    expect(await vault.read('grt_a')).toEqual({ ...login, expiresAt: later.expiresAt });
    expect(settings.current.vault).toEqual([
      expect.objectContaining({ grantId: 'grt_a', expiresAt: later.expiresAt, kind: 'postgres' }),
    ]);
    expect(JSON.stringify(settings.current)).not.toContain('SECRET');

    // Gone from the keychain behind our back: nothing to restamp, and nothing made up.
    await keychain.delete(grantAccount('grt_a'));
    expect(await vault.restamp(later)).toBe(false);
    expect(await vault.read('grt_a')).toBeNull();
    expect(await vault.restamp(grant('grt_never'))).toBe(false);
  });

  it.each([
    ['not JSON', 'not json {'],
    ['JSON of another shape', '{"token":"jwt-SECRET"}'],
    [
      'a credential without its secret',
      JSON.stringify({ grantId: 'grt_a', kind: 'token', expiresAt: at(0) }),
    ],
    [
      'a credential with a broken expiry',
      JSON.stringify({ grantId: 'grt_a', kind: 'token', expiresAt: 'soon', secret: {} }),
    ],
    ['another grant’s credential', JSON.stringify(credentialOf(grant('grt_b')))],
  ])('treats an entry it cannot read (%s) as absent, removes it and says so', async (_name, stored) => {
    const { keychain, vault, log } = fresh();
    const a = grant('grt_a');
    await vault.store(a, credentialOf(a));
    await keychain.set(grantAccount('grt_a'), stored);
    expect(await vault.read('grt_a')).toBeNull();
    expect(await keychain.accounts()).toEqual([]);
    expect(vault.entries()).toEqual([]);
    expect(log.lines).toEqual([
      {
        level: 'warn',
        details: { grantId: 'grt_a' },
        message: 'removed a keychain entry Timebox could not read',
      },
    ]);
  });

  it('keeps secrets byte for byte (unicode, quotes, long tokens)', async () => {
    const { vault } = fresh();
    const a = grant('grt_a');
    const token = `héllo "wörld" ✓ ${'x'.repeat(4000)}`;
    await vault.store(a, credentialOf(a, token));
    expect((await vault.read('grt_a'))?.secret).toEqual({ token });
  });

  it('answers the probe: the keychain is there', async () => {
    const { vault } = fresh();
    expect(await vault.probe()).toEqual({ available: true });
  });
});

/** A keychain that fails as keytar does without a Secret Service (the adapter turns that into this error). */
function missingKeychain(): Keychain & { readonly calls: string[] } {
  const calls: string[] = [];
  const fail = (call: string) => {
    calls.push(call);
    return Promise.reject(new KeychainUnavailableError('Cannot autolaunch D-Bus without X11 $DISPLAY'));
  };
  return {
    calls,
    get: () => fail('get'),
    set: () => fail('set'),
    delete: () => fail('delete'),
    accounts: () => fail('accounts'),
  };
}

describe('the credential vault without a keychain', () => {
  it('says clearly that there is none, and what to do', async () => {
    const vault = new CredentialVault(missingKeychain(), memorySettings(), clock, log);
    const probe = await vault.probe();
    expect(probe.available).toBe(false);
    if (!probe.available) {
      expect(probe.message).toBe(
        'No system keychain is available (Cannot autolaunch D-Bus without X11 $DISPLAY). Timebox keeps credentials only in the keychain: unlock or start one (on Linux, GNOME Keyring or KWallet) and try again.',
      );
    }
  });

  it('refuses to store with KeychainUnavailableError, and writes nothing anywhere', async () => {
    const keychain = missingKeychain();
    const settings = memorySettings();
    const vault = new CredentialVault(keychain, settings, clock, log);
    const a = grant('grt_a');
    await expect(vault.store(a, credentialOf(a))).rejects.toBeInstanceOf(KeychainUnavailableError);
    await expect(vault.store(a, credentialOf(a))).rejects.toThrow(/No system keychain is available/);
    // No index entry for a secret that was never kept, and no secret anywhere else either.
    expect(settings.current).toEqual(memorySettings().current);
    for (const written of settings.writes) expect(JSON.stringify(written)).not.toMatch(/SECRET/);
    expect(vault.entries()).toEqual([]);
  });

  it('keeps the index entry of an earlier credential when replacing it fails (it may still be there)', async () => {
    const settings = memorySettings();
    const a = grant('grt_a');
    const entry = {
      grantId: 'grt_a',
      resourceId: 'prod-db',
      role: 'read',
      expiresAt: a.expiresAt,
      storedAt: at(0),
      kind: 'token',
      credentialExpiresAt: null,
    };
    settings.write({ ...settings.current, vault: [entry] });
    const vault = new CredentialVault(missingKeychain(), settings, clock, log);
    await expect(vault.store(a, credentialOf(a))).rejects.toBeInstanceOf(KeychainUnavailableError);
    expect(settings.current.vault).toEqual([entry]);
  });

  it('fails reads, wipes and sweeps with the same clear error, never a plaintext answer', async () => {
    const settings = memorySettings();
    const vault = new CredentialVault(missingKeychain(), settings, clock, log);
    await expect(vault.read('grt_a')).rejects.toBeInstanceOf(KeychainUnavailableError);
    await expect(vault.wipe('grt_a')).rejects.toBeInstanceOf(KeychainUnavailableError);
    await expect(vault.sweep(() => false)).rejects.toBeInstanceOf(KeychainUnavailableError);
  });
});
