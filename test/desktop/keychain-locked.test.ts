// First: the private keyring, before anything calls keytar (see the module).
import { privateKeyring } from '../support/private-keyring-session.js';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantAccount } from '../../main/core/keychain-accounts.js';
import { trayModel } from '../../main/core/tray-model.js';
import { DATABASES } from '../support/databases.js';
import { startDesktop } from '../support/desktop.js';
import { testKeychain } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, stopEveryone, untilLive, type Person } from './harness.js';
import { until } from './helpers.js';

if (!privateKeyring)
  console.warn('keychain-locked.test.ts: no dbus-daemon, gnome-keyring-daemon or gdbus here.');

/** Whether the keyring holds an entry, locked or not (asked over D-Bus: keytar cannot see locked ones). */
const holds = async (service: string, account: string): Promise<boolean> => {
  const { gdbusSecretServiceLock } = await import('../../keychain/secret-service-lock.js');
  return (await gdbusSecretServiceLock().count(service, account)) > 0;
};

afterAll(() => {
  privateKeyring?.stop();
});

describe.runIf(privateKeyring !== null).each(DATABASES)('a locked keychain on %s', (kind) => {
  const keyring = privateKeyring;
  if (!keyring) return;
  let running: RunningService;
  const people: Person[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    if (await keyring.locked()) await keyring.unlock();
    await stopEveryone(people, running);
  });

  it('locked mid-grant: the wipe is not reported as done, the entry stays, and it goes once unlocked', async () => {
    const alice = await desktopOf(running, { username: 'alice' });
    people.push(alice);
    const grant = await sandboxGrant(alice, 12);
    const account = grantAccount(grant.id);
    await keyring.lock();

    await running.advance(13_000);
    await until(() => alice.of('credential-kept').length === 1, 'the credential-kept notice');
    expect(alice.of('credential-kept')[0]?.body).toMatch(
      /^It expired at .+\. Its credential could not be removed from your keychain: Your keychain is locked\./,
    );
    expect(alice.shown.map((notice) => notice.body).join('\n')).not.toMatch(/was removed/);
    expect(alice.grant(grant.id)).toMatchObject({ status: 'expired', credential: 'kept' });
    expect(alice.settings.current.vault.map((entry) => entry.grantId)).toEqual([grant.id]);
    expect(await holds(alice.keychain.service, account)).toBe(true);
    expect(alice.core.store.state.keychain).toMatchObject({ available: false, locked: true });
    const tray = trayModel(alice.core.store.state, running.clock.now());
    expect(tray.icon).toBe('attention');
    expect(tray.tooltip).toMatch(/keychain locked, 1 ended grant’s credential still in the keychain/);

    // Still locked a while later: asked again, nothing claimed.
    await running.advance(10_000);
    expect(await holds(alice.keychain.service, account)).toBe(true);
    expect(alice.settings.current.vault).toHaveLength(1);

    await keyring.unlock();
    await running.advance(5000);
    await until(async () => !(await holds(alice.keychain.service, account)), 'the wipe after unlock');
    await until(() => alice.grant(grant.id)?.credential === 'wiped', 'the wiped state');
    expect(alice.settings.current.vault).toEqual([]);
    expect(alice.core.store.state.keychain).toEqual({ available: true, locked: false, message: null });
    await running.advance(100);
    expect(alice.shown.filter((notice) => notice.key === `removed-late:${grant.id}`)).toHaveLength(1);
    expect(trayModel(alice.core.store.state, running.clock.now()).tooltip).not.toMatch(/keychain/);
  });

  it('locked before start: the core starts without crashing, says so, and sweeps and resumes once unlocked', async () => {
    const keychain = testKeychain();
    const first = await desktopOf(running, { username: 'alice', keychain });
    const grant = await sandboxGrant(first, 12);
    await first.stop();
    const kept = first.settings.current;
    await keyring.lock();
    await running.advance(13_000); // the grant ends while the app is closed

    const again = await startDesktop({
      serviceUrl: running.url,
      clock: running.clock,
      keychain,
      settings: kept,
    });
    people.push({ ...first, ...again, keychain });
    expect(again.core.store.state.keychain).toMatchObject({ available: false, locked: true });
    expect(again.core.store.state.keychain.message).toMatch(/Your keychain is locked\. Unlock it/);
    expect(again.core.store.state.session.status).toBe('signed-out');
    expect(again.settings.current.vault.map((entry) => entry.grantId)).toEqual([grant.id]);
    expect(trayModel(again.core.store.state, running.clock.now()).menu[0]).toMatchObject({
      label: 'Keychain locked: unlock it to go on',
      enabled: false,
    });

    await keyring.unlock();
    await running.advance(5000);
    await until(() => again.settings.current.vault.length === 0, 'the start-up sweep after unlock');
    expect(await holds(keychain.service, grantAccount(grant.id))).toBe(false);
    await until(() => again.core.store.state.session.status === 'signed-in', 'the saved session resumed');
    await untilLive(running, again);
  });
});
