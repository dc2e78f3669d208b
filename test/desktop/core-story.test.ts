import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantAccount } from '../../main/core/keychain-accounts.js';
import { trayModel } from '../../main/core/tray-model.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, serviceGrant, stopEveryone, tappedFetch, untilLive, type Person } from './harness.js';
import { until } from './helpers.js';

if (!keychainAvailable) console.warn('core-story.test.ts does not run here: it needs the real OS keychain.');

describe.runIf(keychainAvailable).each(DATABASES)(
  'the desktop core against the real service on %s',
  (kind) => {
    let running: RunningService;
    const people: Person[] = [];
    const person = async (username: string, fetch?: typeof globalThis.fetch) => {
      const desktop = await desktopOf(running, { username, ...(fetch ? { fetch } : {}) });
      people.push(desktop);
      return desktop;
    };

    beforeEach(async () => {
      running = await startService({ kind });
    });
    afterEach(async () => {
      await stopEveryone(people, running);
    });

    it('request, approval by another user, notifications, countdown, reminders and expiry', async () => {
      const { clock } = running;
      const tap = tappedFetch();
      const alice = await person('alice', tap.fetch);
      const bob = await person('bob');

      const request = await alice.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 20 * 60,
        reason: 'orders look wrong',
      });
      expect(request).toMatchObject({ status: 'pending', requesterId: 'alice', waitingFor: ['bob'] });
      expect(alice.core.store.state.requests.map((mine) => mine.id)).toContain(request.id);

      // Bob's core hears of it, puts it in his inbox and tells him once; a click opens it.
      await until(
        () => bob.core.store.state.approvals.some((waiting) => waiting.id === request.id),
        'bob’s inbox',
      );
      await running.advance(50);
      expect(bob.of('approval-needed')).toHaveLength(1);
      const [asked] = bob.of('approval-needed');
      expect(asked).toMatchObject({
        title: 'alice asks for Production database (orders) · read',
        target: { view: 'approvals', requestId: request.id },
      });
      if (asked) bob.click(asked);
      expect(bob.navigations).toEqual([{ view: 'approvals', requestId: request.id }]);
      expect(alice.of('approval-needed')).toEqual([]); // requesters are not asked to approve

      const approved = await bob.core.approve({ requestId: request.id, comment: 'go ahead' });
      expect(approved.status).toBe('approved');
      expect(bob.core.store.state.approvals).toEqual([]);
      const grantId = approved.grantId ?? '';

      // Alice's core: the grant activates, its credential lands in her keychain, she is told once.
      await until(() => alice.grant(grantId)?.credential === 'stored', 'the credential in alice’s keychain');
      await running.advance(50);
      expect(alice.of('activated')).toHaveLength(1);
      expect(alice.of('activated')[0]?.target).toEqual({ view: 'access', grantId });
      const onService = await serviceGrant(running, 'alice', grantId);
      const grant = alice.grant(grantId);
      expect(grant?.expiresAt).toBe(onService.expiresAt);
      const expiresAt = Date.parse(onService.expiresAt);
      const stored = await alice.stored(grantId);
      const token = decodeJwt(stored?.secret.token ?? '');
      expect(token).toMatchObject({ sub: 'alice', aud: 'prod-db', scope: 'read', jti: grantId });
      // The token lives the role's credentialTtl (the demo's default, 5 minutes), not the grant's 20,
      // and the keychain entry carries the token's own expiry (the core renews it before then).
      expect(stored?.expiresAt).toBe(new Date((token.exp ?? 0) * 1000).toISOString());
      expect((token.exp ?? 0) - (token.iat ?? 0)).toBe(5 * 60);
      expect((token.exp ?? 0) * 1000).toBeLessThan(expiresAt);
      expect(await bob.keychain.accounts()).not.toContain(grantAccount(grantId)); // only the owner’s keychain
      // The settings store indexes the credential and never holds it.
      expect(alice.settings.current.vault.map((entry) => entry.grantId)).toEqual([grantId]);
      expect(JSON.stringify(alice.settings.current)).not.toContain(stored?.secret.token ?? '-');
      // The countdown.
      const tray = trayModel(alice.core.store.state, clock.now());
      expect(tray.icon).toBe('active');
      expect(tray.tooltip).toMatch(/^Timebox: Production database \(orders\) · read ends in 20 min/);

      // Ten minutes before: one reminder, from the desktop's own scheduler.
      await running.advance(expiresAt - 600_000 - clock.now() - 1);
      expect(alice.of('expiring')).toEqual([]);
      await running.advance(1);
      expect(alice.of('expiring').map((notice) => notice.title)).toEqual([
        'Production database (orders) · read ends in 10 min',
      ]);
      expect(alice.of('expiring')[0]?.action).toEqual({
        label: 'Extend…',
        target: { view: 'extend', grantId },
      });
      await untilLive(running, alice);

      // One minute before: the second reminder; the first is not repeated.
      await running.advance(expiresAt - 60_000 - clock.now());
      await running.advance(50);
      expect(alice.of('expiring').map((notice) => notice.title)).toEqual([
        'Production database (orders) · read ends in 10 min',
        'Production database (orders) · read ends in 1 min',
      ]);
      expect(trayModel(alice.core.store.state, clock.now()).icon).toBe('attention');
      await untilLive(running, alice);
      expect(await alice.stored(grantId)).not.toBeNull();

      // Expiry: the keychain entry goes, one 'ended' notice, although the service also says grant.ended.
      await running.advance(expiresAt - clock.now());
      await until(async () => (await alice.stored(grantId)) === null, 'the credential wiped at expiry');
      await until(() => alice.grant(grantId)?.credential === 'wiped', 'the grant shown as wiped');
      expect(alice.grant(grantId)?.status).toBe('expired');
      // The service's grant.ended reached alice's core too (after a reconnect, by Last-Event-ID).
      await until(
        () => new RegExp(`event: grant\\.ended\\ndata: \\{"id":"${grantId}"`).test(tap.received()),
        'grant.ended on alice’s stream',
        { nudge: () => running.advance(1000) },
      );
      await alice.core.refresh();
      expect(alice.grant(grantId)).toMatchObject({
        status: 'expired',
        endReason: 'expired',
        credential: 'wiped',
      });
      await running.advance(5000);
      expect(alice.of('ended')).toHaveLength(1);
      expect(alice.of('ended')[0]).toMatchObject({
        title: 'Access ended: Production database (orders) · read',
        target: { view: 'access', grantId },
      });
      expect(alice.of('expiring')).toHaveLength(2);
      expect(alice.settings.current.vault).toEqual([]);
      expect(trayModel(alice.core.store.state, clock.now()).icon).toBe('idle');
    });

    it('tells the requester of a denial and of a place in the seat queue, once each', async () => {
      const alice = await person('alice');
      const bob = await person('bob');
      const dave = await person('dave');
      const request = await alice.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 600,
        reason: 'curious',
      });
      await until(() => bob.core.store.state.approvals.length === 1, 'bob’s inbox');
      await bob.core.deny({ requestId: request.id, comment: 'not without a ticket' });
      await until(
        () => alice.core.store.state.requests.find((item) => item.id === request.id)?.status === 'denied',
        'the denial at alice’s',
      );
      await running.advance(50);
      expect(alice.of('request-decided')).toEqual([
        expect.objectContaining({
          title: 'Request denied: Production database (orders) · read',
          body: 'bob: “not without a ticket”',
          target: { view: 'access', requestId: request.id },
        }),
      ]);

      // Both seats taken by dave: alice queues. The window that asked shows the answer; her other desktop
      // (signed in as alice too) hears of it from the service and tells her her place.
      const aliceLaptop = await person('alice');
      for (let seat = 0; seat < 2; seat++)
        await dave.core.requestAccess({
          idempotencyKey: randomUUID(),
          resourceId: 'design-suite',
          role: 'seat',
          durationSeconds: 600,
          reason: '',
        });
      const queued = await alice.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'design-suite',
        role: 'seat',
        durationSeconds: 600,
        reason: '',
      });
      expect(queued).toMatchObject({ status: 'queued', queuePosition: 1 });
      expect(alice.core.store.state.requests.find((item) => item.id === queued.id)?.status).toBe('queued');
      await until(() => aliceLaptop.of('queued').length > 0, 'the queued notice', {
        nudge: () => running.advance(50),
      });
      expect(aliceLaptop.of('queued')[0]).toMatchObject({
        title: 'Waiting for a seat: CAD Studio · seat',
        target: { view: 'access', requestId: queued.id },
      });
      expect(aliceLaptop.of('queued')[0]?.body).toMatch(/number 1 in line/);
      // A seat frees up: alice's request becomes a grant, and she is told that too.
      const daveSeat = dave.core.store.state.grants[0];
      await dave.core.relinquishGrant({ grantId: daveSeat?.id ?? '' });
      await until(() => alice.of('activated').length > 0, 'the seat for alice', {
        nudge: () => running.advance(50),
      });
      await until(() => aliceLaptop.of('activated').length > 0, 'the seat on the laptop', {
        nudge: () => running.advance(50),
      });
      await running.advance(1000);
      expect(aliceLaptop.of('queued')).toHaveLength(1);
      expect(alice.of('request-decided')).toHaveLength(1);
      expect(alice.of('activated')).toHaveLength(1);
      expect(aliceLaptop.of('activated')).toHaveLength(1);
    });

    it('a request the service refuses changes nothing and says why', async () => {
      const alice = await person('alice');
      const before = alice.core.store.state;
      await expect(
        alice.core.requestAccess({
          idempotencyKey: randomUUID(),
          resourceId: 'prod-db',
          role: 'read',
          durationSeconds: 10,
          reason: 'too short',
        }),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/duration/) as unknown,
        message: expect.stringMatching(/\./) as unknown,
      });
      await expect(
        alice.core.requestAccess({
          idempotencyKey: randomUUID(),
          resourceId: 'no-such-thing',
          role: 'read',
          durationSeconds: 600,
          reason: '',
        }),
      ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('no-such-thing') as unknown });
      await expect(alice.core.approve({ requestId: 'req_0123456789abcdefghjk' })).rejects.toMatchObject({
        status: 404,
      });
      expect(alice.core.store.state.requests).toEqual(before.requests);
      expect(alice.core.store.state.grants).toEqual(before.grants);
      expect(alice.core.store.state.session.status).toBe('signed-in');
      expect(await alice.keychain.accounts()).toEqual(['session']);
    });
  },
);
