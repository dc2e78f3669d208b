import { afterEach, describe, expect, it } from 'vitest';
import type { RequestPreviewView, RequestView } from '../../api/schemas.js';
import { HoursCondition } from '../../server/policy/conditions/hours.js';
import {
  NetworksCondition,
  parseNetwork,
  type NetworkRange,
} from '../../server/policy/conditions/networks.js';
import type { Policy, Role } from '../../server/policy/types.js';
import { DATABASES } from '../support/databases.js';
import { ManualClock } from '../support/manual-clock.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: Record<string, unknown>;
  };
}

const officeHours = new HoursCondition({
  tz: 'Europe/Berlin',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  from: 8 * 60,
  to: 19 * 60,
});
const officeNetwork = new NetworksCondition([parseNetwork('10.0.0.0/8') as NetworkRange]);

/**
 * The demo organisation with conditions: sandbox/operator (granted at once) only in Berlin office hours,
 * else an administrator decides; prod-db/read only from 10.0.0.0/8, else refused; cloud-admin/administrator
 * (a chain) only in office hours, else refused, also when it is approved.
 */
async function organisationWithConditions(): Promise<Policy> {
  const demo = await demoOrganisation();
  const withConditions = (
    resourceId: string,
    roleName: string,
    patch: Pick<Role, 'conditions' | 'otherwise'>,
  ) => {
    const resource = demo.resources.get(resourceId);
    const role = resource?.roles.get(roleName);
    if (!resource || !role) throw new Error(`the demo organisation has ${resourceId}/${roleName}`);
    return { ...resource, roles: new Map(resource.roles).set(roleName, { ...role, ...patch }) };
  };
  return {
    ...demo,
    resources: new Map(demo.resources)
      .set(
        'sandbox',
        withConditions('sandbox', 'operator', { conditions: [officeHours], otherwise: 'approval' }),
      )
      .set('prod-db', withConditions('prod-db', 'read', { conditions: [officeNetwork], otherwise: 'refuse' }))
      .set(
        'cloud-admin',
        withConditions('cloud-admin', 'administrator', { conditions: [officeHours], otherwise: 'refuse' }),
      ),
  };
}

const SANDBOX = { resourceId: 'sandbox', role: 'operator', durationSeconds: 300, reason: '' };
const PROD_READ = { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: 'order 1234' };
const CLOUD_ADMIN = {
  resourceId: 'cloud-admin',
  role: 'administrator',
  durationSeconds: 3600,
  reason: 'rotate keys',
  ticket: 'INC-1',
};
/** Friday 27 March 2026, 18:30 in Berlin (winter time, UTC+1): half an hour before the office closes. */
const FRIDAY_EVENING = Date.parse('2026-03-27T17:30:00Z');
const MINUTE = 60_000;

