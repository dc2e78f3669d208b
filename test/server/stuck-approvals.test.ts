import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClockOffsetEstimator } from '../../api/clock-offset.js';
import { GrantClient } from '../../api/grant-client.js';
import type { AuditEntryView, GrantView, RequestView } from '../../api/schemas.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { parsePolicy } from '../../server/config/load.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES } from '../support/databases.js';
import type { ApiResponse } from '../support/http.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

/**
 * Approvals that can never finish (issue 27, part 2): refused at request time with the numbers, escalated
 * to the administrators at once when a later stage or a policy change leaves nobody who may decide, and
 * the administrators' cancel (with a reason) and override (never on their own request).
 */

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

interface List<T> {
  readonly items: T[];
  readonly next: string | null;
}

let passwordHash: Promise<string> | null = null;

/**
 * bob, lena and quinn review; max engineers; two administrators. `lenaReviews: false` is the policy after
 * lena left the reviewers group (she is still a user).
 */
async function reviewPolicy(lenaReviews = true): Promise<Policy> {
  passwordHash ??= hashPassword('demo', TEST_PASSWORD_COST);
  const hash = await passwordHash;
  return parsePolicy({
    file: 'stuck-approvals.test.ts',
    env: {},
    text: `
version: 1
groups:
  reviewers: {}
  engineers: {}
  admins: {}
users:
  bob: { displayName: Bob Martin, passwordHash: "${hash}", groups: [reviewers] }
  lena: { displayName: Lena Ortiz, passwordHash: "${hash}", groups: [${lenaReviews ? 'reviewers' : ''}] }
  quinn: { displayName: Quinn Yu, passwordHash: "${hash}", groups: [reviewers, engineers] }
  max: { displayName: Max Weber, passwordHash: "${hash}", groups: [engineers] }
  admin: { displayName: Ada Admin, passwordHash: "${hash}", groups: [admins, engineers], admin: true }
  admin2: { displayName: Ben Admin, passwordHash: "${hash}", groups: [admins], admin: true }
resources:
  vault:
    name: Secrets vault
    kind: vault
    roles:
      unseal:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: { mode: quorum, count: 3, approvers: { users: [bob, lena, quinn] } }
      rotate:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval:
          mode: chain
          stages:
            - { name: Team lead, approvers: { users: [bob, lena] } }
            - { name: Security, approvers: { users: [lena] } }
      twice:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval:
          mode: chain
          stages:
            - { name: Team lead, approvers: { users: [lena] } }
            - { name: Security, approvers: { users: [lena] } }
      duo:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval:
          mode: chain
          stages:
            - { name: Review, approvers: { users: [bob, lena] }, count: 2, escalateAfter: 1h, escalateTo: { users: [admin] } }
      pair:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: { mode: quorum, count: 2, approvers: { groups: [reviewers] } }
      read:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: { mode: any, approvers: { users: [bob] } }
      seat:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: auto
        seats: 1
`,
  });
}

const ask = (role: string) => ({ resourceId: 'vault', role, durationSeconds: 600, reason: 'rotate keys' });

