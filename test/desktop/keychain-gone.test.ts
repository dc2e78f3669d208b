// First: the private keyring, before anything calls keytar (see the module).
import { privateKeyring } from '../support/private-keyring-session.js';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretServiceUnlocker } from '../../main/adapters/secret-service-unlock.js';
import { KeychainUnavailableError } from '../../keychain/keychain.js';
import { trayModel } from '../../main/core/tray-model.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, type Person } from './harness.js';
import { until } from './helpers.js';

if (!privateKeyring)
  console.warn('keychain-gone.test.ts: no dbus-daemon, gnome-keyring-daemon or gdbus here.');

afterAll(() => {
  privateKeyring?.stop();
});

// One database: the bus dies once per process (keytar's libsecret keeps the connection of its first call).
describe.runIf(privateKeyring !== null)('a keychain that disappears mid-run (D-Bus gone)', () => {
  let running: RunningService;
  let alice: Person;
  beforeEach(async () => {
    running = await startService({ kind: 'pglite' });
    alice = await desktopOf(running, { username: 'alice', unlocker: secretServiceUnlocker() });
  });
  afterEach(async () => {
    await alice.stop();
    await running.stop();
  });

  it('gives a clear state, no crash, and nothing reported as wiped', async () => {
    const ending = await sandboxGrant(alice, 12);
    const lasting = await sandboxGrant(alice, 600);
    privateKeyring?.killBus();

    await running.advance(13_000);
    await until(() => alice.of('credential-kept').length === 1, 'the credential-kept notice');
    expect(alice.of('credential-kept')[0]?.body).toMatch(
      /Its credential could not be removed from your keychain: No system keychain is available \(the Secret Service does not answer on D-Bus/,
    );
    expect(alice.shown.map((notice) => notice.body).join('\n')).not.toMatch(/was removed/);
    expect(alice.grant(ending.id)).toMatchObject({ status: 'expired', credential: 'kept' });
    expect(alice.settings.current.vault.map((entry) => entry.grantId).sort()).toEqual(
      [ending.id, lasting.id].sort(),
    );
    expect(alice.core.store.state.keychain).toMatchObject({ available: false, locked: false });
    expect(alice.core.store.state.keychain.message).toMatch(/does not answer on D-Bus/);
    expect(trayModel(alice.core.store.state, running.clock.now()).menu[0]).toMatchObject({
      label: 'Keychain unavailable',
      enabled: false,
    });
    await expect(alice.core.credential(lasting.id)).rejects.toBeInstanceOf(KeychainUnavailableError);
    // Asked to unlock, it says the keychain does not answer, and claims nothing.
    const unlock = await alice.core.unlockKeychain();
    expect(unlock.outcome).toBe('unavailable');
    expect(unlock.message).toMatch(
      /^The keychain service does not answer \(.+\), so it cannot be asked to unlock\./,
    );
    expect(alice.grant(ending.id)?.credential).toBe('kept');

    // The watch keeps asking, the process keeps running, and nothing is claimed.
    await running.advance(20_000);
    expect(alice.settings.current.vault.map((entry) => entry.grantId)).toContain(ending.id);
    expect(alice.grant(ending.id)?.credential).toBe('kept');
    expect(alice.shown.map((notice) => notice.body).join('\n')).not.toMatch(/was removed|no longer in it/);
  });
});
