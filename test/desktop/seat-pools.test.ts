import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClockOffsetEstimator } from '../../api/clock-offset.js';
import { ServiceError } from '../../api/errors.js';
import { GrantClient } from '../../api/grant-client.js';
import { type GrantView, type RequestView } from '../../api/schemas.js';
import { seatPoolReports } from '../../api/admin-schemas.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, stopEveryone, type Person } from './harness.js';
import { ipcCaller } from './helpers.js';

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw new Error(`expected a ServiceError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a failure, got an answer');
}

describe.each(DATABASES)('seat-pool utilisation against the real service on %s', (kind) => {
  let running: RunningService;
  const people: Person[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    await stopEveryone(people, running);
  });

  /** The grant client as the desktop makes it, signed in as `username`. */
  async function clientAs(username: string): Promise<GrantClient> {
    const token = await running.api.login(username);
    return new GrantClient({
      baseUrl: () => running.url,
      token: () => token,
      fetch,
      clock: running.clock,
      offset: new ClockOffsetEstimator(),
      random: () => 0.5,
    });
  }

  async function seatFor(username: string): Promise<RequestView> {
    const token = await running.api.login(username);
    const answer = await running.api.post<RequestView>('/v1/requests', token, {
      resourceId: 'design-suite',
      role: 'seat',
      durationSeconds: 3600,
      reason: '',
    });
    expect(answer.status).toBe(201);
    return answer.body;
  }

  /**
   * An hour of CAD Studio's two seats: bob and carol take them; alice queues and gets bob's seat when he
   * gives it up half an hour in.
   */
  async function anHourOfSeats(): Promise<void> {
    const bob = await seatFor('bob');
    await seatFor('carol');
    const alice = await seatFor('alice');
    expect(alice).toMatchObject({ status: 'queued', queuePosition: 1 });
    await running.advance(HOUR / 2);
    const answer = await running.api.post<GrantView>(
      `/v1/grants/${bob.grantId ?? ''}/revoke`,
      await running.api.login('bob'),
      {},
    );
    expect(answer.status).toBe(200);
    await running.advance(HOUR / 4);
  }

  it('the grant client reads the report for a period, checked against the wire schema', async () => {
    const start = running.clock.now();
    await anHourOfSeats();
    const now = running.clock.now();
    const report = await (await clientAs('admin')).seatPoolUtilization(iso(start), iso(now));
    expect(report.from).toBe(iso(start));
    expect(report.to).toBe(iso(now));
    const cad = report.items.find((item) => item.resourceId === 'design-suite' && item.role === 'seat');
    expect(cad).toMatchObject({
      seats: 2,
      peakInUse: 2,
      grants: 3,
      people: 3,
      // bob half an hour, carol three quarters, alice a quarter (from when bob's seat passed to her)
      seatHoursUsed: 1.5,
      averageInUse: 2,
      queue: { requests: 1, totalWaitSeconds: 1800, averageWaitSeconds: 1800, longestWaitSeconds: 1800 },
      // One named seat for each of the three, the whole 45 minutes; half of that held by nobody.
      alwaysAssigned: { seats: 3, seatHours: 2.25, idleSeatHours: 0.75 },
    });
  });

  it('refuses, in the service’s sentences: someone who is not an administrator, and periods it cannot report', async () => {
    const now = running.clock.now();
    expect(
      await failure((await clientAs('alice')).seatPoolUtilization(iso(now - HOUR), iso(now))),
    ).toMatchObject({
      code: 'admin_only',
      status: 403,
      retryable: false,
      message: 'Only administrators may read seat-pool utilisation.',
    });
    const admin = await clientAs('admin');
    expect(await failure(admin.seatPoolUtilization(iso(now), iso(now - HOUR)))).toMatchObject({
      code: 'invalid_period',
      status: 400,
      message: 'The period must start before it ends: send a from earlier than to.',
    });
    expect(await failure(admin.seatPoolUtilization(iso(now - 367 * 24 * HOUR), iso(now)))).toMatchObject({
      code: 'invalid_period',
      status: 400,
      message: 'Ask for at most 366 days at a time; split a longer period into several reports.',
    });
    expect(await failure(admin.seatPoolUtilization('last week', iso(now)))).toMatchObject({
      code: 'invalid_request',
      status: 400,
    });
  });

  describe.runIf(keychainAvailable)('through the core and its IPC handlers', () => {
    function handlersOf(person: Person) {
      const call = ipcCaller(person.core, running.clock, 'the Licences view');
      return (args: unknown) => call('seatPoolUtilization', args);
    }

    it('asks for the period ending now on the service’s clock; a bad period never leaves the app', async () => {
      const admin = await desktopOf(running, { username: 'admin' });
      people.push(admin);
      await anHourOfSeats();
      const call = handlersOf(admin);
      const answer = await call({ period: '24h' });
      if (!answer.ok) throw new Error(answer.error.message);
      const report = seatPoolReports.parse(answer.value);
      expect(report.to).toBe(iso(running.clock.now()));
      expect(Date.parse(report.to) - Date.parse(report.from)).toBe(24 * HOUR);
      expect(report.items.map((item) => item.resourceId)).toContain('design-suite');
      const week = await call({ period: '7d' });
      if (!week.ok) throw new Error(week.error.message);
      expect(Date.parse(seatPoolReports.parse(week.value).from)).toBe(running.clock.now() - 7 * 24 * HOUR);

      for (const period of ['1y', '', 30, null])
        expect(await call({ period })).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    });

    it('tells someone who is not an administrator so, in a sentence', async () => {
      const alice = await desktopOf(running, { username: 'alice' });
      people.push(alice);
      expect(await handlersOf(alice)({ period: '30d' })).toEqual({
        ok: false,
        error: { code: 'admin_only', message: 'Only administrators may read seat-pool utilisation.' },
      });
    });
  });
});
