import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateUpdate } from '../../preload/contract.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, sessionToken, stopEveryone, type Person } from './harness.js';
import { until } from './helpers.js';

if (!keychainAvailable)
  console.warn('core-renewal.test.ts: the keychain suites do not run here (no Secret Service).');

const MINUTE = 60_000;

describe.runIf(keychainAvailable).each(DATABASES)(
  'renewing short-lived tokens on the desktop, on %s',
  (kind) => {
    let running: RunningService;
    const people: Person[] = [];

    beforeEach(async () => {
      running = await startService({ kind });
    });
    afterEach(async () => {
      await stopEveryone(people, running);
    });

    const tokenIn = async (person: Person, grantId: string) => {
      const stored = await person.stored(grantId);
      return { token: stored?.secret.token ?? '', expiresAt: Date.parse(stored?.expiresAt ?? '') };
    };

    it('keeps a working token in the keychain for as long as the grant lives, unseen, in the same entry', async () => {
      const alice = await desktopOf(running, { username: 'alice' });
      people.push(alice);
      const grant = await sandboxGrant(alice, 30 * 60);
      const first = await tokenIn(alice, grant.id);
      // The role's credentialTtl (the demo's default, 5 minutes), not the grant's 30.
      expect(first.expiresAt - running.clock.now()).toBeLessThanOrEqual(5 * MINUTE);
      const accounts = await alice.keychain.accounts();
      const changes: StateUpdate[] = [];
      const unsubscribe = alice.core.store.subscribe((update) => changes.push(update));
      const shownBefore = alice.shown.length;

      // A minute before the token's expiry, a fresh one takes its place.
      await running.advance(first.expiresAt - MINUTE - running.clock.now());
      await until(async () => (await tokenIn(alice, grant.id)).token !== first.token, 'the renewal', {
        nudge: () => running.advance(10),
      });
      const second = await tokenIn(alice, grant.id);
      expect(decodeJwt(second.token)).toMatchObject({ jti: grant.id, sub: 'alice', aud: 'sandbox' });
      expect(second.expiresAt).toBeGreaterThan(first.expiresAt);

      // And so on until the grant ends: at no minute is the kept token expired.
      while (running.clock.now() + MINUTE < Date.parse(grant.expiresAt)) {
        await running.advance(MINUTE);
        await until(
          async () => (await tokenIn(alice, grant.id)).expiresAt > running.clock.now(),
          'a token that still works',
          { nudge: () => running.advance(10) },
        );
      }
      unsubscribe();
      // Nobody noticed: no notice but the grant's reminders, the same keychain entries, and the grant the
      // windows show never anything but stored (its reminders change the state; renewals do not).
      expect(alice.shown.slice(shownBefore).map((notice) => notice.kind)).toEqual(['expiring', 'expiring']);
      expect((await alice.keychain.accounts()).sort()).toEqual(accounts.sort());
      const shownStates = changes.flatMap((update) =>
        update.kind === 'change' ? (update.changes.grants ?? []).filter((seen) => seen.id === grant.id) : [],
      );
      expect(new Set(shownStates.map((seen) => seen.credential))).toEqual(new Set(['stored']));
      expect(alice.grant(grant.id)?.credential).toBe('stored');
      expect(alice.warnings).toEqual([]);
    });

    it('renews a kept token past its expiry before handing it out (copy, reveal)', async () => {
      const alice = await desktopOf(running, { username: 'alice' });
      people.push(alice);
      const grant = await sandboxGrant(alice, 30 * 60);
      const first = await tokenIn(alice, grant.id);
      // Asleep past the token's expiry: no timer ran.
      running.clock.jumpWall(first.expiresAt - running.clock.now() + 1000);
      const read = await alice.core.credential(grant.id);
      expect((read.secret as { token?: string }).token).not.toBe(first.token);
      expect(Date.parse(read.expiresAt)).toBeGreaterThan(running.clock.now());
    });

    it('signs in as a device the person recognises in their list of sessions', async () => {
      const alice = await desktopOf(running, { username: 'alice' });
      people.push(alice);
      const listed = await running.api.get<{ items: { device: string; current: boolean }[] }>(
        '/v1/sessions',
        await sessionToken(alice),
      );
      expect(listed.body.items).toEqual([
        expect.objectContaining({ device: `Timebox desktop (${process.platform})`, current: true }),
      ]);
    });
  },
);