describe.each(DATABASES)('approvals that can never finish, on %s', (kind) => {
  let running: RunningService;
  const tokens = new Map<string, string>();
  const streams: EventStream[] = [];

  beforeEach(async () => {
    running = await startService({ kind, policy: await reviewPolicy() });
    for (const user of ['bob', 'lena', 'quinn', 'max', 'admin', 'admin2']) {
      tokens.set(user, await running.api.login(user));
    }
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await running.stop();
  });

  function token(user: string): string {
    const found = tokens.get(user);
    if (!found) throw new Error(`no token for ${user}`);
    return found;
  }

  async function create(user: string, role: string): Promise<RequestView> {
    const response = await running.api.post<RequestView>('/v1/requests', token(user), ask(role));
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  function post<T = RequestView>(user: string, path: string, body: unknown = {}): Promise<ApiResponse<T>> {
    return running.api.post<T>(path, token(user), body);
  }

  async function audit(subjectId: string): Promise<AuditEntryView[]> {
    const response = await running.api.get<List<AuditEntryView>>('/v1/audit?limit=1000', token('admin'));
    expect(response.status).toBe(200);
    return response.body.items.filter((entry) => entry.subjectId === subjectId);
  }

  /** Every request and grant and the audit log's length, to show a refusal changed nothing. */
  async function everything(): Promise<unknown> {
    const admin = token('admin');
    const [requests, grants, verify] = await Promise.all([
      running.api.get<List<RequestView>>('/v1/requests?scope=all&limit=200', admin),
      running.api.get<List<GrantView>>('/v1/grants?scope=all&limit=200', admin),
      running.api.get<{ entries: number }>('/v1/audit/verify', admin),
    ]);
    return { requests: requests.body, grants: grants.body, entries: verify.body.entries };
  }

  async function refused(
    attempt: () => Promise<ApiResponse>,
    status: number,
    code: string,
  ): Promise<ErrorBody> {
    const before = await everything();
    const response = await attempt();
    const body = response.body as ErrorBody;
    expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
    expect(await everything()).toEqual(before);
    return body;
  }

  it('refuses a quorum of 3 from {bob, lena, quinn} requested by quinn: 409 no_approver_available with the numbers', async () => {
    const body = await refused(
      () => post('quinn', '/v1/requests', ask('unseal')),
      409,
      'no_approver_available',
    );
    expect(body.error.details).toEqual({ stage: 'approval', needed: 3, eligible: 2 });
    expect(body.error.message).toMatch(/needs 3 approvals from distinct people and 2 are eligible/);
    // Anyone else may ask: all three can approve.
    expect((await create('max', 'unseal')).waitingFor).toEqual(['bob', 'lena', 'quinn']);
  });

  it('refuses a chain whose two stages are the same single person: nobody approves twice', async () => {
    const body = await refused(() => post('max', '/v1/requests', ask('twice')), 409, 'no_approver_available');
    expect(body.error.details).toEqual({ stage: 'Security', needed: 1, eligible: 0 });
    expect(body.error.message).toMatch(/stage "Security"/);
  });

  it('escalates to the administrators at once when lena approves stage 1 and stage 2 is lena alone', async () => {
    const adminEvents = await EventStream.open(running.url, token('admin2'));
    streams.push(adminEvents);
    const request = await create('max', 'rotate');
    expect(request.waitingFor).toEqual(['bob', 'lena']);

    const afterLena = await post('lena', `/v1/requests/${request.id}/approve`, { comment: 'ok' });
    expect(afterLena.status).toBe(200);
    expect(afterLena.body).toMatchObject({
      status: 'pending',
      stage: { index: 1, name: 'Security', escalated: true },
      waitingFor: ['admin', 'admin2'],
    });
    const escalations = (await audit(request.id)).filter((entry) => entry.action === 'request.escalated');
    expect(escalations.map((entry) => entry.data)).toEqual([
      {
        stage: 1,
        asked: ['admin', 'admin2'],
        because: 'no_approver_available',
        details: { stage: 'Security', needed: 1, eligible: 0 },
      },
    ]);
    await adminEvents.next('approval.needed', (data) => (data as RequestView).id === request.id);
    const inbox = await running.api.get<List<RequestView>>('/v1/requests?scope=approvable', token('admin2'));
    expect(inbox.body.items.map((item) => item.id)).toEqual([request.id]);

    // lena may not approve twice; bob is not a stage-2 approver; an administrator decides it.
    await refused(() => post('lena', `/v1/requests/${request.id}/approve`), 409, 'already_decided');
    await refused(() => post('bob', `/v1/requests/${request.id}/approve`), 403, 'not_an_approver');
    const decided = await post('admin2', `/v1/requests/${request.id}/approve`, { comment: 'covering' });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('approved');
    expect(decided.body.decisions.at(-1)).toMatchObject({ approverId: 'admin2', stage: 1, override: true });
    const approval = (await audit(request.id)).filter((entry) => entry.action === 'request.approval').at(-1);
    expect(approval).toMatchObject({
      actorId: 'admin2',
      data: { stage: 1, comment: 'covering', override: true },
    });
  });

  it('never lets an administrator decide their own stuck request; another administrator can', async () => {
    const request = await create('admin', 'rotate');
    const stuck = await post('lena', `/v1/requests/${request.id}/approve`);
    expect(stuck.body.waitingFor).toEqual(['admin2']);
    const body = await refused(
      () => post('admin', `/v1/requests/${request.id}/approve`),
      403,
      'self_approval_forbidden',
    );
    expect(body.error.message).toMatch(/never their own/);
    await refused(
      () => post('admin', `/v1/requests/${request.id}/deny`, { comment: 'no' }),
      403,
      'self_approval_forbidden',
    );
    const denied = await post('admin2', `/v1/requests/${request.id}/deny`, { comment: 'not now' });
    expect(denied.body).toMatchObject({ status: 'denied' });
    expect(denied.body.decisions.at(-1)).toMatchObject({
      approverId: 'admin2',
      decision: 'deny',
      override: true,
    });
  });

  it('lets an administrator cancel a pending or queued request with a reason, audited', async () => {
    const pending = await create('max', 'read');
    await refused(() => post('admin', `/v1/requests/${pending.id}/cancel`), 400, 'reason_required');
    await refused(
      () => post('admin', `/v1/requests/${pending.id}/cancel`, { reason: '   ' }),
      400,
      'reason_required',
    );
    // bob was asked to decide it, so he sees it, but only its requester or an administrator cancels it.
    await refused(
      () => post('bob', `/v1/requests/${pending.id}/cancel`, { reason: 'mine now' }),
      403,
      'not_requester',
    );
    const cancelled = await post('admin', `/v1/requests/${pending.id}/cancel`, {
      reason: 'duplicate of OPS-7',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', waitingFor: [] });
    expect((await audit(pending.id)).at(-1)).toMatchObject({
      actorId: 'admin',
      action: 'request.cancelled',
      data: { was: 'pending', reason: 'duplicate of OPS-7', override: true },
    });

    expect((await create('max', 'seat')).status).toBe('approved');
    const queued = await create('quinn', 'seat');
    expect(queued.status).toBe('queued');
    const out = await post('admin2', `/v1/requests/${queued.id}/cancel`, {
      reason: 'seat goes to the on-call',
    });
    expect(out.body).toMatchObject({ status: 'cancelled', queuePosition: null });
    // The typed client sends the reason.
    const viaClient = new GrantClient({
      baseUrl: () => running.url,
      token: () => token('admin'),
      fetch,
      clock: running.clock,
      offset: new ClockOffsetEstimator(),
    });
    const another = await create('quinn', 'read');
    expect((await viaClient.cancel(another.id, 'moved to OPS-9')).status).toBe('cancelled');
    expect((await audit(another.id)).at(-1)?.data).toMatchObject({ reason: 'moved to OPS-9' });
    // The requester still cancels their own without a body.
    const own = await create('quinn', 'read');
    expect((await post('quinn', `/v1/requests/${own.id}/cancel`, null)).body.status).toBe('cancelled');
  });

  it('says an extension lapsed because its grant was revoked, not that nobody decided in time', async () => {
    const request = await create('max', 'read');
    const approved = await post('bob', `/v1/requests/${request.id}/approve`);
    const grantId = approved.body.grantId ?? '';
    const extension = await post('max', `/v1/grants/${grantId}/extend`, {
      durationSeconds: 300,
      reason: 'more',
    });
    expect(extension.status).toBe(202);
    expect((await post('admin', `/v1/grants/${grantId}/revoke`, { reason: 'incident over' })).status).toBe(
      200,
    );
    const body = await refused(
      () => post('bob', `/v1/requests/${extension.body.id}/approve`),
      409,
      'illegal_transition',
    );
    expect(body.error.message).toBe(
      `Request ${extension.body.id} lapsed because its grant was revoked, so it cannot be approved.`,
    );
    // The request says why too, so a client that missed the moment never has to guess.
    const lapsed = await running.api.get<RequestView>(`/v1/requests/${extension.body.id}`, token('max'));
    expect(lapsed.body).toMatchObject({ status: 'lapsed', lapseCause: 'grant_revoked' });
    expect(
      (await running.api.get<RequestView>(`/v1/requests/${request.id}`, token('max'))).body.lapseCause,
    ).toBeNull();
  });
});

describe.each(DATABASES)('a policy change that leaves a waiting request without approvers, on %s', (kind) => {
  it('escalates it to the administrators at start instead of letting it lapse', async () => {
    const database = await createTestDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-stuck-'));
    try {
      const before = await startService({ kind, database, dataDir, policy: await reviewPolicy() });
      const max = await before.api.login('max');
      const request = (await before.api.post<RequestView>('/v1/requests', max, ask('pair'))).body;
      expect(request.waitingFor).toEqual(['bob', 'lena', 'quinn']);
      const bob = await before.api.login('bob');
      expect(
        (await before.api.post<RequestView>(`/v1/requests/${request.id}/approve`, bob, {})).body,
      ).toMatchObject({ status: 'pending', waitingFor: ['lena', 'quinn'] });
      await before.stop();

      // lena left the reviewers; quinn alone is left for the second approval: still possible.
      const middle = await startService({ kind, database, dataDir, policy: await reviewPolicy(false) });
      const admin = await middle.api.login('admin');
      const read = async (api: RunningService['api'], token: string) =>
        (await api.get<RequestView>(`/v1/requests/${request.id}`, token)).body;
      expect(await read(middle.api, admin)).toMatchObject({
        waitingFor: ['quinn'],
        stage: { escalated: false },
      });
      await middle.stop();

      // Now quinn is gone from the policy too: nobody named can give the second approval.
      const policy = await reviewPolicy(false);
      const users = new Map(policy.users);
      users.delete('quinn');
      const after = await startService({ kind, database, dataDir, policy: { ...policy, users } });
      try {
        const { api } = after;
        const [admin2, adminAgain] = [await api.login('admin2'), await api.login('admin')];
        expect(await read(api, adminAgain)).toMatchObject({
          status: 'pending',
          stage: { index: 0, escalated: true, approvalsGiven: 1 },
          waitingFor: ['admin', 'admin2'],
        });
        const audit = await api.get<List<AuditEntryView>>('/v1/audit?limit=1000', adminAgain);
        const escalations = audit.body.items.filter(
          (entry) => entry.subjectId === request.id && entry.action === 'request.escalated',
        );
        expect(escalations.map((entry) => entry.data)).toEqual([
          {
            stage: 0,
            asked: ['admin', 'admin2'],
            because: 'no_approver_available',
            details: { stage: 'approval', needed: 1, eligible: 0 },
          },
        ]);
        // Their inboxes heard of it: the event is in admin2's stream from its start.
        const events = await EventStream.open(after.url, admin2, '0');
        try {
          await events.next('approval.needed', (data) => (data as RequestView).id === request.id);
        } finally {
          events.close();
        }
        const approved = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, admin2, {});
        expect(approved.body).toMatchObject({ status: 'approved' });
      } finally {
        await after.stop();
      }
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.each(DATABASES)('a stuck stage whose only administrator is also its escalateTo, on %s', (kind) => {
  it('is completed by that administrator, not counted as one more ordinary approval', async () => {
    const database = await createTestDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-stuck-'));
    try {
      const before = await startService({ kind, database, dataDir, policy: await reviewPolicy() });
      const max = await before.api.login('max');
      // Two approvals from {bob, lena}, or the escalation's admin: possible when asked.
      const request = (await before.api.post<RequestView>('/v1/requests', max, ask('duo'))).body;
      expect(request, JSON.stringify(request)).toMatchObject({ status: 'pending' });
      await before.stop();

      // bob and lena have left, and admin2 with them: two approvals are needed and admin alone may give one.
      const policy = await reviewPolicy(false);
      const users = new Map(policy.users);
      for (const gone of ['bob', 'lena', 'admin2']) users.delete(gone);
      const after = await startService({ kind, database, dataDir, policy: { ...policy, users } });
      try {
        const admin = await after.api.login('admin');
        expect((await after.api.get<RequestView>(`/v1/requests/${request.id}`, admin)).body).toMatchObject({
          status: 'pending',
          stage: { escalated: true },
          waitingFor: ['admin'],
        });
        const approved = await after.api.post<RequestView>(`/v1/requests/${request.id}/approve`, admin, {});
        expect(approved.body).toMatchObject({ status: 'approved' });
        expect(approved.body.decisions.at(-1)).toMatchObject({ approverId: 'admin', override: true });
      } finally {
        await after.stop();
      }
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
