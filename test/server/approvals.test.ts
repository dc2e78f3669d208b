import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES } from '../support/databases.js';
import type { ApiResponse } from '../support/http.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';
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

interface NewRequest {
  readonly resourceId: string;
  readonly role: string;
  readonly durationSeconds: number;
  readonly reason: string;
  readonly ticket?: string;
}

const PROD_READ: NewRequest = {
  resourceId: 'prod-db',
  role: 'read',
  durationSeconds: 3600,
  reason: 'investigate order 1234',
};
const PROD_OWNER: NewRequest = {
  resourceId: 'prod-db',
  role: 'owner',
  durationSeconds: 1800,
  reason: 'add an index',
  ticket: 'CHG-7',
};
const CLOUD_ADMIN: NewRequest = {
  resourceId: 'cloud-admin',
  role: 'administrator',
  durationSeconds: 3600,
  reason: 'rotate the root keys',
  ticket: 'INC-42',
};
const SANDBOX: NewRequest = { resourceId: 'sandbox', role: 'operator', durationSeconds: 300, reason: '' };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const isRequest =
  (id: string, status?: RequestView['status']) =>
  (data: unknown): boolean => {
    const request = data as RequestView;
    return request.id === id && (status === undefined || request.status === status);
  };

describe.each(DATABASES)('approval modes over HTTP on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let dave: string;
  let bob: string;
  let carol: string;
  let admin: string;
  const streams: EventStream[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
    [alice, dave, bob, carol, admin] = (await Promise.all(
      ['alice', 'dave', 'bob', 'carol', 'admin'].map((user) => running.api.login(user)),
    )) as [string, string, string, string, string];
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

  async function create(token: string, body: NewRequest): Promise<RequestView> {
    const response = await running.api.post<RequestView>('/v1/requests', token, body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  function approve(token: string, id: string, comment?: string): Promise<ApiResponse<RequestView>> {
    return running.api.post<RequestView>(
      `/v1/requests/${id}/approve`,
      token,
      comment === undefined ? {} : { comment },
    );
  }

  async function inbox(token: string): Promise<string[]> {
    const response = await running.api.get<List<RequestView>>('/v1/requests?scope=approvable', token);
    expect(response.status).toBe(200);
    return response.body.items.map((item) => item.id).sort();
  }

  async function getRequest(token: string, id: string): Promise<RequestView> {
    const response = await running.api.get<RequestView>(`/v1/requests/${id}`, token);
    expect(response.status).toBe(200);
    return response.body;
  }

  it('any: one team lead approves, the request records the decision and the grant is active', async () => {
    const { api, clock } = running;
    const aliceEvents = await open(alice);
    const created = await create(alice, PROD_READ);
    expect(created).toMatchObject({
      status: 'pending',
      requesterId: 'alice',
      kind: 'access',
      extendsGrantId: null,
      waitingFor: ['bob'],
      decisions: [],
      grantId: null,
      queuePosition: null,
      stage: { index: 0, total: 1, escalated: false, approvalsNeeded: 1, approvalsGiven: 0 },
      expiresAt: new Date(clock.now() + 4 * HOUR).toISOString(),
    });

    const approved = await approve(bob, created.id, 'looks fine');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      id: created.id,
      status: 'approved',
      waitingFor: [],
      stage: { index: 0, total: 1, approvalsNeeded: 1, approvalsGiven: 1 },
      decisions: [
        {
          approverId: 'bob',
          decision: 'approve',
          comment: 'looks fine',
          at: new Date(clock.now()).toISOString(),
          stage: 0,
        },
      ],
    });
    expect(approved.body.decisions).toHaveLength(1);
    const grantId = approved.body.grantId ?? '';
    expect(grantId).not.toBe('');

    const grant = await api.get<GrantView>(`/v1/grants/${grantId}`, alice);
    expect(grant.status).toBe(200);
    expect(grant.body).toMatchObject({
      id: grantId,
      requestId: created.id,
      userId: 'alice',
      resourceId: 'prod-db',
      role: 'read',
      status: 'active',
      expiresAt: new Date(clock.now() + 3600_000).toISOString(),
      endedAt: null,
    });
    const activated = (await aliceEvents.next(
      'grant.activated',
      (data) => (data as GrantView).id === grantId,
    )) as GrantView;
    expect(activated.status).toBe('active');
    const credential = await api.get(`/v1/grants/${grantId}/credential`, alice);
    expect(credential.status).toBe(200);
    expect(await inbox(bob)).toEqual([]);
  });

  it('deny: the comment is kept, no grant exists and the requester hears of it', async () => {
    const { api } = running;
    const aliceEvents = await open(alice);
    const created = await create(alice, PROD_READ);

    const withoutComment = await api.post<ErrorBody>(`/v1/requests/${created.id}/deny`, bob, {});
    expect(withoutComment.status).toBe(400);
    expect((await getRequest(alice, created.id)).status).toBe('pending');

    const denied = await api.post<RequestView>(`/v1/requests/${created.id}/deny`, bob, {
      comment: 'use the replica instead',
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      status: 'denied',
      grantId: null,
      waitingFor: [],
      decisions: [{ approverId: 'bob', decision: 'deny', comment: 'use the replica instead' }],
    });
    const heard = (await aliceEvents.next('request.updated', isRequest(created.id, 'denied'))) as RequestView;
    expect(heard.decisions).toMatchObject([
      { approverId: 'bob', decision: 'deny', comment: 'use the replica instead' },
    ]);
    expect(heard.grantId).toBeNull();

    const grants = await api.get<List<GrantView>>('/v1/grants', alice);
    expect(grants.body.items).toEqual([]);
    expect(aliceEvents.of('grant.activated')).toEqual([]);
    const again = await approve(bob, created.id);
    expect(again.status).toBe(409);
    expect((again.body as unknown as ErrorBody).error.code).toBe('illegal_transition');
  });

  it('quorum: prod-db/owner needs both the team lead and security', async () => {
    const { api } = running;
    const created = await create(alice, PROD_OWNER);
    expect(created).toMatchObject({
      status: 'pending',
      waitingFor: ['bob', 'carol'],
      stage: { index: 0, total: 1, approvalsNeeded: 2, approvalsGiven: 0 },
    });

    const afterBob = await approve(bob, created.id, 'fine by me');
    expect(afterBob.status).toBe(200);
    expect(afterBob.body).toMatchObject({
      status: 'pending',
      grantId: null,
      waitingFor: ['carol'],
      stage: { approvalsNeeded: 2, approvalsGiven: 1 },
      decisions: [{ approverId: 'bob', decision: 'approve' }],
    });
    expect(await inbox(bob)).toEqual([]);
    expect(await inbox(carol)).toEqual([created.id]);

    const bobAgain = await approve(bob, created.id);
    expect(bobAgain.status).toBe(409);
    expect((bobAgain.body as unknown as ErrorBody).error.code).toBe('already_decided');
    expect((await getRequest(alice, created.id)).stage?.approvalsGiven).toBe(1);

    const afterCarol = await approve(carol, created.id);
    expect(afterCarol.status).toBe(200);
    expect(afterCarol.body).toMatchObject({
      status: 'approved',
      waitingFor: [],
      stage: { approvalsGiven: 2 },
      decisions: [
        { approverId: 'bob', decision: 'approve' },
        { approverId: 'carol', decision: 'approve' },
      ],
    });
    const grant = await api.get<GrantView>(`/v1/grants/${afterCarol.body.grantId ?? ''}`, alice);
    expect(grant.status).toBe(200);
    expect(grant.body).toMatchObject({ status: 'active', resourceId: 'prod-db', role: 'owner' });
  });

  it('chain: the team lead decides first, then security is asked', async () => {
    const { api } = running;
    const carolEvents = await open(carol);
    const created = await create(alice, CLOUD_ADMIN);
    expect(created).toMatchObject({
      status: 'pending',
      waitingFor: ['bob'],
      stage: { index: 0, total: 2, name: 'Team lead', escalated: false, approvalsGiven: 0 },
    });
    expect(await inbox(bob)).toEqual([created.id]);
    expect(await inbox(carol)).toEqual([]);
    const carolTooEarly = await approve(carol, created.id);
    expect(carolTooEarly.status).toBe(404);
    expect((await getRequest(alice, created.id)).decisions).toEqual([]);

    const afterBob = await approve(bob, created.id, 'ok from me');
    expect(afterBob.status).toBe(200);
    expect(afterBob.body).toMatchObject({
      status: 'pending',
      waitingFor: ['carol'],
      stage: { index: 1, total: 2, name: 'Security', escalated: false, approvalsGiven: 0 },
      decisions: [{ approverId: 'bob', decision: 'approve', comment: 'ok from me', stage: 0 }],
    });
    const needed = (await carolEvents.next('approval.needed', isRequest(created.id))) as RequestView;
    expect(needed.stage).toMatchObject({ index: 1, name: 'Security' });
    expect(carolEvents.of('approval.needed')).toHaveLength(1);
    expect(await inbox(carol)).toEqual([created.id]);
    expect(await inbox(bob)).toEqual([]);

    const afterCarol = await approve(carol, created.id, 'go ahead');
    expect(afterCarol.status).toBe(200);
    expect(afterCarol.body).toMatchObject({
      status: 'approved',
      decisions: [
        { approverId: 'bob', stage: 0 },
        { approverId: 'carol', stage: 1, comment: 'go ahead' },
      ],
    });
    const grant = await api.get<GrantView>(`/v1/grants/${afterCarol.body.grantId ?? ''}`, alice);
    expect(grant.body).toMatchObject({ status: 'active', resourceId: 'cloud-admin', role: 'administrator' });
  });

  it('escalation: a chain stage left for 15 minutes also asks the admins, who can decide it', async () => {
    const adminEvents = await open(admin);
    const created = await create(alice, CLOUD_ADMIN);

    await running.advance(15 * MINUTE - 1000);
    const before = await getRequest(alice, created.id);
    expect(before.stage?.escalated).toBe(false);
    expect(before.waitingFor).toEqual(['bob']);
    expect(await inbox(admin)).toEqual([]);

    await running.advance(1000);
    const needed = (await adminEvents.next('approval.needed', isRequest(created.id))) as RequestView;
    expect(needed.stage).toMatchObject({ index: 0, escalated: true });
    const escalated = await getRequest(alice, created.id);
    expect(escalated).toMatchObject({
      status: 'pending',
      stage: { index: 0, name: 'Team lead', escalated: true },
      waitingFor: ['admin', 'bob'],
    });
    expect(await inbox(admin)).toEqual([created.id]);
    expect(await inbox(bob)).toEqual([created.id]);

    const byAdmin = await approve(admin, created.id, 'bob is away');
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({
      status: 'pending',
      stage: { index: 1, name: 'Security', escalated: false },
      waitingFor: ['carol'],
      decisions: [{ approverId: 'admin', decision: 'approve', stage: 0 }],
    });
    expect(await inbox(bob)).toEqual([]);
    expect(await inbox(admin)).toEqual([]);
  });

  it('lapse: a pending prod-db/read lapses after 4 hours and can no longer be approved', async () => {
    const aliceEvents = await open(alice);
    const created = await create(alice, PROD_READ);
    expect(await inbox(bob)).toEqual([created.id]);

    await running.advance(4 * HOUR - 1000);
    expect((await getRequest(alice, created.id)).status).toBe('pending');

    await running.advance(1000);
    const lapsed = (await aliceEvents.next(
      'request.updated',
      isRequest(created.id, 'lapsed'),
    )) as RequestView;
    expect(lapsed.waitingFor).toEqual([]);
    expect(await getRequest(alice, created.id)).toMatchObject({
      status: 'lapsed',
      grantId: null,
      lapseCause: 'timeout',
    });
    expect(await inbox(bob)).toEqual([]);

    const late = await approve(bob, created.id);
    expect(late.status).toBe(409);
    expect((late.body as unknown as ErrorBody).error.code).toBe('illegal_transition');
    expect((await getRequest(alice, created.id)).status).toBe('lapsed');
  });

  it('cancel while pending: the approver’s inbox updates through request.updated', async () => {
    const { api } = running;
    const bobEvents = await open(bob);
    const created = await create(alice, PROD_READ);
    await bobEvents.next('approval.needed', isRequest(created.id));
    expect(await inbox(bob)).toEqual([created.id]);

    const notMine = await api.post<ErrorBody>(`/v1/requests/${created.id}/cancel`, bob, {});
    expect(notMine.status).toBe(403);

    const cancelled = await api.post<RequestView>(`/v1/requests/${created.id}/cancel`, alice, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', waitingFor: [] });
    const heard = (await bobEvents.next(
      'request.updated',
      isRequest(created.id, 'cancelled'),
    )) as RequestView;
    expect(heard.waitingFor).toEqual([]);
    expect(await inbox(bob)).toEqual([]);

    const twice = await api.post<ErrorBody>(`/v1/requests/${created.id}/cancel`, alice, {});
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('illegal_transition');
    const late = await approve(bob, created.id);
    expect(late.status).toBe(409);
  });

  it('approve and cancel accept a POST without a body, as the contract allows', async () => {
    const { api } = running;
    const toApprove = await create(alice, PROD_READ);
    const approved = await api.post<RequestView>(`/v1/requests/${toApprove.id}/approve`, bob);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      decisions: [{ approverId: 'bob', decision: 'approve', comment: '' }],
    });

    const toCancel = await create(dave, PROD_READ);
    const cancelled = await api.post<RequestView>(`/v1/requests/${toCancel.id}/cancel`, dave);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });

  it('the approvable inbox lists exactly the requests the caller may decide now', async () => {
    const read = await create(alice, PROD_READ);
    const owner = await create(dave, PROD_OWNER);
    const chain = await create(alice, CLOUD_ADMIN);
    await create(dave, SANDBOX);

    expect(await inbox(bob)).toEqual([read.id, owner.id, chain.id].sort());
    expect(await inbox(carol)).toEqual([owner.id]);
    expect(await inbox(admin)).toEqual([]);
    expect(await inbox(alice)).toEqual([]);
    expect(await inbox(dave)).toEqual([]);

    expect((await approve(bob, owner.id)).status).toBe(200);
    expect(await inbox(bob)).toEqual([read.id, chain.id].sort());
    expect(await inbox(carol)).toEqual([owner.id]);

    expect((await approve(bob, chain.id)).status).toBe(200);
    expect(await inbox(bob)).toEqual([read.id]);
    expect(await inbox(carol)).toEqual([owner.id, chain.id].sort());

    expect((await approve(carol, owner.id)).status).toBe(200);
    expect(await inbox(carol)).toEqual([chain.id]);

    const filtered = await running.api.get<List<RequestView>>(
      '/v1/requests?scope=approvable&status=pending',
      bob,
    );
    expect(filtered.body.items.map((item) => item.id)).toEqual([read.id]);
  });

  it('Idempotency-Key: the same key and body give the same request and create nothing new', async () => {
    const { api } = running;
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await api.post<RequestView>('/v1/requests', alice, PROD_READ, headers);
    const second = await api.post<RequestView>('/v1/requests', alice, PROD_READ, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.status).toBe('pending');

    const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', alice);
    expect(mine.body.items.map((item) => item.id)).toEqual([first.body.id]);

    const otherBody = await api.post<ErrorBody>(
      '/v1/requests',
      alice,
      { ...PROD_READ, durationSeconds: 1800 },
      headers,
    );
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.error.code).toBe('idempotency_key_reused');

    // The key belongs to alice: dave's same key is his own, new request.
    const davesOwn = await api.post<RequestView>('/v1/requests', dave, PROD_READ, headers);
    expect(davesOwn.status).toBe(201);
    expect(davesOwn.body.id).not.toBe(first.body.id);
    expect(davesOwn.body.requesterId).toBe('dave');
  });

  it('Idempotency-Key: ten concurrent identical POSTs create exactly one request', async () => {
    const { api } = running;
    const headers = { 'idempotency-key': 'double-click-7' };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api.post<RequestView>('/v1/requests', alice, SANDBOX, headers)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 201));
    const ids = new Set(responses.map((response) => response.body.id));
    expect(ids.size).toBe(1);
    const grantIds = new Set(responses.map((response) => response.body.grantId));
    expect(grantIds.size).toBe(1);

    const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', alice);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]?.id).toBe(responses[0]?.body.id);
    const grants = await api.get<List<GrantView>>('/v1/grants', alice);
    expect(grants.body.items).toHaveLength(1);
  });

  it('request_already_pending: asking again for the same role while pending is refused', async () => {
    const { api } = running;
    const first = await create(alice, PROD_READ);
    const written = await writtenSoFar(running.service.db);
    const again = await api.post<ErrorBody>('/v1/requests', alice, { ...PROD_READ, reason: 'still needed' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('request_already_pending');
    expect(again.body.error.details).toMatchObject({ requestId: first.id });
    const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', alice);
    expect(mine.body.items.map((item) => item.id)).toEqual([first.id]);
    // Nor an event or an audit entry of the refused request.
    expect(await writtenSoFar(running.service.db)).toEqual(written);

    // Another role, or another person, is not affected.
    await create(alice, { ...PROD_READ, role: 'write', ticket: 'OPS-123', durationSeconds: 600 });
    await create(dave, PROD_READ);

    // Once it is decided, the same role can be asked for again.
    expect((await api.post(`/v1/requests/${first.id}/cancel`, alice, {})).status).toBe(200);
    const fresh = await create(alice, PROD_READ);
    expect(fresh.id).not.toBe(first.id);
  });
});

