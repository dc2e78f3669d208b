import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryView, RequestPreviewView, RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';

interface List<T> {
  readonly items: T[];
}

const PROD_READ = {
  resourceId: 'prod-db',
  role: 'read',
  durationSeconds: 3600,
  reason: 'investigate order 1234',
};
const CLOUD_ADMIN = {
  resourceId: 'cloud-admin',
  role: 'administrator',
  durationSeconds: 3600,
  reason: 'rotate the root keys',
  ticket: 'INC-42',
};

describe.each(DATABASES)('POST /v1/requests/preview on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let dave: string;
  let bob: string;
  let admin: string;

  beforeAll(async () => {
    running = await startService({ kind });
    [alice, dave, bob, admin] = (await Promise.all(
      ['alice', 'dave', 'bob', 'admin'].map((user) => running.api.login(user)),
    )) as [string, string, string, string];
  });
  afterAll(async () => {
    await running.stop();
  });

  async function preview(token: string, body: unknown): Promise<RequestPreviewView> {
    const response = await running.api.post<RequestPreviewView>('/v1/requests/preview', token, body);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  it('says a request would be granted at once by an auto role', async () => {
    expect(
      await preview(alice, { resourceId: 'sandbox', role: 'operator', durationSeconds: 300, reason: '' }),
    ).toEqual({ ok: true, problems: [], decision: 'auto', approval: null, conditions: [] });
  });

  it('names who decides in which stage, the requester left out', async () => {
    expect(await preview(alice, CLOUD_ADMIN)).toEqual({
      ok: true,
      problems: [],
      decision: 'approval',
      approval: {
        mode: 'chain',
        stages: [
          { name: 'Team lead', count: 1, approvers: [{ id: 'bob', displayName: 'Bob Martin' }] },
          { name: 'Security', count: 1, approvers: [{ id: 'carol', displayName: 'Carol Diaz' }] },
        ],
      },
      conditions: [],
    });
  });

  it('lists every problem of the input at once, with the field and the code the request would get', async () => {
    const result = await preview(alice, {
      ...CLOUD_ADMIN,
      durationSeconds: 60,
      reason: ' ',
      ticket: 'JIRA-1',
    });
    expect(result.ok).toBe(false);
    expect(result.decision).toBe('refused');
    expect(result.problems).toEqual([
      {
        field: 'durationSeconds',
        code: 'duration_out_of_range',
        message: 'Choose a duration between 5m and 4h for cloud-admin/administrator.',
      },
      {
        field: 'reason',
        code: 'reason_required',
        message: 'Give a reason: cloud-admin/administrator requires one.',
      },
      {
        field: 'ticket',
        code: 'ticket_invalid',
        message: 'The ticket "JIRA-1" does not match the pattern (INC|CHG)-[0-9]+.',
      },
    ]);
    // Who would decide is still told: the person can fix the input and knows what follows.
    expect(result.approval?.stages.map((stage) => stage.name)).toEqual(['Team lead', 'Security']);

    // The request itself answers the first of them.
    const sent = await running.api.post<{ error: { code: string } }>('/v1/requests', alice, {
      ...CLOUD_ADMIN,
      durationSeconds: 60,
      reason: ' ',
      ticket: 'JIRA-1',
    });
    expect(sent.status).toBe(400);
    expect(sent.body.error.code).toBe('duration_out_of_range');
  });

  it('refuses an unknown resource or role, and a role the person may not request, as problems', async () => {
    expect(await preview(alice, { ...PROD_READ, resourceId: 'nope' })).toEqual({
      ok: false,
      problems: [
        {
          field: 'resourceId',
          code: 'unknown_resource',
          message: 'There is no resource "nope"; GET /v1/resources lists them.',
        },
      ],
      decision: 'refused',
      approval: null,
      conditions: [],
    });
    expect((await preview(alice, { ...PROD_READ, role: 'nope' })).problems).toEqual([
      {
        field: 'role',
        code: 'unknown_role',
        message: 'Production database (orders) has no role "nope"; it has read, write, owner.',
      },
    ]);
    expect((await preview(bob, PROD_READ)).problems).toEqual([
      {
        field: 'role',
        code: 'not_allowed_to_request',
        message: 'Only members of engineers may request prod-db/read.',
      },
    ]);
  });

  it("tells of the person's open request for the role, and only theirs", async () => {
    const sent = await running.api.post<RequestView>('/v1/requests', dave, PROD_READ);
    expect(sent.status).toBe(201);
    const result = await preview(dave, PROD_READ);
    expect(result).toMatchObject({ ok: false, decision: 'refused' });
    expect(result.problems).toEqual([
      {
        field: 'role',
        code: 'request_already_pending',
        message: `You already have request ${sent.body.id} open for prod-db/read; cancel it or wait for its decision.`,
      },
    ]);
    expect((await preview(alice, PROD_READ)).ok).toBe(true);
    await running.api.post(`/v1/requests/${sent.body.id}/cancel`, dave);
    expect((await preview(dave, PROD_READ)).ok).toBe(true);
  });

  it('changes nothing: no request, no audit entry, whatever it is asked', async () => {
    const before = await running.api.get<List<RequestView>>('/v1/requests?scope=all', admin);
    const auditBefore = await running.api.get<List<AuditEntryView>>('/v1/audit?limit=1000', admin);
    await preview(alice, { resourceId: 'sandbox', role: 'operator', durationSeconds: 300, reason: '' });
    await preview(alice, CLOUD_ADMIN);
    const after = await running.api.get<List<RequestView>>('/v1/requests?scope=all', admin);
    const auditAfter = await running.api.get<List<AuditEntryView>>('/v1/audit?limit=1000', admin);
    expect(after.body.items).toEqual(before.body.items);
    expect(auditAfter.body.items).toEqual(auditBefore.body.items);
  });

  it('answers a malformed body 400 and an anonymous caller 401, as POST /v1/requests does', async () => {
    const unknownField = await running.api.post<{ error: { code: string } }>('/v1/requests/preview', alice, {
      ...PROD_READ,
      colour: 'red',
    });
    expect(unknownField.status).toBe(400);
    const noDuration = await running.api.post('/v1/requests/preview', alice, {
      resourceId: 'prod-db',
      role: 'read',
    });
    expect(noDuration.status).toBe(400);
    const anonymous = await running.api.post('/v1/requests/preview', undefined, PROD_READ);
    expect(anonymous.status).toBe(401);
  });
});
