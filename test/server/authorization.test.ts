import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/passwords.js';
import { parsePolicy } from '../../server/config/load.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { DATABASES } from '../support/databases.js';
import type { Api, ApiResponse } from '../support/http.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface List<T> {
  items: T[];
  next: string | null;
}

type Read = () => Promise<unknown>;

/**
 * The refusal matrix: every case asserts the exact status and error code, and that nothing changed — the
 * objects involved read the same before and after, and the audit log (admin: /v1/audit/verify) did not grow.
 */
class Harness {
  constructor(
    readonly api: Api,
    private readonly adminToken: string,
  ) {}

  async auditEntries(): Promise<number> {
    const verify = await this.api.get<{ ok: boolean; entries: number }>('/v1/audit/verify', this.adminToken);
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    return verify.body.entries;
  }

  /** A request as an administrator sees it, for before/after comparisons. */
  request(id: string): Read {
    return async () => {
      const response = await this.api.get<RequestView>(`/v1/requests/${id}`, this.adminToken);
      expect(response.status).toBe(200);
      return response.body;
    };
  }

  grant(id: string): Read {
    return async () => {
      const response = await this.api.get<GrantView>(`/v1/grants/${id}`, this.adminToken);
      expect(response.status).toBe(200);
      return response.body;
    };
  }

  /** Every request and grant in the service, as the administrator lists them. */
  everything(): Read {
    return async () => {
      const requests = await this.api.get<List<RequestView>>(
        '/v1/requests?scope=all&limit=200',
        this.adminToken,
      );
      const grants = await this.api.get<List<GrantView>>('/v1/grants?scope=all&limit=200', this.adminToken);
      expect([requests.status, grants.status]).toEqual([200, 200]);
      return { requests: requests.body, grants: grants.body };
    };
  }

  /** Runs `attempt`, expects the refusal, and checks that `reads` and the audit log are unchanged. */
  async refused(
    attempt: () => Promise<ApiResponse>,
    status: number,
    code: string,
    reads: readonly Read[],
  ): Promise<ErrorBody> {
    const before = {
      audit: await this.auditEntries(),
      state: await Promise.all(reads.map((read) => read())),
    };
    const response = await attempt();
    const body = response.body as ErrorBody;
    expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
    expect(body.error.message).toMatch(/\S/);
    const after = { audit: await this.auditEntries(), state: await Promise.all(reads.map((read) => read())) };
    expect(after).toEqual(before);
    return body;
  }
}