describe.each(DATABASES)('role conditions over HTTP on %s', (kind) => {
  let running: RunningService;
  afterEach(async () => {
    await running.stop();
  });

  async function start(trustProxy?: readonly string[]) {
    running = await startService({
      kind,
      policy: await organisationWithConditions(),
      clock: new ManualClock(FRIDAY_EVENING),
      ...(trustProxy ? { trustProxy } : {}),
    });
    const [alice, dave, bob, admin] = await Promise.all(
      ['alice', 'dave', 'bob', 'admin'].map((user) => running.api.login(user)),
    );
    return { alice: alice ?? '', dave: dave ?? '', bob: bob ?? '', admin: admin ?? '' };
  }

  it('grants at once within the hours, and sends the same request to an administrator outside them', async () => {
    const { alice, dave, admin } = await start();
    const inside = await running.api.post<RequestView>('/v1/requests', alice, SANDBOX);
    expect(inside.status).toBe(201);
    expect(inside.body).toMatchObject({ status: 'approved', outsideConditions: [] });

    await running.advance(60 * MINUTE); // 19:30 in Berlin
    const preview = await running.api.post<RequestPreviewView>('/v1/requests/preview', dave, SANDBOX);
    const closed = 'Outside working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Fri 19:30 there.';
    expect(preview.body).toEqual({
      ok: true,
      problems: [],
      decision: 'approval',
      approval: {
        mode: 'any',
        stages: [
          { name: 'Administrators', count: 1, approvers: [{ id: 'admin', displayName: 'Timebox Admin' }] },
        ],
      },
      conditions: [{ name: 'hours', met: false, message: closed }],
    });
    const outside = await running.api.post<RequestView>('/v1/requests', dave, SANDBOX);
    expect(outside.status).toBe(201);
    expect(outside.body).toMatchObject({
      status: 'pending',
      waitingFor: ['admin'],
      outsideConditions: [closed],
    });
    const approved = await running.api.post<RequestView>(
      `/v1/requests/${outside.body.id}/approve`,
      admin,
      {},
    );
    expect(approved.body).toMatchObject({ status: 'approved' });
  });

  it('sends an extension asked for outside the hours to an administrator too', async () => {
    const { alice } = await start();
    const granted = await running.api.post<RequestView>('/v1/requests', alice, {
      ...SANDBOX,
      durationSeconds: 50 * 60, // to 19:20, leaving 10 minutes of the role's hour to extend by
    });
    expect(granted.body).toMatchObject({ status: 'approved' });
    await running.advance(40 * MINUTE); // 19:10 in Berlin
    const extension = await running.api.post<RequestView>(
      `/v1/grants/${granted.body.grantId ?? ''}/extend`,
      alice,
      {
        durationSeconds: 300,
        reason: '',
      },
    );
    expect(extension.status).toBe(202);
    expect(extension.body).toMatchObject({
      kind: 'extension',
      status: 'pending',
      waitingFor: ['admin'],
      outsideConditions: [
        'Outside working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Fri 19:10 there.',
      ],
    });
  });

  it('refuses a request from outside the networks, believing X-Forwarded-For only from a trusted proxy', async () => {
    const { alice, admin } = await start();
    // The test talks to the service from 127.0.0.1, which it does not trust: the header is a claim.
    const claimed = await running.api.post<ErrorBody>('/v1/requests', alice, PROD_READ, {
      'x-forwarded-for': '10.1.2.3',
    });
    expect(claimed.status).toBe(403);
    expect(claimed.body.error).toEqual({
      code: 'conditions_not_met',
      message:
        'prod-db/read cannot be requested now. From 127.0.0.1, outside the allowed networks (10.0.0.0/8): connect from the office or the VPN.',
      details: {
        conditions: [
          {
            name: 'networks',
            message:
              'From 127.0.0.1, outside the allowed networks (10.0.0.0/8): connect from the office or the VPN.',
          },
        ],
      },
    });
    const preview = await running.api.post<RequestPreviewView>('/v1/requests/preview', alice, PROD_READ);
    expect(preview.body).toMatchObject({
      ok: false,
      decision: 'refused',
      problems: [{ field: 'conditions', code: 'conditions_not_met', message: claimed.body.error.message }],
    });
    // Nothing was written.
    const all = await running.api.get<{ items: RequestView[] }>('/v1/requests?scope=all', admin);
    expect(all.body.items).toEqual([]);
  });

  it('honours X-Forwarded-For from a proxy named in trustProxy', async () => {
    const { alice, dave } = await start(['127.0.0.1']);
    const office = await running.api.post<RequestView>('/v1/requests', alice, PROD_READ, {
      'x-forwarded-for': '10.1.2.3',
    });
    expect(office.status).toBe(201);
    expect(office.body).toMatchObject({ status: 'pending', waitingFor: ['bob'] });
    const home = await running.api.post<ErrorBody>('/v1/requests', dave, PROD_READ, {
      'x-forwarded-for': '203.0.113.5',
    });
    expect(home.status).toBe(403);
    expect(home.body.error.message).toContain('From 203.0.113.5, outside the allowed networks');
  });

  it('refuses an approval once the hours have closed, and leaves the request waiting', async () => {
    const { alice, bob } = await start();
    await running.advance(20 * MINUTE); // 18:50 in Berlin
    const asked = await running.api.post<RequestView>('/v1/requests', alice, CLOUD_ADMIN);
    expect(asked.status).toBe(201);
    await running.advance(15 * MINUTE); // 19:05
    const late = await running.api.post<ErrorBody>(`/v1/requests/${asked.body.id}/approve`, bob, {});
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({
      code: 'conditions_not_met',
      message:
        'cloud-admin/administrator cannot be approved now. Outside working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Fri 19:05 there.',
    });
    const still = await running.api.get<RequestView>(`/v1/requests/${asked.body.id}`, alice);
    expect(still.body).toMatchObject({ status: 'pending', decisions: [] });
    // Outside the hours, a request is refused outright.
    const again = await running.api.post<ErrorBody>('/v1/requests', bob, CLOUD_ADMIN);
    expect(again.status).toBe(403);
  });
});
