import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantAccount, SESSION_ACCOUNT } from '../../main/core/keychain-accounts.js';
import { KeychainUnavailableError, type Keychain } from '../../keychain/keychain.js';
import { trayModel } from '../../main/core/tray-model.js';
import type { RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startDesktop } from '../support/desktop.js';
import { keychainAvailable, missingKeychain, testKeychain } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, sessionToken, stopEveryone, untilLive, type Person } from './harness.js';
import { until } from './helpers.js';

if (!keychainAvailable)
  console.warn('core-lifecycle.test.ts: the keychain suites do not run here (no Secret Service).');

describe.runIf(keychainAvailable).each(DATABASES)('the core’s credential lifecycle on %s', (kind) => {
  let running: RunningService;
  const people: Person[] = [];
  const person = async (username: string, options: Parameters<typeof desktopOf>[1] = {}) => {
    const desktop = await desktopOf(running, { username, ...options });
    people.push(desktop);
    return desktop;
  };

  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    await stopEveryone(people, running);
  });

  it('resume after a sleep past expiry: the credential is wiped at once, with one ended notice', async () => {
    const { clock } = running;
    const alice = await person('alice');
    const grant = await sandboxGrant(alice, 300);
    // Asleep for two hours: wall time moves, no timer runs (neither ours nor the service's).
    clock.jumpWall(2 * 3600_000);
    expect(await alice.stored(grant.id)).not.toBeNull(); // nothing ran while asleep
    alice.core.systemResumed();
    await until(() => alice.grant(grant.id)?.credential === 'wiped', 'the wipe after resume');
    expect(await alice.stored(grant.id)).toBeNull();
    expect(alice.settings.current.vault).toEqual([]);
    await running.advance(50);
    expect(alice.of('ended')).toHaveLength(1);
    expect(alice.of('ended')[0]?.body).toMatch(
      /^It expired at .+ Its credential was removed from your keychain\.$/,
    );
    expect(alice.of('expiring')).toEqual([]); // every lead is long past: no stale reminder
    // The service catches up later (its timer runs on): still one notice, and the grant stays ended.
    await running.advance(10 * 60_000);
    await untilLive(running, alice);
    await alice.core.refresh();
    await running.advance(50);
    expect(alice.of('ended')).toHaveLength(1);
    expect(alice.grant(grant.id)?.status).toBe('expired');
  });

  it('resume after a sleep past one lead: that reminder once, with the time left now', async () => {
    const { clock } = running;
    const alice = await person('alice');
    const grant = await sandboxGrant(alice, 30 * 60);
    clock.jumpWall(25 * 60_000); // asleep past the 10-minute lead, not the 1-minute one
    alice.core.systemResumed();
    // Judged once the service's clock is measured again (a round trip), then shown after the burst window.
    await until(() => alice.of('expiring').length > 0, 'the reminder', { nudge: () => running.advance(50) });
    expect(alice.of('expiring').map((notice) => notice.title)).toEqual([
      'Sandbox cluster · operator ends in 5 min',
    ]);
    expect(await alice.stored(grant.id)).not.toBeNull();
    alice.core.screenUnlocked();
    alice.core.systemResumed();
    await alice.core.refresh();
    await running.advance(50);
    expect(alice.of('expiring')).toHaveLength(1);
  });

  it('the service unreachable at expiry: the credential is still wiped locally, on time', async () => {
    const { clock } = running;
    const alice = await person('alice');
    const grant = await sandboxGrant(alice, 120);
    await running.stop();
    clock.advance(Date.parse(grant.expiresAt) - clock.now() - 1);
    expect(await alice.stored(grant.id)).not.toBeNull();
    clock.advance(1);
    await until(() => alice.grant(grant.id)?.credential === 'wiped', 'the local wipe');
    expect(await alice.stored(grant.id)).toBeNull();
    clock.advance(50);
    expect(alice.of('ended')).toHaveLength(1);
    expect(alice.grant(grant.id)).toMatchObject({ status: 'expired', credential: 'wiped' });
    expect(alice.core.store.state.connection.status).not.toBe('live');
    await expect(alice.core.credential(grant.id)).rejects.toMatchObject({ code: 'grant_ended' });
  });

  it('start-up sweep: what expired while the app was not running is wiped before anything else', async () => {
    const { clock } = running;
    const alice = await person('alice');
    const short = await sandboxGrant(alice, 120);
    const long = await sandboxGrant(alice, 3600);
    await alice.keychain.set(grantAccount('grt_orphanedbyacrash000'), '{"secret":{"token":"x"}}');
    await alice.stop();
    await running.advance(10 * 60_000); // ten minutes with no app running

    // The next start: every service call is held until the test has looked at the keychain.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstCallSawShort: boolean | null = null;
    const gated: typeof fetch = async (input, init) => {
      firstCallSawShort ??= (await alice.keychain.get(grantAccount(short.id))) !== null;
      await gate;
      return fetch(input, init);
    };
    const again = await startDesktop({
      serviceUrl: running.url,
      clock,
      keychain: alice.keychain,
      settings: alice.settings.current,
      fetch: gated,
    });
    try {
      expect((await alice.keychain.accounts()).sort()).toEqual(
        [grantAccount(long.id), SESSION_ACCOUNT].sort(),
      );
      expect(again.settings.current.vault.map((entry) => entry.grantId)).toEqual([long.id]);
      expect(again.core.store.state.session.status).toBe('signed-in'); // the saved session resumes
      release();
      await untilLive(running, again);
      expect(firstCallSawShort).toBe(false);
      expect(again.core.store.state.grants.find((grant) => grant.id === long.id)?.credential).toBe('stored');
      expect(again.core.store.state.grants.find((grant) => grant.id === short.id)?.status).toBe('expired');
    } finally {
      release();
      await again.stop();
    }
  });

  it('session expiry: says so once, asks to sign in again, and grants keep their credentials until they end', async () => {
    const { clock } = running;
    const alice = await person('alice');
    const signedInAt = clock.now();
    await running.advance(3600_000);
    await untilLive(running, alice);
    const seat = await sandboxGrant(alice, 8 * 3600, 'design-suite', 'seat'); // outlives the 8 h session

    await running.advance(signedInAt + 8 * 3600_000 - clock.now());
    await until(() => alice.core.store.state.session.status === 'expired', 'the expired session', {
      nudge: () => running.advance(1000),
    });
    const { session } = alice.core.store.state;
    expect(session.message).toMatch(/^Your Timebox session has expired\. Sign in again; .*\.$/);
    expect(session.user?.username).toBe('alice');
    await running.advance(50);
    expect(alice.of('session-ended')).toHaveLength(1);
    expect(alice.of('session-ended')[0]?.target).toEqual({ view: 'sign-in' });
    expect(await alice.keychain.get(SESSION_ACCOUNT)).toBeNull();
    expect(await alice.stored(seat.id)).not.toBeNull();
    expect(alice.grant(seat.id)?.status).toBe('active');
    const tray = trayModel(alice.core.store.state, clock.now());
    expect(tray.menu[0]).toMatchObject({ label: 'Sign in again…' });
    expect(tray.icon).toBe('attention');

    // Every later call is refused with a sentence, and never tells the user a second time.
    await running.advance(5000);
    await expect(alice.core.refresh()).rejects.toMatchObject({ message: 'Sign in to Timebox first.' });
    await running.advance(5000);
    await expect(
      alice.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 60,
        reason: '',
      }),
    ).rejects.toThrow();
    await running.advance(5000);
    expect(alice.of('session-ended')).toHaveLength(1);
    expect(alice.core.store.state.session.status).toBe('expired');

    // The seat still ends on time, on the desktop's own clock.
    await running.advance(Date.parse(seat.expiresAt) - clock.now());
    await until(() => alice.grant(seat.id)?.credential === 'wiped', 'the seat’s credential wiped at its end');
    expect(await alice.stored(seat.id)).toBeNull();
    await running.advance(50);
    expect(alice.of('ended')).toHaveLength(1);
    expect(alice.of('session-ended')).toHaveLength(1); // hours later, everything long flushed: still once

    // Signing in again works.
    await alice.core.signIn({ username: 'alice', password: 'demo' });
    await untilLive(running, alice);
    expect(alice.core.store.state.session).toMatchObject({ status: 'signed-in', message: null });
  });

  it('sign-out ends the session on the service and wipes every credential and the token', async () => {
    const alice = await person('alice');
    const grants = [await sandboxGrant(alice, 600), await sandboxGrant(alice, 900)];
    const token = await sessionToken(alice);
    expect(token).not.toBe('');
    await alice.core.signOut();
    expect(await alice.keychain.accounts()).toEqual([]);
    expect(alice.settings.current.vault).toEqual([]);
    expect(alice.core.store.state).toMatchObject({
      session: { status: 'signed-out', user: null },
      connection: { status: 'idle' },
      grants: [],
      requests: [],
      approvals: [],
    });
    expect((await running.api.get('/v1/me', token)).status).toBe(401);
    // The grants themselves live on at the service; only this desktop's copies are gone.
    const again = await running.api.login('alice');
    for (const grant of grants)
      expect((await running.api.get<{ status: string }>(`/v1/grants/${grant.id}`, again)).body.status).toBe(
        'active',
      );
    await expect(alice.core.credential(grants[0]?.id ?? '')).rejects.toMatchObject({ code: 'grant_ended' });
    // A call while signed out is refused; it does not make "signed out" into "session expired".
    await expect(alice.core.refresh()).rejects.toMatchObject({ code: 'missing_token' });
    await running.advance(50);
    expect(alice.core.store.state.session.status).toBe('signed-out');
    expect(alice.of('session-ended')).toEqual([]);
  });

  it('sign-out with the service unreachable still wipes everything', async () => {
    const alice = await person('alice');
    await sandboxGrant(alice, 600);
    await running.stop();
    await alice.core.signOut();
    expect(await alice.keychain.accounts()).toEqual([]);
    expect(alice.settings.current.vault).toEqual([]);
    expect(alice.warnings).toContain('logout did not reach the service');
  });

  it('a request whose answer was lost is retried with the same Idempotency-Key: one request, not two', async () => {
    const keys: string[] = [];
    let dropped = 0;
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (init?.method === 'POST' && url.endsWith('/v1/requests')) {
        keys.push(new Headers(init.headers).get('idempotency-key') ?? '');
        if (dropped++ === 0) throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
      }
      return response;
    };
    const alice = await person('alice', { fetch: lossy });
    const creating = alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'once',
    });
    let settled = false;
    void creating.finally(() => {
      settled = true;
    });
    await until(() => settled, 'the retried request', { nudge: () => running.advance(500) });
    const request = await creating;
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    const token = await running.api.login('alice');
    const mine = await running.api.get<{ items: RequestView[] }>('/v1/requests?scope=mine', token);
    expect(mine.body.items.map((item) => item.id)).toEqual([request.id]);
    expect(alice.core.store.state.requests.filter((item) => item.id === request.id)).toHaveLength(1);
  });

  it('an approval whose answer was lost is not sent again: it fails with a sentence', async () => {
    let approvals = 0;
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith('/approve')) {
        approvals += 1;
        throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
      }
      return response;
    };
    const alice = await person('alice');
    const bob = await person('bob', { fetch: lossy });
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'incident',
    });
    await expect(bob.core.approve({ requestId: request.id })).rejects.toMatchObject({
      code: 'service_unreachable',
      message: expect.stringContaining(running.url) as unknown,
    });
    expect(approvals).toBe(1);
  });

  it('extend: at once by policy (a new credential is fetched), or as a request that needs approval', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const grant = await sandboxGrant(alice, 600);
    const firstToken = (await alice.stored(grant.id))?.secret.token;
    const outcome = await alice.core.extendGrant({
      idempotencyKey: randomUUID(),
      grantId: grant.id,
      durationSeconds: 600,
      reason: 'more',
    });
    expect(outcome.kind).toBe('extended');
    const newExpiry = outcome.kind === 'extended' ? outcome.grant.expiresAt : '';
    expect(Date.parse(newExpiry)).toBe(Date.parse(grant.expiresAt) + 600_000);
    expect(alice.grant(grant.id)?.expiresAt).toBe(newExpiry);
    await until(
      () => alice.settings.current.vault.find((entry) => entry.grantId === grant.id)?.expiresAt === newExpiry,
      'the credential fetched again for the new expiry',
    );
    const token = (await alice.stored(grant.id))?.secret.token ?? '';
    // A token of the role's credentialTtl (5 minutes), renewed until the new expiry, never past it.
    expect(decodeJwt(token)).toMatchObject({
      jti: grant.id,
      exp: Math.floor(running.clock.now() / 1000) + 300,
    });
    expect(firstToken).toBeDefined();
    expect(alice.settings.current.vault.find((entry) => entry.grantId === grant.id)?.expiresAt).toBe(
      newExpiry,
    );

    // Past the role's maximum: refused with the service's sentence, nothing changed.
    await expect(
      alice.core.extendGrant({
        idempotencyKey: randomUUID(),
        grantId: grant.id,
        durationSeconds: 4 * 3600,
        reason: 'way more',
      }),
    ).rejects.toMatchObject({
      status: expect.any(Number) as unknown,
      message: expect.stringMatching(/\S/) as unknown,
    });
    expect(alice.grant(grant.id)?.expiresAt).toBe(newExpiry);

    // prod-db needs bob: the extension is a request, in alice's list and bob's inbox.
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'incident',
    });
    const dbGrantId = (await bob.core.approve({ requestId: request.id })).grantId ?? '';
    await until(() => alice.grant(dbGrantId)?.credential === 'stored', 'the db grant');
    expect(bob.core.store.state.approvals).toEqual([]);
    const extension = await alice.core.extendGrant({
      idempotencyKey: randomUUID(),
      grantId: dbGrantId,
      durationSeconds: 600,
      reason: 'longer',
    });
    expect(extension.kind).toBe('needs-approval');
    if (extension.kind === 'needs-approval') {
      expect(extension.request).toMatchObject({
        kind: 'extension',
        extendsGrantId: dbGrantId,
        status: 'pending',
      });
      expect(alice.core.store.state.requests.map((item) => item.id)).toContain(extension.request.id);
      await until(
        () => bob.core.store.state.approvals.some((item) => item.id === extension.request.id),
        'the extension in bob’s inbox',
      );
    }
  });

  it('relinquish: the credential is wiped and the user told once; a second relinquish is refused', async () => {
    const alice = await person('alice');
    const grant = await sandboxGrant(alice, 600);
    const ended = await alice.core.relinquishGrant({ grantId: grant.id });
    expect(ended).toMatchObject({ status: 'revoked', endReason: 'relinquished' });
    await until(async () => (await alice.stored(grant.id)) === null, 'the wipe');
    await until(() => alice.grant(grant.id)?.credential === 'wiped', 'the wiped state');
    await running.advance(50);
    expect(alice.of('ended').map((notice) => notice.body)).toEqual([
      'You relinquished it. Its credential was removed from your keychain.',
    ]);
    await expect(alice.core.relinquishGrant({ grantId: grant.id })).rejects.toMatchObject({ status: 409 });
    await running.advance(5000);
    expect(alice.of('ended')).toHaveLength(1);
    expect(alice.settings.current.vault).toEqual([]);
  });

  it('uses the keychain once it answers again: the next refresh finds it and stores what was missing', async () => {
    const real = testKeychain();
    let locked = true;
    const whileLocked = <T>(operation: () => Promise<T>): Promise<T> =>
      locked ? Promise.reject(new KeychainUnavailableError('the login keyring is locked')) : operation();
    const unlockable: Keychain = {
      get: (account) => whileLocked(() => real.get(account)),
      set: (account, secret) => whileLocked(() => real.set(account, secret)),
      delete: (account) => whileLocked(() => real.delete(account)),
      accounts: () => whileLocked(() => real.accounts()),
    };
    const desktop = await startDesktop({
      serviceUrl: running.url,
      clock: running.clock,
      keychain: unlockable,
    });
    try {
      expect(desktop.core.store.state.keychain.available).toBe(false);
      await desktop.core.signIn({ username: 'alice', password: 'demo' });
      await untilLive(running, desktop);
      const request = await desktop.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 600,
        reason: '',
      });
      const grantId = request.grantId ?? '';
      const credentialOf = () =>
        desktop.core.store.state.grants.find((grant) => grant.id === grantId)?.credential;
      await until(() => credentialOf() === 'failed', 'the credential refused while the keyring is locked');
      locked = false;
      await desktop.core.refresh();
      expect(desktop.core.store.state.keychain).toEqual({ available: true, locked: false, message: null });
      await until(() => credentialOf() === 'stored', 'the credential stored once the keyring answers');
      expect(await real.get(grantAccount(grantId))).not.toBeNull();
    } finally {
      await desktop.stop();
      await real.wipe();
    }
  });
});