async function create(api: Api, token: string, body: Record<string, unknown>): Promise<RequestView> {
  const response = await api.post<RequestView>('/v1/requests', token, body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

const prodRead = {
  resourceId: 'prod-db',
  role: 'read',
  durationSeconds: 3600,
  reason: 'investigate order 1234',
};
const sandbox = { resourceId: 'sandbox', role: 'operator', durationSeconds: 60, reason: 'x' };

describe.each(DATABASES)('authorization refusals on the demo organisation on %s', (kind) => {
  let running: RunningService;
  let h: Harness;
  let alice: string;
  let dave: string;
  let bob: string;
  let carol: string;
  let admin: string;

  beforeAll(async () => {
    running = await startService({ kind });
    const { api } = running;
    [alice, dave, bob, carol, admin] = await Promise.all([
      api.login('alice'),
      api.login('dave'),
      api.login('bob'),
      api.login('carol'),
      api.login('admin'),
    ]);
    h = new Harness(running.api, admin);
  });
  afterAll(async () => {
    await running.stop();
  });

  async function sandboxGrant(token: string): Promise<string> {
    const request = await create(running.api, token, sandbox);
    expect(request.status).toBe('approved');
    expect(request.grantId).not.toBeNull();
    return request.grantId ?? '';
  }

  it("hides another user's request: dave cannot read, cancel or decide alice's (404)", async () => {
    const { api } = running;
    const request = await create(api, alice, prodRead);
    const state = [h.request(request.id), h.everything()];
    await h.refused(() => api.get(`/v1/requests/${request.id}`, dave), 404, 'request_not_found', state);
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/cancel`, dave, {}),
      404,
      'request_not_found',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, dave, {}),
      404,
      'request_not_found',
      state,
    );
    const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', dave);
    expect(mine.body.items.map((item) => item.id)).not.toContain(request.id);

    // The requester can still do what dave could not.
    const cancelled = await api.post<RequestView>(`/v1/requests/${request.id}/cancel`, alice, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });

  it("hides another user's grant: dave cannot read, extend, revoke or fetch the credential of alice's (404)", async () => {
    const { api } = running;
    const grantId = await sandboxGrant(alice);
    const state = [h.grant(grantId), h.everything()];
    await h.refused(() => api.get(`/v1/grants/${grantId}`, dave), 404, 'grant_not_found', state);
    await h.refused(
      () => api.post(`/v1/grants/${grantId}/extend`, dave, { durationSeconds: 60, reason: 'mine now' }),
      404,
      'grant_not_found',
      state,
    );
    await h.refused(() => api.post(`/v1/grants/${grantId}/revoke`, dave, {}), 404, 'grant_not_found', state);
    await h.refused(() => api.get(`/v1/grants/${grantId}/credential`, dave), 404, 'grant_not_found', state);
    const mine = await api.get<List<GrantView>>('/v1/grants?scope=mine', dave);
    expect(mine.body.items.map((item) => item.id)).not.toContain(grantId);

    const owner = await api.get<GrantView>(`/v1/grants/${grantId}`, alice);
    expect(owner.body).toMatchObject({ status: 'active', userId: 'alice', endedAt: null });
  });

  it("lets an administrator read and revoke anyone's grant, but not fetch its credential or extend it (403)", async () => {
    const { api, clock } = running;
    const grantId = await sandboxGrant(alice);
    const asOwner = await api.get<GrantView>(`/v1/grants/${grantId}`, alice);
    const asAdmin = await api.get<GrantView>(`/v1/grants/${grantId}`, admin);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toEqual(asOwner.body);

    const state = [h.grant(grantId)];
    await h.refused(() => api.get(`/v1/grants/${grantId}/credential`, admin), 403, 'not_grant_owner', state);
    await h.refused(
      () => api.post(`/v1/grants/${grantId}/extend`, admin, { durationSeconds: 60, reason: 'more' }),
      403,
      'not_grant_owner',
      state,
    );

    const auditBefore = await h.auditEntries();
    const revoked = await api.post<GrantView>(`/v1/grants/${grantId}/revoke`, admin, {
      reason: 'incident 7',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      id: grantId,
      userId: 'alice',
      status: 'revoked',
      endReason: 'revoked',
      endedAt: new Date(clock.now()).toISOString(),
    });
    expect(await h.auditEntries()).toBe(auditBefore + 1);
    const gone = await api.get<ErrorBody>(`/v1/grants/${grantId}/credential`, alice);
    expect([gone.status, gone.body.error.code]).toEqual([410, 'grant_ended']);
  });

  it('lets only the approvers asked decide: carol was never asked (404), an admin sees it but is not an approver (403)', async () => {
    const { api } = running;
    const request = await create(api, alice, prodRead);
    expect(request.waitingFor).toEqual(['bob']);
    const state = [h.request(request.id), h.everything()];
    await h.refused(() => api.get(`/v1/requests/${request.id}`, carol), 404, 'request_not_found', state);
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, carol, {}),
      404,
      'request_not_found',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/deny`, carol, { comment: 'no' }),
      404,
      'request_not_found',
      state,
    );
    expect((await api.get(`/v1/requests/${request.id}`, admin)).status).toBe(200);
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, admin, {}),
      403,
      'not_an_approver',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/deny`, admin, { comment: 'no' }),
      403,
      'not_an_approver',
      state,
    );

    const approved = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, bob, {});
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');
  });

  it('asks each chain stage in turn: carol only once stage 1 is reached, and bob only once', async () => {
    const { api } = running;
    const request = await create(api, alice, {
      resourceId: 'cloud-admin',
      role: 'administrator',
      durationSeconds: 3600,
      reason: 'rotate the root keys',
      ticket: 'CHG-42',
    });
    expect(request).toMatchObject({ status: 'pending', stage: { index: 0 }, waitingFor: ['bob'] });
    const state = [h.request(request.id), h.everything()];
    await h.refused(() => api.get(`/v1/requests/${request.id}`, carol), 404, 'request_not_found', state);
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, carol, {}),
      404,
      'request_not_found',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, admin, {}),
      403,
      'not_an_approver',
      state,
    );

    const first = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, bob, {
      comment: 'lead ok',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: 'pending',
      stage: { index: 1, name: 'Security' },
      waitingFor: ['carol'],
      decisions: [{ approverId: 'bob', decision: 'approve', stage: 0 }],
    });

    // bob was asked, so he still sees it; he decided already, so a second approval is a 409.
    expect((await api.get(`/v1/requests/${request.id}`, bob)).status).toBe(200);
    const again = await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, bob, {}),
      409,
      'already_decided',
      state,
    );
    expect(again.error.message).toContain(request.id);
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/deny`, bob, { comment: 'changed my mind' }),
      409,
      'already_decided',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, dave, {}),
      404,
      'request_not_found',
      state,
    );

    const second = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, carol, {});
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      status: 'approved',
      decisions: [
        { approverId: 'bob', stage: 0 },
        { approverId: 'carol', stage: 1 },
      ],
    });
    expect(second.body.grantId).not.toBeNull();
  });

  it('counts each approver of a quorum once: prod-db/owner needs both bob and carol', async () => {
    const { api } = running;
    const request = await create(api, alice, {
      resourceId: 'prod-db',
      role: 'owner',
      durationSeconds: 1800,
      reason: 'add an index',
      ticket: 'CHG-7',
    });
    expect(request).toMatchObject({
      status: 'pending',
      waitingFor: ['bob', 'carol'],
      stage: { approvalsNeeded: 2 },
    });

    const first = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, bob, {});
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: 'pending',
      waitingFor: ['carol'],
      grantId: null,
      stage: { approvalsNeeded: 2, approvalsGiven: 1 },
    });

    const state = [h.request(request.id), h.everything()];
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, bob, {}),
      409,
      'already_decided',
      state,
    );
    const after = await api.get<RequestView>(`/v1/requests/${request.id}`, alice);
    expect(after.body).toMatchObject({ status: 'pending', stage: { approvalsGiven: 1 } });
    expect(after.body.decisions).toHaveLength(1);

    const second = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, carol, {});
    expect(second.body).toMatchObject({ status: 'approved', stage: { approvalsGiven: 2 } });
    expect(second.body.decisions.map((decision) => decision.approverId)).toEqual(['bob', 'carol']);
  });

  it("refuses an extension past the role's maximum with 400 extension_exceeds_maximum", async () => {
    const { api } = running;
    const grantId = await sandboxGrant(alice);
    const state = [h.grant(grantId), h.everything()];
    // sandbox/operator allows 1 h in total; the grant has 60 s, so 3540 s are left.
    const refusal = await h.refused(
      () => api.post(`/v1/grants/${grantId}/extend`, alice, { durationSeconds: 3541, reason: 'more' }),
      400,
      'extension_exceeds_maximum',
      state,
    );
    expect(refusal.error.details).toEqual({ maxExtensionSeconds: 3540 });

    const extended = await api.post<GrantView>(`/v1/grants/${grantId}/extend`, alice, {
      durationSeconds: 3540,
      reason: 'more',
    });
    expect(extended.status).toBe(200);
    expect(extended.body.expiresAt).toBe(extended.body.maxExpiresAt);
    const full = await h.refused(
      () => api.post(`/v1/grants/${grantId}/extend`, alice, { durationSeconds: 1, reason: 'more' }),
      400,
      'extension_exceeds_maximum',
      [h.grant(grantId), h.everything()],
    );
    expect(full.error.details).toEqual({ maxExtensionSeconds: 0 });
  });

  it('keeps the audit log to administrators: 403 admin_only for alice', async () => {
    const { api } = running;
    for (const path of [
      '/v1/audit',
      '/v1/audit?after=0&limit=5',
      '/v1/audit/verify',
      '/v1/audit/export',
      '/v1/audit/export?format=csv',
    ]) {
      await h.refused(() => api.get(path, alice), 403, 'admin_only', [h.everything()]);
      expect((await api.get(path, admin)).status).toBe(200);
    }
  });

  it('refuses scope=all lists to non-admins with 403 admin_only', async () => {
    const { api } = running;
    for (const token of [alice, bob]) {
      await h.refused(() => api.get('/v1/requests?scope=all', token), 403, 'admin_only', [h.everything()]);
      await h.refused(() => api.get('/v1/grants?scope=all', token), 403, 'admin_only', [h.everything()]);
    }
    expect((await api.get('/v1/requests?scope=all', admin)).status).toBe(200);
    expect((await api.get('/v1/grants?scope=all', admin)).status).toBe(200);
  });

  it('refuses a request from outside the requester groups: carol on prod-db/read is 403 not_allowed_to_request', async () => {
    const { api } = running;
    await h.refused(() => api.post('/v1/requests', carol, prodRead), 403, 'not_allowed_to_request', [
      h.everything(),
    ]);
    await h.refused(
      () => api.post('/v1/requests', bob, { ...prodRead, role: 'write', ticket: 'OPS-1' }),
      403,
      'not_allowed_to_request',
      [h.everything()],
    );
    const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', carol);
    expect(mine.body.items.filter((item) => item.resourceId === 'prod-db')).toEqual([]);
  });

  it('lets only the requester, or an administrator with a reason, cancel: bob, who can see it, gets 403 not_requester', async () => {
    const { api } = running;
    const request = await create(api, alice, prodRead);
    expect((await api.get(`/v1/requests/${request.id}`, bob)).status).toBe(200);
    const state = [h.request(request.id), h.everything()];
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/cancel`, bob, { reason: 'not needed' }),
      403,
      'not_requester',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/cancel`, admin, {}),
      400,
      'reason_required',
      state,
    );

    const cancelled = await api.post<RequestView>(`/v1/requests/${request.id}/cancel`, alice, {});
    expect(cancelled.body.status).toBe('cancelled');
  });

  it('answers 409 illegal_transition for decisions on decided requests and for cancelling an approved one', async () => {
    const { api } = running;

    const denied = await create(api, alice, prodRead);
    const deny = await api.post<RequestView>(`/v1/requests/${denied.id}/deny`, bob, { comment: 'not today' });
    expect(deny.body.status).toBe('denied');
    let state = [h.request(denied.id), h.everything()];
    const onDenied = await h.refused(
      () => api.post(`/v1/requests/${denied.id}/approve`, bob, {}),
      409,
      'illegal_transition',
      state,
    );
    expect(onDenied.error.details).toEqual({ status: 'denied' });
    await h.refused(
      () => api.post(`/v1/requests/${denied.id}/cancel`, alice, {}),
      409,
      'illegal_transition',
      state,
    );

    const cancelled = await create(api, alice, prodRead);
    expect((await api.post(`/v1/requests/${cancelled.id}/cancel`, alice, {})).status).toBe(200);
    state = [h.request(cancelled.id), h.everything()];
    const onCancelled = await h.refused(
      () => api.post(`/v1/requests/${cancelled.id}/approve`, bob, {}),
      409,
      'illegal_transition',
      state,
    );
    expect(onCancelled.error.details).toEqual({ status: 'cancelled' });
    await h.refused(
      () => api.post(`/v1/requests/${cancelled.id}/deny`, bob, { comment: 'too late' }),
      409,
      'illegal_transition',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${cancelled.id}/cancel`, alice, {}),
      409,
      'illegal_transition',
      state,
    );

    const approved = await create(api, alice, prodRead);
    expect((await api.post<RequestView>(`/v1/requests/${approved.id}/approve`, bob, {})).body.status).toBe(
      'approved',
    );
    state = [h.request(approved.id), h.everything()];
    const onApproved = await h.refused(
      () => api.post(`/v1/requests/${approved.id}/approve`, bob, {}),
      409,
      'illegal_transition',
      state,
    );
    expect(onApproved.error.details).toEqual({ status: 'approved' });
    await h.refused(
      () => api.post(`/v1/requests/${approved.id}/cancel`, alice, {}),
      409,
      'illegal_transition',
      state,
    );
  });

  it("accepts cancel, approve and revoke without a body, as the contract's '–' and optional fields allow", async () => {
    const { api } = running;
    const toApprove = await create(api, dave, prodRead);
    const approve = await api.post<RequestView>(`/v1/requests/${toApprove.id}/approve`, bob);
    const toCancel = await create(api, dave, { ...prodRead, role: 'write', ticket: 'OPS-9' });
    const cancel = await api.post<RequestView>(`/v1/requests/${toCancel.id}/cancel`, dave);
    const grantId = await sandboxGrant(dave);
    const revoke = await api.post<GrantView>(`/v1/grants/${grantId}/revoke`, dave);
    expect([
      [approve.status, approve.body.status],
      [cancel.status, cancel.body.status],
      [revoke.status, revoke.body.endReason],
    ]).toEqual([
      [200, 'approved'],
      [200, 'cancelled'],
      [200, 'relinquished'],
    ]);
  });

  it('answers 409 illegal_transition for relinquishing or revoking a grant that has ended', async () => {
    const { api } = running;
    const relinquished = await sandboxGrant(alice);
    const first = await api.post<GrantView>(`/v1/grants/${relinquished}/revoke`, alice, {});
    expect(first.body).toMatchObject({ status: 'revoked', endReason: 'relinquished' });
    let state = [h.grant(relinquished), h.everything()];
    const again = await h.refused(
      () => api.post(`/v1/grants/${relinquished}/revoke`, alice, {}),
      409,
      'illegal_transition',
      state,
    );
    expect(again.error.details).toEqual({ status: 'revoked' });
    await h.refused(
      () => api.post(`/v1/grants/${relinquished}/revoke`, admin, {}),
      409,
      'illegal_transition',
      state,
    );

    const expired = await sandboxGrant(dave);
    await running.advance(60_000);
    expect((await api.get<GrantView>(`/v1/grants/${expired}`, dave)).body.status).toBe('expired');
    state = [h.grant(expired), h.everything()];
    const onExpired = await h.refused(
      () => api.post(`/v1/grants/${expired}/revoke`, dave, {}),
      409,
      'illegal_transition',
      state,
    );
    expect(onExpired.error.details).toEqual({ status: 'expired' });
    await h.refused(
      () => api.post(`/v1/grants/${expired}/extend`, dave, { durationSeconds: 60, reason: 'more' }),
      409,
      'illegal_transition',
      state,
    );
  });
});

let passwordHash: Promise<string> | null = null;
/** One scrypt hash per file: hashing takes ~100 ms. */
function passwordHashOnce(): Promise<string> {
  passwordHash ??= hashPassword('demo', TEST_PASSWORD_COST);
  return passwordHash;
}

/**
 * Team leads may request release tooling that team leads approve. bob and erin lead; only bob is on call,
 * so nobody else can approve `pager`; `break-glass` lets the on-call engineer approve themselves.
 */
async function selfApprovalPolicy(): Promise<Policy> {
  const hash = await passwordHashOnce();
  return parsePolicy({
    file: 'authorization.test.ts (self-approval policy)',
    env: {},
    text: `
version: 1
groups:
  team-leads: {}
  on-call: {}
  admins: {}
users:
  bob: { displayName: Bob Martin, passwordHash: "${hash}", groups: [team-leads, on-call] }
  erin: { displayName: Erin Sato, passwordHash: "${hash}", groups: [team-leads] }
  admin: { displayName: Timebox Admin, passwordHash: "${hash}", groups: [admins], admin: true }
resources:
  release:
    name: Release tooling
    kind: deploy-tool
    roles:
      deploy:
        requesters: [team-leads]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: { mode: any, approvers: { groups: [team-leads] } }
      pager:
        requesters: [on-call]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: { mode: any, approvers: { groups: [on-call] } }
      break-glass:
        requesters: [on-call]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: { mode: any, approvers: { groups: [on-call] } }
        allowSelfApproval: true
`,
  });
}

describe.each(DATABASES)('self-approval on %s', (kind) => {
  let running: RunningService;
  let h: Harness;
  let bob: string;
  let erin: string;

  beforeAll(async () => {
    running = await startService({ kind, policy: await selfApprovalPolicy() });
    const { api } = running;
    let admin: string;
    [bob, erin, admin] = await Promise.all([api.login('bob'), api.login('erin'), api.login('admin')]);
    h = new Harness(api, admin);
  });
  afterAll(async () => {
    await running.stop();
  });

  it('refuses to open a request only its requester could approve: 409 no_approver_available', async () => {
    const { api } = running;
    await h.refused(
      () =>
        api.post('/v1/requests', bob, {
          resourceId: 'release',
          role: 'pager',
          durationSeconds: 600,
          reason: 'x',
        }),
      409,
      'no_approver_available',
      [h.everything()],
    );
  });

  it('refuses a requester deciding their own request with 403 self_approval_forbidden', async () => {
    const { api } = running;
    const request = await create(api, bob, {
      resourceId: 'release',
      role: 'deploy',
      durationSeconds: 600,
      reason: 'ship 2.3',
    });
    expect(request).toMatchObject({ status: 'pending', waitingFor: ['erin'] });
    const state = [h.request(request.id), h.everything()];
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/approve`, bob, {}),
      403,
      'self_approval_forbidden',
      state,
    );
    await h.refused(
      () => api.post(`/v1/requests/${request.id}/deny`, bob, { comment: 'never mind' }),
      403,
      'self_approval_forbidden',
      state,
    );

    const approved = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, erin, {});
    expect(approved.body).toMatchObject({ status: 'approved', decisions: [{ approverId: 'erin' }] });
  });

  it('lets a requester approve their own request when the role has allowSelfApproval: true', async () => {
    const { api } = running;
    const request = await create(api, bob, {
      resourceId: 'release',
      role: 'break-glass',
      durationSeconds: 600,
      reason: 'outage',
    });
    expect(request).toMatchObject({ status: 'pending', waitingFor: ['bob'] });
    const approved = await api.post<RequestView>(`/v1/requests/${request.id}/approve`, bob, {
      comment: 'self',
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      decisions: [{ approverId: 'bob', decision: 'approve', comment: 'self' }],
    });
    const grant = await api.get<GrantView>(`/v1/grants/${approved.body.grantId ?? ''}`, bob);
    expect(grant.body).toMatchObject({ status: 'active', userId: 'bob' });
  });
});
