import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_ACCOUNT } from '../../main/core/keychain-accounts.js';
import { trayModel } from '../../main/core/tray-model.js';
import type { RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { organisationWithTotp, TOTP_USER, totpCode } from '../support/totp-organisation.js';
import { desktopOf, sandboxGrant, sessionToken, stopEveryone, untilLive, type Person } from './harness.js';
import { ipcCaller, until } from './helpers.js';

if (!keychainAvailable)
  console.warn('core-session.test.ts: the keychain suites do not run here (no Secret Service).');

/** A six-digit code valid in none of the steps the service accepts around `atMs`. */
function wrongCode(atMs: number): string {
  const valid = new Set([totpCode(atMs - 30_000), totpCode(atMs), totpCode(atMs + 30_000)]);
  let candidate = Number(totpCode(atMs));
  let code: string;
  do {
    candidate = (candidate + 1) % 1_000_000;
    code = String(candidate).padStart(6, '0');
  } while (valid.has(code));
  return code;
}

describe.runIf(keychainAvailable).each(DATABASES)(
  'sessions and calls against the real service on %s',
  (kind) => {
    let running: RunningService;
    const people: Person[] = [];
    const person = async (username?: string) => {
      const desktop = await desktopOf(running, username ? { username } : {});
      people.push(desktop);
      return desktop;
    };

    beforeEach(async () => {
      // The demo organisation, plus erin, whose sign-in also asks for an authenticator code.
      running = await startService({ kind, policy: await organisationWithTotp() });
    });
    afterEach(async () => {
      await stopEveryone(people, running);
    });

    it('signs in with a second factor: asks for the code, refuses a wrong or reused one, takes the right one', async () => {
      const { clock } = running;
      const erin = await person();
      const session = () => erin.core.store.state.session;

      expect(await erin.core.signIn({ username: TOTP_USER, password: 'demo' })).toEqual({
        status: 'otp-required',
      });
      expect(session()).toEqual({ status: 'signed-out', user: null, message: null }); // a question, not an error
      expect(await erin.keychain.get(SESSION_ACCOUNT)).toBeNull();

      await expect(
        erin.core.signIn({ username: TOTP_USER, password: 'demo', otp: wrongCode(clock.now()) }),
      ).rejects.toMatchObject({ code: 'invalid_otp', message: expect.stringMatching(/\S/) as unknown });
      expect(session()).toMatchObject({
        status: 'signed-out',
        user: null,
        message: expect.stringMatching(/\S/) as unknown,
      });
      expect(erin.core.store.state.connection.status).toBe('idle');

      const code = totpCode(clock.now());
      expect(await erin.core.signIn({ username: TOTP_USER, password: 'demo', otp: code })).toMatchObject({
        status: 'signed-in',
        user: { username: TOTP_USER, displayName: 'Erin Sato' },
      });
      await untilLive(running, erin);
      expect(session()).toMatchObject({ status: 'signed-in', message: null });
      expect(await sessionToken(erin)).not.toBe('');
      const grant = await sandboxGrant(erin, 600); // a working session: it gets access like anyone else
      expect(grant.userId).toBe(TOTP_USER);

      // The same code a second time (a shoulder-surfed one, say) is refused; the password alone still asks.
      await erin.core.signOut();
      await expect(
        erin.core.signIn({ username: TOTP_USER, password: 'demo', otp: code }),
      ).rejects.toMatchObject({
        code: 'invalid_otp',
      });
      expect(await erin.core.signIn({ username: TOTP_USER, password: 'demo' })).toEqual({
        status: 'otp-required',
      });
      expect(session().status).toBe('signed-out');
    });

    it('a token revoked elsewhere: says so once, asks to sign in again, and nothing else breaks', async () => {
      const alice = await person('alice');
      const grant = await sandboxGrant(alice, 3600);
      // Another client with the same token signs out.
      expect((await running.api.post('/v1/auth/logout', await sessionToken(alice))).status).toBe(204);

      // The next call finds out (here a click on Refresh), and says so in a sentence.
      await expect(alice.core.refresh()).rejects.toMatchObject({ code: 'token_revoked' });
      await until(() => alice.core.store.state.session.status === 'expired', 'the ended session');
      const { session, connection } = alice.core.store.state;
      expect(session.message).toBe(
        'You were signed out of Timebox elsewhere (this session was ended from another place, or by an administrator). Sign in again; your active grants keep their credentials until they end.',
      );
      expect(session.user?.username).toBe('alice');
      expect(connection.status).toBe('idle');
      expect(await alice.keychain.get(SESSION_ACCOUNT)).toBeNull();
      await running.advance(100);
      expect(alice.of('session-ended').map((notice) => notice.target)).toEqual([{ view: 'sign-in' }]);
      expect(trayModel(alice.core.store.state, running.clock.now()).menu[0]).toMatchObject({
        label: 'Sign in again…',
      });

      // Nothing else breaks: the credential stays until its grant ends, and still copies from the keychain.
      expect(alice.grant(grant.id)).toMatchObject({ status: 'active', credential: 'stored' });
      expect((await alice.core.credential(grant.id)).secret.token).toEqual(expect.any(String));
      // Later calls are refused with a sentence, without another notice.
      await expect(
        alice.core.requestAccess({
          idempotencyKey: randomUUID(),
          resourceId: 'sandbox',
          role: 'operator',
          durationSeconds: 60,
          reason: '',
        }),
      ).rejects.toMatchObject({ message: 'Sign in to Timebox first.' });
      await running.advance(5000);
      expect(alice.of('session-ended')).toHaveLength(1);
      expect(alice.core.store.state.session.status).toBe('expired');

      // Signing in again picks everything up.
      await alice.core.signIn({ username: 'alice', password: 'demo' });
      await untilLive(running, alice);
      expect(alice.core.store.state.session).toMatchObject({ status: 'signed-in', message: null });
      expect(alice.grant(grant.id)).toMatchObject({ status: 'active', credential: 'stored' });
    });

    it('two calls with one idempotency key make one request, and one extension; a malformed key never leaves the app', async () => {
      const alice = await person('alice');
      const call = ipcCaller(alice.core, running.clock, 'the dialog');
      const token = await running.api.login('alice');
      const mine = async () =>
        (await running.api.get<{ items: RequestView[] }>('/v1/requests?scope=mine', token)).body.items;

      const ask = {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 600,
        reason: 'clicked twice',
        idempotencyKey: randomUUID(),
      };
      const [first, second] = [await call('requestAccess', ask), await call('requestAccess', ask)];
      expect(first).toMatchObject({ ok: true, value: { status: 'pending' } });
      expect(second).toEqual(first);
      expect((await mine()).map((request) => request.id)).toEqual([
        first.ok ? (first.value as RequestView).id : '',
      ]);

      // The same key with other details is a different request: refused, in words, and nothing is created.
      expect(await call('requestAccess', { ...ask, durationSeconds: 1200 })).toEqual({
        ok: false,
        error: {
          code: 'idempotency_key_reused',
          message:
            'This dialog already sent a different request, and its answer was lost. Close the dialog, check My access, and ask again if you still need to.',
        },
      });
      // A malformed key is refused before anything is sent.
      expect(await call('requestAccess', { ...ask, idempotencyKey: 'click-2' })).toMatchObject({
        ok: false,
        error: { code: 'invalid_arguments' },
      });
      expect(await mine()).toHaveLength(1);

      const grant = await sandboxGrant(alice, 600);
      const extend = {
        grantId: grant.id,
        durationSeconds: 300,
        reason: 'twice',
        idempotencyKey: randomUUID(),
      };
      expect(await call('extendGrant', extend)).toMatchObject({ ok: true, value: { kind: 'extended' } });
      expect(await call('extendGrant', extend)).toMatchObject({ ok: true, value: { kind: 'extended' } });
      const extended = (await running.api.get<{ expiresAt: string }>(`/v1/grants/${grant.id}`, token)).body;
      expect(Date.parse(extended.expiresAt)).toBe(Date.parse(grant.expiresAt) + 300_000);
      expect(await call('extendGrant', { ...extend, idempotencyKey: '' })).toMatchObject({
        ok: false,
        error: { code: 'invalid_arguments' },
      });
    });
  },
);
