import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantAccount, SESSION_ACCOUNT } from '../../main/core/keychain-accounts.js';
import { DATABASES } from '../support/databases.js';
import { startDesktop, type TestDesktop } from '../support/desktop.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, sessionToken, stopEveryone, untilLive, type Person } from './harness.js';
import { until } from './helpers.js';

if (!keychainAvailable)
  console.warn('core-restart.test.ts: the keychain suites do not run here (no Secret Service).');

/**
 * The app closed and opened again: whatever the last run left in the keychain is watched from the vault
 * index alone until the service says more, so it goes on time even when the service never answers.
 */
describe.runIf(keychainAvailable).each(DATABASES)('the core after a restart on %s', (kind) => {
  let running: RunningService;
  const people: Person[] = [];
  const restarted: TestDesktop[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    for (const desktop of restarted.splice(0)) await desktop.stop();
    await stopEveryone(people, running);
  });

  /** Alice with grants, then the app closed: what its next start finds. */
  async function closedWith(seconds: readonly number[]) {
    const alice = await desktopOf(running, { username: 'alice' });
    people.push(alice);
    const grants = [];
    for (const length of seconds) grants.push(await sandboxGrant(alice, length));
    await alice.stop();
    return { alice, grants };
  }

  async function restart(alice: Person): Promise<TestDesktop> {
    const again = await startDesktop({
      serviceUrl: running.url,
      clock: running.clock,
      keychain: alice.keychain,
      settings: alice.settings.current,
    });
    restarted.push(again);
    return again;
  }

  const stored = async (alice: Person, grantId: string) =>
    (await alice.keychain.get(grantAccount(grantId))) !== null;

  it('with the service unreachable: each credential goes at its own expiry, on the local clock', async () => {
    const { clock } = running;
    const { alice, grants } = await closedWith([600, 1800]);
    const [short, long] = grants;
    if (!short || !long) throw new Error('two grants expected');
    await running.stop();
    const again = await restart(alice);
    expect(again.core.store.state.session.status).toBe('signed-in'); // resumed, though it cannot connect
    expect(again.core.store.state.grants).toEqual([]); // nothing loaded from the service

    clock.advance(Date.parse(short.expiresAt) - clock.now() - 1);
    expect(await stored(alice, short.id)).toBe(true);
    clock.advance(1);
    await until(async () => !(await stored(alice, short.id)), 'the first credential wiped at its expiry');
    expect(await stored(alice, long.id)).toBe(true);
    expect(again.settings.current.vault.map((entry) => entry.grantId)).toEqual([long.id]);

    clock.advance(Date.parse(long.expiresAt) - clock.now());
    await until(async () => !(await stored(alice, long.id)), 'the second credential wiped at its expiry');
    expect(again.settings.current.vault).toEqual([]);
    expect(await alice.keychain.accounts()).toEqual([SESSION_ACCOUNT]);
    clock.advance(100);
    const ended = again.shown.filter((notice) => notice.kind === 'ended');
    expect(ended.map((notice) => notice.key).sort()).toEqual(
      [`ended:${short.id}`, `ended:${long.id}`].sort(),
    );
    for (const notice of ended)
      expect(notice.body).toMatch(/^It expired at .+\. Its credential was removed from your keychain\.$/);
    expect(again.core.store.state.connection.status).not.toBe('live');
  });

  it('with the session ended while it was closed: says so, and the credential still goes at its expiry', async () => {
    const { clock } = running;
    const { alice, grants } = await closedWith([900]);
    const [grant] = grants;
    if (!grant) throw new Error('a grant expected');
    // Signed out from elsewhere with the same token while the app was closed.
    expect((await running.api.post('/v1/auth/logout', await sessionToken(alice))).status).toBe(204);
    const again = await restart(alice);
    await until(() => again.core.store.state.session.status === 'expired', 'the ended session');
    expect(again.core.store.state.session.message).toMatch(/^You were signed out of Timebox elsewhere/);
    expect(await alice.keychain.get(SESSION_ACCOUNT)).toBeNull();

    await running.advance(Date.parse(grant.expiresAt) - clock.now() - 1);
    expect(await stored(alice, grant.id)).toBe(true);
    await running.advance(1);
    await until(async () => !(await stored(alice, grant.id)), 'the credential wiped at its expiry');
    expect(again.settings.current.vault).toEqual([]);
    await running.advance(100);
    expect(again.shown.map((notice) => notice.kind).sort()).toEqual(['ended', 'session-ended']);
  });

  it('with no readable saved session: forgets it, says so in the log, and still wipes on time', async () => {
    const { clock } = running;
    const { alice, grants } = await closedWith([300]);
    const [grant] = grants;
    if (!grant) throw new Error('a grant expected');
    await alice.keychain.set(SESSION_ACCOUNT, '{"serviceUrl": 42, "token": ""}');
    const again = await restart(alice);
    expect(again.core.store.state.session.status).toBe('signed-out');
    expect(again.warnings).toContain('the saved session could not be read; signing in again is needed');
    expect(await alice.keychain.get(SESSION_ACCOUNT)).toBeNull();
    await running.advance(Date.parse(grant.expiresAt) - clock.now());
    await until(async () => !(await stored(alice, grant.id)), 'the credential wiped at its expiry');
  });

  it('a grant revoked while the app was closed: its credential goes with the first sync', async () => {
    const { alice, grants } = await closedWith([3600, 3600]);
    const [revoked, kept] = grants;
    if (!revoked || !kept) throw new Error('two grants expected');
    const admin = await running.api.login('admin');
    const answer = await running.api.post(`/v1/grants/${revoked.id}/revoke`, admin, {
      reason: 'offboarding',
    });
    expect(answer.status).toBe(200);
    const again = await restart(alice);
    expect(await stored(alice, revoked.id)).toBe(true); // its expiry is an hour away: nothing local ends it
    await untilLive(running, again);
    await until(async () => !(await stored(alice, revoked.id)), 'the revoked grant’s credential wiped');
    expect(await stored(alice, kept.id)).toBe(true);
    expect(again.settings.current.vault.map((entry) => entry.grantId)).toEqual([kept.id]);
    const state = (grantId: string) => again.core.store.state.grants.find((grant) => grant.id === grantId);
    expect(state(revoked.id)).toMatchObject({ status: 'revoked', credential: 'wiped' });
    expect(state(kept.id)).toMatchObject({ status: 'active', credential: 'stored' });
    await running.advance(100);
    expect(again.shown.filter((notice) => notice.kind === 'ended').map((notice) => notice.body)).toEqual([
      'An administrator revoked it. Its credential was removed from your keychain.',
    ]);
  });

  it('another service URL after the session ended: the old service’s credentials go too', async () => {
    const { alice } = await closedWith([900]);
    expect((await running.api.post('/v1/auth/logout', await sessionToken(alice))).status).toBe(204);
    const again = await restart(alice);
    await until(() => again.core.store.state.session.status === 'expired', 'the ended session');
    await again.core.updateSettings({ serviceUrl: 'https://timebox.other.example' });
    expect(again.settings.current).toMatchObject({ serviceUrl: 'https://timebox.other.example', vault: [] });
    expect(await alice.keychain.accounts()).toEqual([]);
    expect(again.core.store.state.session.status).toBe('signed-out');
  });

  it('another service URL signs out and leaves no index behind, so nothing is announced later', async () => {
    const { clock } = running;
    const alice = await desktopOf(running, { username: 'alice' });
    people.push(alice);
    const grant = await sandboxGrant(alice, 300);
    await alice.core.updateSettings({ serviceUrl: 'https://timebox.other.example' });
    expect(alice.settings.current).toMatchObject({ serviceUrl: 'https://timebox.other.example', vault: [] });
    expect(await alice.keychain.accounts()).toEqual([]);
    await running.advance(Date.parse(grant.expiresAt) - clock.now() + 1000);
    expect(alice.shown.filter((notice) => notice.kind === 'ended')).toEqual([]);
  });
});
