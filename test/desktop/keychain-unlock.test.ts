// First: the private keyring, before anything calls keytar (see the module).
import { privateKeyring } from '../support/private-keyring-session.js';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gdbusSecretServiceLock } from '../../keychain/secret-service-lock.js';
import { secretServiceUnlocker } from '../../main/adapters/secret-service-unlock.js';
import { grantAccount } from '../../main/core/keychain-accounts.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, stopEveryone, type Person } from './harness.js';
import { until } from './helpers.js';

if (!privateKeyring)
  console.warn('keychain-unlock.test.ts: no dbus-daemon, gnome-keyring-daemon or gdbus here.');

/** Whether the keyring holds an entry, locked or not (asked over D-Bus: keytar cannot see locked ones). */
const holds = async (service: string, account: string): Promise<boolean> =>
  (await gdbusSecretServiceLock().count(service, account)) > 0;

afterAll(() => {
  privateKeyring?.stop();
});

describe.runIf(privateKeyring !== null)('asking the Secret Service to unlock', () => {
  it('answers unlocked at once, with no prompt, when the collection is not locked', async () => {
    expect(await secretServiceUnlocker().unlock()).toEqual({ outcome: 'unlocked', detail: null });
    expect(await privateKeyring?.locked()).toBe(false);
  });

  it('says where there is no bus at all, without trying one', async () => {
    const unlocker = secretServiceUnlocker({ environment: () => ({}) });
    expect(await unlocker.unlock()).toEqual({
      outcome: 'unavailable',
      detail: 'no D-Bus session bus in this session',
    });
  });
});

describe.runIf(privateKeyring !== null).each(DATABASES)('Unlock keychain on %s', (kind) => {
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

  /** Alice, whose grant ended while the keychain was locked: its credential is kept. */
  const keptWhileLocked = async () => {
    const alice = await desktopOf(running, { username: 'alice', unlocker: secretServiceUnlocker() });
    people.push(alice);
    const grant = await sandboxGrant(alice, 12);
    await keyring.lock();
    await running.advance(13_000);
    await until(() => alice.grant(grant.id)?.credential === 'kept', 'the kept credential');
    return { alice, grant };
  };

  it('a prompt nobody can show (no prompter on this bus) is reported as such and keeps everything kept', async () => {
    const { alice, grant } = await keptWhileLocked();

    const result = await alice.core.unlockKeychain();
    expect(result.outcome).toBe('dismissed');
    expect(result.message).toMatch(
      /still locked, and what waits for it is kept\. Unlock it from your system/,
    );
    expect(await keyring.locked()).toBe(true);
    expect(alice.core.store.state.keychain).toMatchObject({ available: false, locked: true });
    expect(alice.grant(grant.id)?.credential).toBe('kept');
    expect(alice.settings.current.vault.map((entry) => entry.grantId)).toEqual([grant.id]);
    expect(await holds(alice.keychain.service, grantAccount(grant.id))).toBe(true);
    expect(alice.shown.map((notice) => notice.body).join('\n')).not.toMatch(/was removed/);

    // Asked again: same answer, and the app carries on (no crash, the watch still waits).
    expect((await alice.core.unlockKeychain()).outcome).toBe('dismissed');
    await running.advance(5000);
    expect(alice.grant(grant.id)?.credential).toBe('kept');
  });

  it('once unlocked, what waited is finished at once, not at the watch’s next look', async () => {
    const { alice, grant } = await keptWhileLocked();
    await keyring.unlock(); // as the OS's own prompt would, just before the person clicks

    const result = await alice.core.unlockKeychain();
    // No clock advanced: the kept credential is gone when the answer comes.
    expect(result).toEqual({
      outcome: 'unlocked',
      message: 'Your keychain is unlocked. Timebox carries on with what waited for it.',
    });
    expect(alice.core.store.state.keychain).toEqual({ available: true, locked: false, message: null });
    expect(alice.grant(grant.id)?.credential).toBe('wiped');
    expect(alice.settings.current.vault).toEqual([]);
    expect(await holds(alice.keychain.service, grantAccount(grant.id))).toBe(false);
  });

  it('is not offered by a core without an unlocker (macOS, Windows): it says to unlock from the system', async () => {
    const bob = await desktopOf(running, { username: 'bob' });
    people.push(bob);
    expect(await bob.core.unlockKeychain()).toEqual({
      outcome: 'not-offered',
      message: expect.stringMatching(/^Timebox cannot ask this system to unlock the keychain/) as string,
    });
  });
});