describe.each(DATABASES)('the core without a keychain on %s', (kind) => {
  let running: RunningService;
  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    await running.stop();
  });

  it('says so, fetches no credential, and keeps no secret anywhere', async () => {
    const paths: string[] = [];
    const watching: typeof fetch = (input, init) => {
      paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    };
    const desktop = await startDesktop({
      serviceUrl: running.url,
      clock: running.clock,
      keychain: missingKeychain(),
      fetch: watching,
    });
    try {
      expect(desktop.core.store.state.keychain).toEqual({
        available: false,
        locked: false,
        message: expect.stringMatching(
          /^No system keychain is available \(.+\)\. Timebox keeps credentials only in the keychain/,
        ) as unknown,
      });
      // Signing in works; the token stays in memory only.
      await desktop.core.signIn({ username: 'alice', password: 'demo' });
      await untilLive(running, desktop);
      const request = await desktop.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 60,
        reason: '',
      });
      const grantId = request.grantId ?? '';
      await until(
        () => desktop.core.store.state.grants.find((grant) => grant.id === grantId)?.credential === 'failed',
        'the failed credential',
      );
      expect(desktop.core.store.state.grants.find((grant) => grant.id === grantId)?.credentialError).toMatch(
        /No system keychain is available/,
      );
      await expect(desktop.core.credential(grantId)).rejects.toBeInstanceOf(KeychainUnavailableError);
      expect(paths.filter((path) => path.endsWith('/credential'))).toEqual([]);
      expect(desktop.settings.current.vault).toEqual([]);
      expect(JSON.stringify(desktop.settings.current)).not.toMatch(/token|secret|eyJ/i);
      expect(trayModel(desktop.core.store.state, running.clock.now()).menu).toContainEqual(
        expect.objectContaining({ kind: 'submenu' }) as unknown,
      );
    } finally {
      await desktop.stop();
    }
  });
});
