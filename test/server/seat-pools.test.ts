import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/passwords.js';
import { parsePolicy } from '../../server/config/load.js';
import { peakConcurrency } from '../../server/domain/seat-pools.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { SeatPoolReportView } from '../../api/admin-schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES, postgresAvailable, type TestDatabase } from '../support/databases.js';
import type { Api } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { settle, startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';

interface List<T> {
  readonly items: T[];
  readonly next: string | null;
}

interface Report {
  readonly from: string;
  readonly to: string;
  readonly items: SeatPoolReportView[];
}

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const PEOPLE = Array.from({ length: 12 }, (_, index) => `user${String(index + 1).padStart(2, '0')}`);
const SEATS = 3;

/** Twelve engineers and one tool with three seats, granted at once while a seat is free. */
async function poolPolicy(): Promise<Policy> {
  const hash = await hashPassword('demo', TEST_PASSWORD_COST);
  const users = PEOPLE.map(
    (name) => `  ${name}: { displayName: ${name}, passwordHash: "${hash}", groups: [engineers] }`,
  );
  return parsePolicy({
    file: 'seat-pools.test.ts',
    env: {},
    text: [
      'version: 1',
      // The clock moves by hours between one call and the next.
      'service: { idleTimeout: 8h }',
      'groups: { engineers: {}, admins: {} }',
      'users:',
      ...users,
      `  admin: { displayName: Admin, passwordHash: "${hash}", groups: [admins], admin: true }`,
      'resources:',
      '  cad:',
      '    name: CAD Studio',
      '    kind: license',
      '    roles:',
      '      seat:',
      '        requesters: [engineers]',
      '        duration: { min: 10s, default: 1h, max: 8h }',
      '        reasonRequired: false',
      '        approval: auto',
      `        seats: ${SEATS}`,
      '        pendingTimeout: 8h',
    ].join('\n'),
  });
}

async function ask(api: Api, token: string, durationSeconds: number): Promise<RequestView> {
  const response = await api.post<RequestView>('/v1/requests', token, {
    resourceId: 'cad',
    role: 'seat',
    durationSeconds,
    reason: '',
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

async function activeGrants(api: Api, admin: string): Promise<GrantView[]> {
  const response = await api.get<List<GrantView>>('/v1/grants?scope=all&status=active&limit=200', admin);
  expect(response.status).toBe(200);
  return response.body.items;
}

async function requestOf(api: Api, token: string, id: string): Promise<RequestView> {
  return (await api.get<RequestView>(`/v1/requests/${id}`, token)).body;
}

describe('peak concurrency', () => {
  it('counts a seat freed and taken at the same instant once', () => {
    expect(peakConcurrency([])).toBe(0);
    expect(
      peakConcurrency([
        { start: 0, end: 10 },
        { start: 10, end: 20 },
        { start: 5, end: 15 },
      ]),
    ).toBe(2);
    expect(
      peakConcurrency([
        { start: 0, end: 10 },
        { start: 1, end: 9 },
        { start: 2, end: 8 },
      ]),
    ).toBe(3);
  });
});

describe.each(DATABASES)('seat pools on %s', (kind) => {
  let policy: Policy;
  let running: RunningService;
  let tokens: Map<string, string>;
  let admin: string;

  beforeAll(async () => {
    policy = await poolPolicy();
  });
  afterEach(async () => {
    await running.stop();
  });

  async function start(): Promise<void> {
    running = await startService({ kind, policy });
    tokens = new Map(
      await Promise.all(PEOPLE.map(async (name) => [name, await running.api.login(name)] as const)),
    );
    admin = await running.api.login('admin');
  }
  const token = (name: string): string => tokens.get(name) ?? '';

  it('never has more grants than seats under a burst, and serves the line in order', async () => {
    await start();
    const { api } = running;
    const asked = await Promise.all(PEOPLE.map((name) => ask(api, token(name), 3600)));
    const approved = asked.filter((request) => request.status === 'approved');
    const queued = asked.filter((request) => request.status === 'queued');
    expect(approved).toHaveLength(SEATS);
    expect(queued).toHaveLength(PEOPLE.length - SEATS);
    expect(queued.map((request) => request.queuePosition).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: queued.length }, (_, index) => index + 1),
    );
    expect(await activeGrants(api, admin)).toHaveLength(SEATS);

    // Free seats one at a time: the first in line gets each, and the count never passes the seats.
    const line = [...queued].sort((a, b) => (a.queuePosition ?? 0) - (b.queuePosition ?? 0));
    for (const next of line) {
      const holder = (await activeGrants(api, admin))[0];
      if (!holder) throw new Error('a seat should be held');
      const freed = await api.post<GrantView>(
        `/v1/grants/${holder.id}/revoke`,
        tokens.get(holder.userId) ?? '',
        {},
      );
      expect(freed.status).toBe(200);
      const served = await requestOf(api, token(next.requesterId), next.id);
      expect(served, `${next.requesterId} was next in line`).toMatchObject({
        status: 'approved',
        queuePosition: null,
      });
      expect(await activeGrants(api, admin)).toHaveLength(SEATS);
      for (const waiting of line.slice(line.indexOf(next) + 1)) {
        expect((await requestOf(api, token(waiting.requesterId), waiting.id)).status).toBe('queued');
      }
    }
  });

  it('refuses a second request from someone in the line, who keeps their place', async () => {
    await start();
    const { api } = running;
    for (const name of PEOPLE.slice(0, SEATS)) await ask(api, token(name), 3600);
    const first = await ask(api, token('user04'), 3600);
    const second = await ask(api, token('user05'), 3600);
    expect([first.queuePosition, second.queuePosition]).toEqual([1, 2]);
    const entriesBefore = (await api.get<{ entries: number }>('/v1/audit/verify', admin)).body.entries;

    const again = await api.post<ErrorBody>('/v1/requests', token('user04'), {
      resourceId: 'cad',
      role: 'seat',
      durationSeconds: 600,
      reason: 'again',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('request_already_pending');
    expect(again.body.error.details).toEqual({ requestId: first.id });

    // Nothing was written: the line, the requests and the audit log are as they were.
    expect(await requestOf(api, token('user04'), first.id)).toMatchObject({
      status: 'queued',
      queuePosition: 1,
    });
    expect(await requestOf(api, token('user05'), second.id)).toMatchObject({
      status: 'queued',
      queuePosition: 2,
    });
    const mine = await api.get<List<RequestView>>('/v1/requests?scope=mine', token('user04'));
    expect(mine.body.items.map((request) => request.id)).toEqual([first.id]);
    expect((await api.get<{ entries: number }>('/v1/audit/verify', admin)).body.entries).toBe(entriesBefore);
  });

  it('reports peak and average use, time queued and what named seats would have left idle', async () => {
    await start();
    const { api, clock } = running;
    const began = clock.now();
    await ask(api, token('user01'), 3600); // 1 h
    await ask(api, token('user02'), 1800); // 30 min
    await ask(api, token('user03'), 3600);
    const waiting = await ask(api, token('user04'), 3600); // queued for 30 min, then 1 h
    expect(waiting.status).toBe('queued');
    await running.advance(30 * MINUTE);
    expect((await requestOf(api, token('user04'), waiting.id)).status).toBe('approved');
    // One expiry at a time, so each grant ends at its own expiry.
    for (let step = 0; step < 3; step++) await running.advance(30 * MINUTE);

    const report = await api.get<Report>(
      `/v1/seat-pools/utilization?from=${new Date(began).toISOString()}&to=${new Date(began + 2 * 60 * MINUTE).toISOString()}`,
      admin,
    );
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.items).toEqual([
      {
        resourceId: 'cad',
        role: 'seat',
        seats: SEATS,
        peakInUse: 3,
        // 1 + 0.5 + 1 + 1 seat-hours over 2 hours.
        averageInUse: 1.75,
        seatHoursUsed: 3.5,
        grants: 4,
        people: 4,
        queue: { requests: 1, totalWaitSeconds: 1800, averageWaitSeconds: 1800, longestWaitSeconds: 1800 },
        alwaysAssigned: { seats: 4, seatHours: 8, idleSeatHours: 4.5 },
      },
    ]);

    // A period that runs into the future counts up to now; the default period is the last 7 days.
    const open = await api.get<Report>(
      `/v1/seat-pools/utilization?from=${new Date(began + 60 * MINUTE).toISOString()}&to=${new Date(began + 10 * 60 * MINUTE).toISOString()}`,
      admin,
    );
    expect(open.body.items[0]).toMatchObject({ seatHoursUsed: 0.5, averageInUse: 0.5, peakInUse: 1 });
    const lastWeek = await api.get<Report>('/v1/seat-pools/utilization', admin);
    expect(lastWeek.status).toBe(200);
    expect(Date.parse(lastWeek.body.to)).toBe(clock.now());
    expect(Date.parse(lastWeek.body.to) - Date.parse(lastWeek.body.from)).toBe(7 * 24 * 60 * MINUTE);
    expect(lastWeek.body.items[0]?.seatHoursUsed).toBe(3.5);
  });

  it('refuses a report to non-administrators and for periods it cannot make, and makes the rest', async () => {
    await start();
    const { api } = running;
    const cases: [string, string, number, string][] = [
      ['/v1/seat-pools/utilization', token('user01'), 403, 'admin_only'],
      [
        '/v1/seat-pools/utilization?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z',
        admin,
        400,
        'invalid_period',
      ],
      [
        '/v1/seat-pools/utilization?from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z',
        admin,
        400,
        'invalid_period',
      ],
      [
        '/v1/seat-pools/utilization?from=2028-01-01T00:00:00Z&to=2030-01-01T00:00:00Z',
        admin,
        400,
        'invalid_period',
      ],
      ['/v1/seat-pools/utilization?from=2020-01-01T00:00:00Z', admin, 400, 'invalid_period'],
      ['/v1/seat-pools/utilization?from=yesterday', admin, 400, 'invalid_request'],
      // Found by the bench's hostile input: year 0 reached PostgreSQL, which refused it (a 500).
      ['/v1/seat-pools/utilization?to=0000-01-01T00:00:00Z', admin, 400, 'invalid_period'],
      [
        '/v1/seat-pools/utilization?from=1969-12-31T00:00:00Z&to=1970-01-02T00:00:00Z',
        admin,
        400,
        'invalid_period',
      ],
      ['/v1/seat-pools/utilization?to=9999-12-31T23:59:59Z', admin, 200, ''],
      ['/v1/seat-pools/utilization?to=2030-13-01T00:00:00Z', admin, 400, 'invalid_request'],
      ['/v1/seat-pools/utilization?pool=cad', admin, 400, 'unknown_field'],
      ['/v1/seat-pools/utilization', 'not-a-token', 401, 'invalid_token'],
    ];
    for (const [path, bearer, status, code] of cases) {
      const response = await api.get<ErrorBody>(path, bearer);
      expect(response.status, path).toBe(status);
      if (status !== 200) expect(response.body.error.code, path).toBe(code);
    }
  });
});

// Two services on one PostgreSQL share a pool: the seat count is one truth across them.
describe.runIf(postgresAvailable())('one seat pool shared by two instances', () => {
  const clock = new ManualClock();
  let policy: Policy;
  let database: TestDatabase;
  let instances: [RunningService, RunningService];

  beforeAll(async () => {
    policy = await poolPolicy();
    database = await createTestDatabase('postgres');
    instances = [
      await startService({ kind: 'postgres', clock, database, policy }),
      await startService({ kind: 'postgres', clock, database, policy }),
    ];
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await database.drop();
  });

  it('never grants more than the seats, whichever instance is asked or frees one', async () => {
    const [first, second] = instances;
    const logins = await Promise.all(
      PEOPLE.map(
        async (name, index) => [name, await (index % 2 === 0 ? first : second).api.login(name)] as const,
      ),
    );
    const tokens = new Map(logins);
    const admin = await first.api.login('admin');
    // Everyone asks at once, half of them on each instance, for different lengths of time.
    const asked = await Promise.all(
      PEOPLE.map((name, index) =>
        ask((index % 2 === 0 ? first : second).api, tokens.get(name) ?? '', 60 + index * 10),
      ),
    );
    expect(asked.filter((request) => request.status === 'approved')).toHaveLength(SEATS);
    expect(await activeGrants(first.api, admin)).toHaveLength(SEATS);

    // Move through every expiry; both schedulers race to end grants and hand the seats on.
    const served = new Set<string>();
    for (let step = 0; step < 40; step++) {
      clock.advance(30 * SECOND);
      await Promise.all(instances.map((instance) => settle(instance.service)));
      const active = await activeGrants(second.api, admin);
      expect(active.length).toBeLessThanOrEqual(SEATS);
      for (const grant of active) served.add(grant.requestId);
    }
    // Everyone got a seat exactly once, and nobody is left in line.
    const all = await first.api.get<List<RequestView>>('/v1/requests?scope=all&limit=200', admin);
    expect(all.body.items.filter((request) => request.status === 'approved')).toHaveLength(PEOPLE.length);
    const grants = await first.api.get<List<GrantView>>('/v1/grants?scope=all&limit=200', admin);
    expect(new Set(grants.body.items.map((grant) => grant.requestId)).size).toBe(PEOPLE.length);
    expect(grants.body.items).toHaveLength(PEOPLE.length);
    const report = await first.api.get<Report>('/v1/seat-pools/utilization', admin);
    expect(report.body.items[0]?.peakInUse).toBe(SEATS);
  });
});