/** How many events and audit entries (chained or waiting to be) the service has written. */
async function writtenSoFar(db: Database): Promise<{ events: number; audit: number }> {
  const [row] = await db.query<{ events: number; audit: number }>(
    `SELECT (SELECT count(*) FROM events)::int AS events,
            ((SELECT count(*) FROM audit_log) + (SELECT count(*) FROM audit_pending))::int AS audit`,
  );
  return row ?? { events: 0, audit: 0 };
}

/** The demo organisation, but with prod-db/read approved at once, as if an administrator had relaxed it. */
async function demoWithProdReadAutoApproved(): Promise<Policy> {
  const demo = await demoOrganisation();
  const prod = demo.resources.get('prod-db');
  const read = prod?.roles.get('read');
  if (!prod || !read) throw new Error('the demo organisation has prod-db/read');
  const roles = new Map(prod.roles).set('read', { ...read, approval: { ...read.approval, stages: [] } });
  return { ...demo, resources: new Map(demo.resources).set('prod-db', { ...prod, roles }) };
}

describe.each(DATABASES)('a role made auto-approved while a request for it is pending, on %s', (kind) => {
  it('refuses a second request, writes nothing, and approves at once after the first is cancelled', async () => {
    const database = await createTestDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-approvals-'));
    try {
      const before = await startService({ kind, database, dataDir });
      const pending = await before.api.post<RequestView>(
        '/v1/requests',
        await before.api.login('alice'),
        PROD_READ,
      );
      expect(pending.body.status).toBe('pending');
      await before.stop();

      // Restarted on the same data with the relaxed policy: the pending request is still open.
      const after = await startService({
        kind,
        database,
        dataDir,
        policy: await demoWithProdReadAutoApproved(),
      });
      try {
        const { api } = after;
        const [alice, admin] = [await api.login('alice'), await api.login('admin')];
        const entries = async () =>
          (await api.get<{ entries: number }>('/v1/audit/verify', admin)).body.entries;
        const entriesBefore = await entries();
        const written = await writtenSoFar(after.service.db);

        const again = await api.post<ErrorBody>('/v1/requests', alice, {
          ...PROD_READ,
          reason: 'still needed',
        });
        expect(again.status).toBe(409);
        expect(again.body.error.code).toBe('request_already_pending');
        expect(again.body.error.details).toEqual({ requestId: pending.body.id });
        const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', alice);
        expect(mine.body.items.map((item) => item.id)).toEqual([pending.body.id]);
        expect((await api.get<List<GrantView>>('/v1/grants?scope=all', admin)).body.items).toEqual([]);
        expect(await entries()).toBe(entriesBefore);
        expect(await writtenSoFar(after.service.db)).toEqual(written);

        expect((await api.post(`/v1/requests/${pending.body.id}/cancel`, alice, {})).status).toBe(200);
        const fresh = await api.post<RequestView>('/v1/requests', alice, PROD_READ);
        expect(fresh.status).toBe(201);
        expect(fresh.body.status).toBe('approved');
        expect(fresh.body.grantId).toMatch(/^grt_/);
      } finally {
        await after.stop();
      }
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
