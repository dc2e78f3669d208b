import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  RecommendationsView,
  RoleInsightView,
  RoleInsightsView,
  SeatSeriesView,
} from '../../api/insights-schemas.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A history played through the real API on the demo organisation, with the clock moved between steps, so
 * every figure below is known by hand. The seeded steps are in `seed`; each expectation says how it is
 * computed. percentile_cont interpolates: p at position p·(n−1) of the sorted values.
 */
describe.each(DATABASES)('insights on %s', (kind) => {
  let running: RunningService;
  let token: Map<string, string>;
  const marks = { start: 0, seats: 0, late: 0 };

  const as = (name: string): string => token.get(name) ?? '';

  async function ask(
    name: string,
    resourceId: string,
    role: string,
    durationSeconds: number,
    ticket?: string,
  ): Promise<RequestView> {
    const response = await running.api.post<RequestView>('/v1/requests', as(name), {
      resourceId,
      role,
      durationSeconds,
      reason: 'insights history',
      ...(ticket === undefined ? {} : { ticket }),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  async function decide(
    name: string,
    request: RequestView,
    decision: 'approve' | 'deny',
  ): Promise<RequestView> {
    const response = await running.api.post<RequestView>(
      `/v1/requests/${request.id}/${decision}`,
      as(name),
      decision === 'deny' ? { comment: 'not now' } : {},
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  async function fetchCredential(name: string, grantId: string | null): Promise<void> {
    const response = await running.api.get(`/v1/grants/${grantId ?? ''}/credential`, as(name));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  }

  async function relinquish(name: string, grantId: string | null): Promise<void> {
    const response = await running.api.post<GrantView>(`/v1/grants/${grantId ?? ''}/revoke`, as(name), {});
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.endReason).toBe('relinquished');
  }

  // The history spans more than a session's 8 hours: each part signs everyone in again.
  async function signIn(): Promise<void> {
    token = new Map(
      await Promise.all(
        ['alice', 'dave', 'bob', 'carol', 'admin'].map(
          async (name) => [name, await running.api.login(name)] as const,
        ),
      ),
    );
  }

  async function seed(): Promise<void> {
    const advance = (ms: number): Promise<void> => running.advance(ms);
    await signIn();
    marks.start = running.clock.now();
    // prod-db/read, bob decides: after 60 s, 120 s, 300 s (approved), 600 s (denied); one lapses.
    let request = await ask('alice', 'prod-db', 'read', 3600);
    await advance(60 * SECOND);
    request = await decide('bob', request, 'approve');
    await fetchCredential('alice', request.grantId);
    await advance(600 * SECOND);
    await relinquish('alice', request.grantId); // used 600 s, early

    request = await ask('alice', 'prod-db', 'read', 1800);
    await advance(120 * SECOND);
    await decide('bob', request, 'approve');
    await advance(1800 * SECOND); // expires unused: 1800 s, credential never fetched

    request = await ask('alice', 'prod-db', 'read', 3600);
    await advance(300 * SECOND);
    request = await decide('bob', request, 'approve');
    await fetchCredential('alice', request.grantId);
    await advance(1200 * SECOND);
    await relinquish('alice', request.grantId); // used 1200 s, early

    request = await ask('alice', 'prod-db', 'read', 7200);
    await advance(600 * SECOND);
    await decide('bob', request, 'deny');

    await ask('alice', 'prod-db', 'read', 3600);
    await advance(4 * HOUR + SECOND); // lapses after the role's 4 h pending timeout

    await signIn();
    // sandbox/operator, approved at once (default 5 m): five grants given back after 30 s, never fetched.
    for (let index = 0; index < 5; index++) {
      const granted = await ask('alice', 'sandbox', 'operator', 300);
      await advance(30 * SECOND);
      await relinquish('alice', granted.grantId);
    }

    await signIn();
    // prod-db/write: bob approves ten in a minute each, none denied; each used to its expiry.
    for (let index = 0; index < 10; index++) {
      request = await ask('alice', 'prod-db', 'write', 1800, `OPS-${index + 1}`);
      await advance(60 * SECOND);
      request = await decide('bob', request, 'approve');
      await fetchCredential('alice', request.grantId);
      await advance(1800 * SECOND);
    }

    await signIn();
    // prod-db/owner, a quorum of bob and carol: five that waited two hours each.
    for (let index = 0; index < 5; index++) {
      if (index === 2) await signIn();
      request = await ask('alice', 'prod-db', 'owner', 1800, `CHG-${index + 1}`);
      await advance(2 * HOUR);
      await decide('bob', request, 'approve');
      request = await decide('carol', request, 'approve');
      await fetchCredential('alice', request.grantId);
      await advance(1800 * SECOND);
    }

    await signIn();
    // design-suite/seat, two seats: alice and dave take them, bob queues until alice gives hers back.
    marks.seats = running.clock.now();
    const aliceSeat = await ask('alice', 'design-suite', 'seat', 3600);
    await ask('dave', 'design-suite', 'seat', 3600);
    const bobSeat = await ask('bob', 'design-suite', 'seat', 3600);
    expect(bobSeat.status).toBe('queued');
    await advance(30 * MINUTE);
    await relinquish('alice', aliceSeat.grantId); // bob's seat from 30 m to 90 m
    await advance(30 * MINUTE); // dave's ends
    await advance(30 * MINUTE); // bob's ends
    await advance(30 * MINUTE);

    await signIn();
    // A later day: one seat of two in use for 10 minutes, and dave asks for prod-db/read (left pending).
    await advance(1 * HOUR);
    marks.late = running.clock.now();
    await ask('alice', 'design-suite', 'seat', 600);
    await advance(10 * MINUTE);
    await ask('dave', 'prod-db', 'read', 1800);
  }

  beforeAll(async () => {
    running = await startService({ kind });
    await seed();
    await signIn();
  }, 120_000);
  afterAll(async () => {
    await running.stop();
  });

  const whole = (): string => `from=${iso(marks.start - HOUR)}&to=${iso(marks.start + 30 * DAY)}`;

  it('counts each role’s requests, decisions and use over a period, with hand-computed percentiles', async () => {
    const response = await running.api.get<RoleInsightsView>(`/v1/insights/roles?${whole()}`, as('admin'));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const expected: RoleInsightView[] = [
      {
        resourceId: 'design-suite',
        role: 'seat',
        requests: 4,
        approved: 4,
        denied: 0,
        auto: 4,
        lapsed: 0,
        decisionSeconds: { p50: null, p90: null },
        requestedSeconds: { p50: 3600 }, // 600, 3600, 3600, 3600
        usedSeconds: { p50: 2700 }, // 600, 1800, 3600, 3600: halfway between 1800 and 3600
        endedGrants: 4,
        endedEarly: 1,
        credentialNeverFetched: 4,
        loginNeverUsed: null,
      },
      {
        resourceId: 'prod-db',
        role: 'owner',
        requests: 5,
        approved: 5,
        denied: 0,
        auto: 0,
        lapsed: 0,
        decisionSeconds: { p50: 7200, p90: 7200 },
        requestedSeconds: { p50: 1800 },
        usedSeconds: { p50: 1800 },
        endedGrants: 5,
        endedEarly: 0,
        credentialNeverFetched: 0,
        loginNeverUsed: null,
      },
      {
        resourceId: 'prod-db',
        role: 'read',
        requests: 6,
        approved: 3,
        denied: 1,
        auto: 0,
        lapsed: 1,
        // 60, 120, 300, 600: p50 at 1.5 → 120 + 0.5·180 = 210; p90 at 2.7 → 300 + 0.7·300 = 510.
        decisionSeconds: { p50: 210, p90: 510 },
        requestedSeconds: { p50: 3600 }, // 1800, 1800, 3600, 3600, 3600, 7200
        usedSeconds: { p50: 1200 }, // 600, 1200, 1800
        endedGrants: 3,
        endedEarly: 2,
        credentialNeverFetched: 1,
        loginNeverUsed: null,
      },
      {
        resourceId: 'prod-db',
        role: 'write',
        requests: 10,
        approved: 10,
        denied: 0,
        auto: 0,
        lapsed: 0,
        decisionSeconds: { p50: 60, p90: 60 },
        requestedSeconds: { p50: 1800 },
        usedSeconds: { p50: 1800 },
        endedGrants: 10,
        endedEarly: 0,
        credentialNeverFetched: 0,
        loginNeverUsed: null,
      },
      {
        resourceId: 'sandbox',
        role: 'operator',
        requests: 5,
        approved: 5,
        denied: 0,
        auto: 5,
        lapsed: 0,
        decisionSeconds: { p50: null, p90: null },
        requestedSeconds: { p50: 300 },
        usedSeconds: { p50: 30 },
        endedGrants: 5,
        endedEarly: 5,
        credentialNeverFetched: 5,
        loginNeverUsed: null,
      },
    ];
    expect(response.body).toEqual({
      from: iso(marks.start - HOUR),
      to: iso(marks.start + 30 * DAY),
      items: expected,
    });

    // Only what was asked within the period counts: the later day holds alice's seat and dave's request.
    const late = await running.api.get<RoleInsightsView>(
      `/v1/insights/roles?from=${iso(marks.late)}&to=${iso(marks.late + DAY)}`,
      as('admin'),
    );
    expect(
      late.body.items.map((item) => [item.resourceId, item.role, item.requests, item.endedGrants]),
    ).toEqual([
      ['design-suite', 'seat', 1, 1],
      ['prod-db', 'read', 1, 0],
    ]);
  });

  it('recommends with the evidence: shorter defaults, approval at once, slow approvals, unused access, fewer seats', async () => {
    const response = await running.api.get<RecommendationsView>(
      `/v1/insights/recommendations?${whole()}`,
      as('admin'),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const period = { from: iso(marks.start - HOUR), to: iso(marks.start + 30 * DAY) };
    expect(response.body.items.map((item) => [item.kind, item.resourceId, item.role])).toEqual([
      ['slow_approvals', 'prod-db', 'owner'],
      ['auto_approve_candidate', 'prod-db', 'write'],
      ['shorten_duration', 'sandbox', 'operator'],
      ['never_used', 'sandbox', 'operator'],
    ]);
    const [slow, auto, shorten, unused] = response.body.items;
    expect(slow?.evidence).toEqual({
      ...period,
      decided: 5,
      decisionSecondsP50: 7200,
      decisionSecondsP90: 7200,
    });
    expect(slow?.message).toContain('2h');
    expect(auto?.evidence).toEqual({ ...period, approvedByPeople: 10, denied: 0, decisionSecondsP50: 60 });
    expect(shorten?.evidence).toEqual({
      ...period,
      defaultSeconds: 300,
      suggestedDefaultSeconds: 60,
      usedSecondsP50: 30,
      requestedSecondsP50: 300,
      endedGrants: 5,
      endedEarly: 5,
    });
    expect(shorten?.message).toBe(
      'Half the grants of sandbox/operator ended within 30s, yet its default is 5m: set the default to 1m.',
    );
    expect(unused?.evidence).toEqual({
      ...period,
      endedGrants: 5,
      credentialNeverFetched: 5,
      loginNeverUsed: null,
    });

    // The later day: one seat of two at most, nobody queued.
    const late = await running.api.get<RecommendationsView>(
      `/v1/insights/recommendations?from=${iso(marks.late)}&to=${iso(marks.late + DAY)}`,
      as('admin'),
    );
    expect(late.body.items).toEqual([
      {
        kind: 'fewer_seats',
        resourceId: 'design-suite',
        role: 'seat',
        message:
          'At most 1 of the 2 seats of design-suite/seat were in use at once, and nobody queued: drop 1 seat.',
        evidence: {
          from: iso(marks.late),
          to: iso(marks.late + DAY),
          seats: 2,
          peakInUse: 1,
          averageInUse: expect.any(Number) as number,
          seatsToDrop: 1,
        },
      },
    ]);
  });

  it('draws a seat pool over time: the most seats in use and requests in line in each step', async () => {
    const from = marks.seats;
    const response = await running.api.get<SeatSeriesView>(
      `/v1/insights/seats?pool=design-suite/seat&from=${iso(from)}&to=${iso(from + 2 * HOUR)}&step=900`,
      as('admin'),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({
      resourceId: 'design-suite',
      role: 'seat',
      total: 2,
      at: Array.from({ length: 9 }, (_, index) => iso(from + index * 15 * MINUTE)),
      // alice [0, 30 m), dave [0, 60 m), bob [30 m, 90 m); bob waited [0, 30 m).
      inUse: [2, 2, 2, 2, 1, 1, 0, 0, 0],
      queued: [1, 1, 0, 0, 0, 0, 0, 0, 0],
    });
    // The default step spreads the period over 200 points, never closer than a minute.
    const wide = await running.api.get<SeatSeriesView>(
      `/v1/insights/seats?pool=design-suite/seat&from=${iso(from)}&to=${iso(from + 2 * HOUR)}`,
      as('admin'),
    );
    expect(wide.body.at).toHaveLength(121);
    expect(Math.max(...wide.body.inUse)).toBe(2);
    // A step of a day (the one that has begun by now) still shows the seats held for an hour and bob's wait.
    const daily = await running.api.get<SeatSeriesView>(
      `/v1/insights/seats?pool=design-suite/seat&from=${iso(from - 12 * HOUR)}&to=${iso(from + 36 * HOUR)}&step=86400`,
      as('admin'),
    );
    expect(daily.body).toMatchObject({ at: [iso(from - 12 * HOUR)], inUse: [2], queued: [1] });
  });

  it('gives empty results for a period with nothing in it, never errors or NaN', async () => {
    const period = 'from=2020-01-01T00:00:00.000Z&to=2020-02-01T00:00:00.000Z';
    const roles = await running.api.get<RoleInsightsView>(`/v1/insights/roles?${period}`, as('admin'));
    expect(roles.body).toEqual({
      from: '2020-01-01T00:00:00.000Z',
      to: '2020-02-01T00:00:00.000Z',
      items: [],
    });
    const advice = await running.api.get<RecommendationsView>(
      `/v1/insights/recommendations?${period}`,
      as('admin'),
    );
    expect(advice.body.items).toEqual([]);
    const seats = await running.api.get<SeatSeriesView>(
      `/v1/insights/seats?pool=design-suite/seat&${period}&step=86400`,
      as('admin'),
    );
    expect(seats.status).toBe(200);
    expect(seats.body.inUse).toEqual(Array.from({ length: 32 }, () => 0));
    expect(seats.body.queued).toEqual(Array.from({ length: 32 }, () => 0));
  });

  it('refuses bad periods, unknown pools and bad steps with a reason', async () => {
    const admin = as('admin');
    const refused = async (path: string, status: number, code: string): Promise<void> => {
      const response = await running.api.get<ErrorBody>(path, admin);
      expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBe(status);
      expect(response.body.error.code, path).toBe(code);
      expect(response.body.error.message.length, path).toBeGreaterThan(10);
    };
    for (const route of [
      '/v1/insights/roles?',
      '/v1/insights/recommendations?',
      '/v1/insights/seats?pool=design-suite/seat&',
    ]) {
      await refused(`${route}from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z`, 400, 'invalid_period');
      await refused(`${route}from=2029-01-01T00:00:00Z&to=2030-02-06T00:00:00Z`, 400, 'invalid_period');
      await refused(`${route}from=yesterday`, 400, 'invalid_request');
      await refused(`${route}to=2030-13-01T00:00:00Z`, 400, 'invalid_request');
    }
    await refused('/v1/insights/roles?pool=design-suite/seat', 400, 'unknown_field');
    await refused('/v1/insights/seats?pool=nope/seat', 404, 'pool_not_found');
    await refused('/v1/insights/seats?pool=prod-db/read', 404, 'pool_not_found');
    await refused('/v1/insights/seats', 400, 'invalid_request');
    await refused('/v1/insights/seats?pool=design-suite/seat&step=30', 400, 'invalid_request');
    await refused(
      '/v1/insights/seats?pool=design-suite/seat&step=60&from=2029-01-01T00:00:00Z&to=2029-12-01T00:00:00Z',
      400,
      'too_many_points',
    );
  });

  it('answers 403 to everyone but administrators, and 401 without a session', async () => {
    for (const path of [
      '/v1/insights/roles',
      '/v1/insights/recommendations',
      '/v1/insights/seats?pool=design-suite/seat',
    ]) {
      for (const name of ['alice', 'bob', 'carol']) {
        const response = await running.api.get<ErrorBody>(path, as(name));
        expect(response.status, `${name} ${path}`).toBe(403);
        expect(response.body.error.code).toBe('admin_only');
      }
      expect((await running.api.get(path)).status).toBe(401);
    }
  });
});
