import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GrantView, RequestView, ResourceView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: Record<string, unknown>;
  };
}

interface List<T> {
  readonly items: T[];
  readonly next: string | null;
}

interface Credential {
  readonly grantId: string;
  readonly kind: string;
  readonly expiresAt: string;
  readonly secret: { readonly token: string };
}

const SECOND = 1000;

const iso = (ms: number): string => new Date(ms).toISOString();

const isGrant =
  (id: string, status?: GrantView['status']) =>
  (data: unknown): boolean => {
    const grant = data as GrantView;
    return grant.id === id && (status === undefined || grant.status === status);
  };

const isRequest =
  (id: string, status?: RequestView['status']) =>
  (data: unknown): boolean => {
    const request = data as RequestView;
    return request.id === id && (status === undefined || request.status === status);
  };

describe.each(DATABASES)('grants: extensions, relinquish, seats and lists over HTTP on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let dave: string;
  let bob: string;
  let carol: string;
  const streams: EventStream[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
    [alice, dave, bob, carol] = (await Promise.all(
      ['alice', 'dave', 'bob', 'carol'].map((user) => running.api.login(user)),
    )) as [string, string, string, string];
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await running.stop();
  });

  async function open(token: string): Promise<EventStream> {
    const stream = await EventStream.open(running.url, token);
    streams.push(stream);
    return stream;
  }

  async function request(
    token: string,
    resourceId: string,
    role: string,
    durationSeconds: number,
    extra: { reason?: string; ticket?: string } = {},
  ): Promise<RequestView> {
    const response = await running.api.post<RequestView>('/v1/requests', token, {
      resourceId,
      role,
      durationSeconds,
      reason: extra.reason ?? 'testing',
      ...(extra.ticket === undefined ? {} : { ticket: extra.ticket }),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  /** An auto-approved grant, active at once. */
  async function sandboxGrant(token: string, durationSeconds: number): Promise<GrantView> {
    const created = await request(token, 'sandbox', 'operator', durationSeconds);
    expect(created.status).toBe('approved');
    return grant(token, created.grantId ?? '');
  }

  async function grant(token: string, id: string): Promise<GrantView> {
    const response = await running.api.get<GrantView>(`/v1/grants/${id}`, token);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  async function getRequest(token: string, id: string): Promise<RequestView> {
    const response = await running.api.get<RequestView>(`/v1/requests/${id}`, token);
    expect(response.status).toBe(200);
    return response.body;
  }

  /** A prod-db/read grant for alice, approved by bob. */
  async function prodReadGrant(durationSeconds: number): Promise<GrantView> {
    const created = await request(alice, 'prod-db', 'read', durationSeconds);
    const approved = await running.api.post<RequestView>(`/v1/requests/${created.id}/approve`, bob, {});
    expect(approved.status).toBe(200);
    return grant(alice, approved.body.grantId ?? '');
  }

  async function seats(token: string): Promise<{ total: number; inUse: number; queued: number } | null> {
    const catalog = await running.api.get<List<ResourceView>>('/v1/resources', token);
    expect(catalog.status).toBe(200);
    const role = catalog.body.items
      .find((resource) => resource.id === 'design-suite')
      ?.roles.find((candidate) => candidate.name === 'seat');
    return role?.seats ?? null;
  }

  async function relinquish(token: string, id: string): Promise<GrantView> {
    const response = await running.api.post<GrantView>(`/v1/grants/${id}/revoke`, token, {});
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  describe('extensions', () => {
    it('extends an auto-approved grant at once, and it expires at the new time, not the old', async () => {
      const { api, clock } = running;
      const aliceEvents = await open(alice);
      const start = clock.now();
      const original = await sandboxGrant(alice, 300);
      expect(original.expiresAt).toBe(iso(start + 300 * SECOND));
      expect(original.maxExpiresAt).toBe(iso(start + 3600 * SECOND));

      const extended = await api.post<GrantView>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 300,
        reason: 'not done yet',
      });
      expect(extended.status).toBe(200);
      expect(extended.body).toMatchObject({
        id: original.id,
        status: 'active',
        startsAt: original.startsAt,
        expiresAt: iso(start + 600 * SECOND),
      });
      const event = (await aliceEvents.next('grant.extended', isGrant(original.id))) as GrantView;
      expect(event.expiresAt).toBe(iso(start + 600 * SECOND));
      expect((await grant(alice, original.id)).expiresAt).toBe(iso(start + 600 * SECOND));

      await running.advance(301 * SECOND);
      expect(await grant(alice, original.id)).toMatchObject({ status: 'active', endedAt: null });
      const credential = await api.get<Credential>(`/v1/grants/${original.id}/credential`, alice);
      expect(credential.status).toBe(200);
      expect(credential.body.expiresAt).toBe(iso(start + 600 * SECOND));
      expect(decodeJwt(credential.body.secret.token).exp).toBe((start + 600 * SECOND) / 1000);
      expect(aliceEvents.of('grant.ended')).toEqual([]);

      await running.advance(299 * SECOND);
      const ended = (await aliceEvents.next('grant.ended', isGrant(original.id))) as GrantView;
      expect(ended).toMatchObject({
        status: 'expired',
        endReason: 'expired',
        endedAt: iso(start + 600 * SECOND),
      });
      expect((await grant(alice, original.id)).status).toBe('expired');
    });

    it('turns an extension of an approved role into a request that the team lead approves', async () => {
      const { api, clock } = running;
      const aliceEvents = await open(alice);
      const bobEvents = await open(bob);
      const start = clock.now();
      const original = await prodReadGrant(3600);

      const asked = await api.post<RequestView>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 1800,
        reason: 'the migration runs long',
      });
      expect(asked.status).toBe(202);
      expect(asked.body).toMatchObject({
        kind: 'extension',
        extendsGrantId: original.id,
        status: 'pending',
        requesterId: 'alice',
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 1800,
        waitingFor: ['bob'],
      });
      expect((await grant(alice, original.id)).expiresAt).toBe(iso(start + 3600 * SECOND));
      await bobEvents.next('approval.needed', isRequest(asked.body.id));

      const twice = await api.post<ErrorBody>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 600,
        reason: 'again',
      });
      expect(twice.status).toBe(409);
      expect(twice.body.error.code).toBe('extension_already_pending');

      const approved = await api.post<RequestView>(`/v1/requests/${asked.body.id}/approve`, bob, {});
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ status: 'approved', kind: 'extension', grantId: original.id });
      const event = (await aliceEvents.next('grant.extended', isGrant(original.id))) as GrantView;
      expect(event.expiresAt).toBe(iso(start + 5400 * SECOND));
      expect(await grant(alice, original.id)).toMatchObject({
        status: 'active',
        expiresAt: iso(start + 5400 * SECOND),
      });
      const grants = await api.get<List<GrantView>>('/v1/grants', alice);
      expect(grants.body.items.map((item) => item.id)).toEqual([original.id]);

      await running.advance(3600 * SECOND);
      expect((await grant(alice, original.id)).status).toBe('active');
      await running.advance(1800 * SECOND);
      expect((await grant(alice, original.id)).status).toBe('expired');
    });

    it('lapses a pending extension request when its grant ends first', async () => {
      const { api } = running;
      const aliceEvents = await open(alice);
      const original = await prodReadGrant(60);
      const asked = await api.post<RequestView>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 600,
        reason: 'a little longer',
      });
      expect(asked.status).toBe(202);
      const inboxBefore = await api.get<List<RequestView>>('/v1/requests?scope=approvable', bob);
      expect(inboxBefore.body.items.map((item) => item.id)).toEqual([asked.body.id]);

      await running.advance(60 * SECOND);
      await aliceEvents.next('grant.ended', isGrant(original.id, 'expired'));
      await aliceEvents.next('request.updated', isRequest(asked.body.id, 'lapsed'));
      expect(await getRequest(alice, asked.body.id)).toMatchObject({ status: 'lapsed', waitingFor: [] });
      const inboxAfter = await api.get<List<RequestView>>('/v1/requests?scope=approvable', bob);
      expect(inboxAfter.body.items).toEqual([]);
      const late = await api.post<ErrorBody>(`/v1/requests/${asked.body.id}/approve`, bob, {});
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('illegal_transition');
      expect(await grant(alice, original.id)).toMatchObject({
        status: 'expired',
        expiresAt: original.expiresAt,
      });
    });

    it('ends every grant that falls due in one pass, each with its event, audit entry and lapsed extension', async () => {
      const { api, clock } = running;
      const aliceEvents = await open(alice);
      const extended = [await prodReadGrant(60), await prodReadGrant(60)];
      const asked = await Promise.all(
        extended.map((original) =>
          api.post<RequestView>(`/v1/grants/${original.id}/extend`, alice, {
            durationSeconds: 600,
            reason: 'a little longer',
          }),
        ),
      );
      expect(asked.map((response) => response.status)).toEqual([202, 202]);
      const due = [...extended, await sandboxGrant(alice, 60), await sandboxGrant(dave, 60)];
      const lasting = await sandboxGrant(dave, 3600);

      await running.advance(60 * SECOND);
      const endedAt = iso(clock.now());
      for (const original of due) {
        if (original.userId === 'alice')
          await aliceEvents.next('grant.ended', isGrant(original.id, 'expired'));
        expect(await grant(original.userId === 'alice' ? alice : dave, original.id)).toMatchObject({
          status: 'expired',
          endReason: 'expired',
          endedAt,
        });
      }
      for (const extension of asked) {
        expect(await getRequest(alice, extension.body.id)).toMatchObject({
          status: 'lapsed',
          waitingFor: [],
        });
      }
      expect((await grant(dave, lasting.id)).status).toBe('active');
      const admin = await api.login('admin');
      const log = await api.get<{ items: { action: string; subjectId: string }[] }>(
        '/v1/audit?limit=1000',
        admin,
      );
      const ids = (action: string): string[] =>
        log.body.items
          .filter((entry) => entry.action === action)
          .map((entry) => entry.subjectId)
          .sort();
      expect(ids('grant.expired')).toEqual(due.map((original) => original.id).sort());
      expect(ids('request.lapsed')).toEqual(asked.map((extension) => extension.body.id).sort());
    });

    it('never brings back a grant that is past its expiry but not yet recorded as ended', async () => {
      const { api, clock } = running;
      const start = clock.now();
      const original = await prodReadGrant(60);
      const asked = await api.post<RequestView>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 600,
        reason: 'a little longer',
      });
      expect(asked.status).toBe(202);
      const other = await sandboxGrant(alice, 60);
      // The expiry engine is held back, so both grants sit past their expiry while still marked active.
      await running.service.scheduler.stop();
      clock.advance(61 * SECOND);

      const late = await api.post<ErrorBody>(`/v1/requests/${asked.body.id}/approve`, bob, {});
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('illegal_transition');
      expect(late.body.error.message).toContain('has ended');
      expect(await getRequest(alice, asked.body.id)).toMatchObject({ status: 'pending' });
      expect(await grant(alice, original.id)).toMatchObject({
        status: 'active',
        expiresAt: iso(start + 60 * SECOND),
      });
      expect((await api.get<ErrorBody>(`/v1/grants/${original.id}/credential`, alice)).status).toBe(410);

      // Relinquishing it now records what really happened: it expired.
      const ended = await relinquish(alice, other.id);
      expect(ended).toMatchObject({ status: 'expired', endReason: 'expired' });
    });

    it('refuses an extension past the role’s maximum with extension_exceeds_maximum', async () => {
      const { api, clock } = running;
      const start = clock.now();
      const original = await sandboxGrant(alice, 1800);

      const tooLong = await api.post<ErrorBody>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 1801,
        reason: '',
      });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.code).toBe('extension_exceeds_maximum');
      expect(tooLong.body.error.details).toMatchObject({ maxExtensionSeconds: 1800 });
      expect((await grant(alice, original.id)).expiresAt).toBe(iso(start + 1800 * SECOND));

      const toTheMax = await api.post<GrantView>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 1800,
        reason: '',
      });
      expect(toTheMax.status).toBe(200);
      expect(toTheMax.body.expiresAt).toBe(original.maxExpiresAt);

      const more = await api.post<ErrorBody>(`/v1/grants/${original.id}/extend`, alice, {
        durationSeconds: 10,
        reason: '',
      });
      expect(more.status).toBe(400);
      expect(more.body.error.code).toBe('extension_exceeds_maximum');
      expect(more.body.error.details).toMatchObject({ maxExtensionSeconds: 0 });
    });
  });

  describe('relinquish and overlap', () => {
    it('lets the owner relinquish a grant: revoked, relinquished, grant.ended, credential gone', async () => {
      const { api, clock } = running;
      const aliceEvents = await open(alice);
      const original = await sandboxGrant(alice, 600);
      await running.advance(30 * SECOND);

      const byDave = await api.post<ErrorBody>(`/v1/grants/${original.id}/revoke`, dave, {});
      expect(byDave.status).toBe(404);

      const ended = await relinquish(alice, original.id);
      expect(ended).toMatchObject({
        id: original.id,
        status: 'revoked',
        endReason: 'relinquished',
        endedAt: iso(clock.now()),
      });
      const event = (await aliceEvents.next('grant.ended', isGrant(original.id))) as GrantView;
      expect(event).toMatchObject({ status: 'revoked', endReason: 'relinquished' });

      const credential = await api.get<ErrorBody>(`/v1/grants/${original.id}/credential`, alice);
      expect(credential.status).toBe(410);
      expect(credential.body.error.code).toBe('grant_ended');
      const again = await api.post<ErrorBody>(`/v1/grants/${original.id}/revoke`, alice, {});
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('illegal_transition');
    });

    it('accepts a relinquish without a body, as the contract’s {reason?} allows', async () => {
      const original = await sandboxGrant(alice, 600);
      const response = await running.api.post<GrantView>(`/v1/grants/${original.id}/revoke`, alice);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body).toMatchObject({ status: 'revoked', endReason: 'relinquished' });
    });

    it('never lets overlapping grants for the same role cut each other short', async () => {
      const { api, clock } = running;
      const start = clock.now();
      const short = await sandboxGrant(alice, 60);
      const long = await sandboxGrant(alice, 120);
      expect(long.id).not.toBe(short.id);

      await running.advance(60 * SECOND);
      expect(await grant(alice, short.id)).toMatchObject({
        status: 'expired',
        endedAt: iso(start + 60 * SECOND),
      });
      expect(await grant(alice, long.id)).toMatchObject({ status: 'active', endedAt: null });
      const credential = await api.get<Credential>(`/v1/grants/${long.id}/credential`, alice);
      expect(credential.status).toBe(200);
      expect(credential.body.grantId).toBe(long.id);
      expect(decodeJwt(credential.body.secret.token).jti).toBe(long.id);
      expect((await api.get(`/v1/grants/${short.id}/credential`, alice)).status).toBe(410);

      await running.advance(60 * SECOND);
      expect(await grant(alice, long.id)).toMatchObject({
        status: 'expired',
        endedAt: iso(start + 120 * SECOND),
      });
    });
  });

  describe('seats', () => {
    /** alice and dave take both design-suite seats. */
    async function fillBothSeats(
      daveSeconds: number,
    ): Promise<{ aliceSeat: GrantView; daveSeat: GrantView }> {
      const aliceSeat = await request(alice, 'design-suite', 'seat', 7200);
      const daveSeat = await request(dave, 'design-suite', 'seat', daveSeconds);
      expect(aliceSeat.status).toBe('approved');
      expect(daveSeat.status).toBe('approved');
      return {
        aliceSeat: await grant(alice, aliceSeat.grantId ?? ''),
        daveSeat: await grant(dave, daveSeat.grantId ?? ''),
      };
    }

    it('queues requesters past the seats and serves them in order as seats free up', async () => {
      const { clock } = running;
      const bobEvents = await open(bob);
      const carolEvents = await open(carol);
      const start = clock.now();
      const { aliceSeat, daveSeat } = await fillBothSeats(1800);
      expect(await seats(alice)).toEqual({ total: 2, inUse: 2, queued: 0 });

      const third = await request(bob, 'design-suite', 'seat', 3600);
      expect(third).toMatchObject({ status: 'queued', queuePosition: 1, grantId: null, waitingFor: [] });
      expect(await seats(alice)).toEqual({ total: 2, inUse: 2, queued: 1 });
      await running.advance(SECOND);
      const fourth = await request(carol, 'design-suite', 'seat', 3600);
      expect(fourth).toMatchObject({ status: 'queued', queuePosition: 2 });
      expect(await seats(bob)).toEqual({ total: 2, inUse: 2, queued: 2 });

      // A seat freed by relinquishing goes to the first in line.
      await running.advance(10 * SECOND);
      await relinquish(alice, aliceSeat.id);
      const bobsGrant = (await bobEvents.next(
        'grant.activated',
        (data) => (data as GrantView).requestId === third.id,
      )) as GrantView;
      expect(bobsGrant).toMatchObject({
        userId: 'bob',
        status: 'active',
        startsAt: iso(clock.now()),
        expiresAt: iso(clock.now() + 3600 * SECOND),
      });
      expect(await getRequest(bob, third.id)).toMatchObject({
        status: 'approved',
        grantId: bobsGrant.id,
        queuePosition: null,
      });
      expect(await getRequest(carol, fourth.id)).toMatchObject({ status: 'queued', queuePosition: 1 });
      expect(await seats(carol)).toEqual({ total: 2, inUse: 2, queued: 1 });
      expect(carolEvents.of('grant.activated')).toEqual([]);

      // A seat freed by expiry goes to the next.
      await running.advance(start + 1800 * SECOND - clock.now());
      expect((await grant(dave, daveSeat.id)).status).toBe('expired');
      const carolsGrant = (await carolEvents.next(
        'grant.activated',
        (data) => (data as GrantView).requestId === fourth.id,
      )) as GrantView;
      expect(carolsGrant).toMatchObject({ userId: 'carol', status: 'active' });
      expect(await getRequest(carol, fourth.id)).toMatchObject({
        status: 'approved',
        grantId: carolsGrant.id,
      });
      expect(await seats(alice)).toEqual({ total: 2, inUse: 2, queued: 0 });
    });

    it('takes a cancelled queued request out of the line', async () => {
      const { api } = running;
      const carolEvents = await open(carol);
      const { aliceSeat } = await fillBothSeats(7200);
      const third = await request(bob, 'design-suite', 'seat', 3600);
      await running.advance(SECOND);
      const fourth = await request(carol, 'design-suite', 'seat', 3600);
      expect(fourth.queuePosition).toBe(2);

      const cancelled = await api.post<RequestView>(`/v1/requests/${third.id}/cancel`, bob, {});
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', queuePosition: null, grantId: null });
      expect(await getRequest(carol, fourth.id)).toMatchObject({ status: 'queued', queuePosition: 1 });
      expect(await seats(alice)).toEqual({ total: 2, inUse: 2, queued: 1 });

      await relinquish(alice, aliceSeat.id);
      await carolEvents.next('grant.activated', (data) => (data as GrantView).requestId === fourth.id);
      expect((await getRequest(bob, third.id)).status).toBe('cancelled');
      const bobsGrants = await api.get<List<GrantView>>('/v1/grants', bob);
      expect(bobsGrants.body.items).toEqual([]);
    });

    it('keeps arrival order for requests queued in the same instant', async () => {
      const { api } = running;
      await fillBothSeats(7200);
      // The clock does not move: every request below is queued at the same millisecond. Two requesters
      // can be out of order by chance, so the line is formed several times.
      for (let round = 0; round < 6; round += 1) {
        const [first, second] = round % 2 === 0 ? [bob, carol] : [carol, bob];
        const earlier = await request(first, 'design-suite', 'seat', 3600);
        const later = await request(second, 'design-suite', 'seat', 3600);
        expect(earlier.queuePosition, `round ${round}: the first to ask`).toBe(1);
        expect(later.queuePosition, `round ${round}: the second to ask`).toBe(2);
        expect((await getRequest(first, earlier.id)).queuePosition).toBe(1);
        expect((await api.post(`/v1/requests/${earlier.id}/cancel`, first, {})).status).toBe(200);
        expect((await api.post(`/v1/requests/${later.id}/cancel`, second, {})).status).toBe(200);
      }
    });

    it('lapses a queued request after its pendingTimeout of an hour', async () => {
      const { api, clock } = running;
      const bobEvents = await open(bob);
      const { aliceSeat } = await fillBothSeats(7200);
      const queued = await request(bob, 'design-suite', 'seat', 3600);
      expect(queued).toMatchObject({ status: 'queued', expiresAt: iso(clock.now() + 3600 * SECOND) });

      await running.advance(3600 * SECOND - SECOND);
      expect(await getRequest(bob, queued.id)).toMatchObject({ status: 'queued', queuePosition: 1 });
      await running.advance(SECOND);
      await bobEvents.next('request.updated', isRequest(queued.id, 'lapsed'));
      expect(await getRequest(bob, queued.id)).toMatchObject({ status: 'lapsed', queuePosition: null });
      expect(await seats(bob)).toEqual({ total: 2, inUse: 2, queued: 0 });

      await relinquish(alice, aliceSeat.id);
      expect(await seats(bob)).toEqual({ total: 2, inUse: 1, queued: 0 });
      const bobsGrants = await api.get<List<GrantView>>('/v1/grants', bob);
      expect(bobsGrants.body.items).toEqual([]);
      expect(bobEvents.of('grant.activated')).toEqual([]);
    });
  });

  describe('lists', () => {
    it('filters by status and pages with limit and the next cursor', async () => {
      const { api } = running;
      const made: GrantView[] = [];
      for (const step of [0, 0, 1, 1, 1]) {
        if (step > 0) await running.advance(step * SECOND);
        made.push(await sandboxGrant(alice, 600));
      }
      await sandboxGrant(dave, 600);
      const ended = made[1];
      if (!ended) throw new Error('five grants were made');
      await relinquish(alice, ended.id);

      const active = await api.get<List<GrantView>>('/v1/grants?status=active', alice);
      expect(active.status).toBe(200);
      expect(active.body.items.map((item) => item.id).sort()).toEqual(
        made
          .filter((item) => item.id !== ended.id)
          .map((item) => item.id)
          .sort(),
      );
      expect(active.body.items.every((item) => item.status === 'active')).toBe(true);
      expect(active.body.next).toBeNull();

      const endedList = await api.get<List<GrantView>>('/v1/grants?status=ended', alice);
      expect(endedList.body.items.map((item) => item.id)).toEqual([ended.id]);
      expect(endedList.body.items[0]?.status).toBe('revoked');

      const seen: GrantView[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const page = await api.get<List<GrantView>>(`/v1/grants?limit=2${query}`, alice);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items);
        cursor = page.body.next;
        pages += 1;
        if (cursor !== null) expect(page.body.items).toHaveLength(2);
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(3);
      const ids = seen.map((item) => item.id);
      expect(new Set(ids).size).toBe(5);
      expect([...ids].sort()).toEqual(made.map((item) => item.id).sort());
      const starts = seen.map((item) => Date.parse(item.startsAt));
      expect(starts).toEqual([...starts].sort((a, b) => b - a));
      expect(seen.every((item) => item.userId === 'alice')).toBe(true);

      const bad = await api.get<ErrorBody>('/v1/grants?cursor=not-a-cursor', alice);
      expect(bad.status).toBe(400);
    });
  });
});
