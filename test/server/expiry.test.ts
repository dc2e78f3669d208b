import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import type { Api } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, type RunningService } from '../support/service.js';

async function sandboxGrant(api: Api, token: string, durationSeconds: number): Promise<GrantView> {
  const created = await api.post<RequestView>('/v1/requests', token, {
    resourceId: 'sandbox',
    role: 'operator',
    durationSeconds,
    reason: 'expiry test',
  });
  expect(created.status).toBe(201);
  const grant = await api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, token);
  return grant.body;
}

/** Every deadline a grant brings: its expiry and each reminder lead (10 min, 1 min) shorter than it. */
function deadlinesOf(grant: GrantView): number[] {
  const expiresAt = Date.parse(grant.expiresAt);
  const length = expiresAt - Date.parse(grant.startsAt);
  return [expiresAt, ...[600_000, 60_000].filter((lead) => lead < length).map((lead) => expiresAt - lead)];
}

/** Metric value from the Prometheus text, e.g. `timebox_revocation_lag_seconds_count`. */
async function metric(api: Api, name: string): Promise<number> {
  const text = (await api.get<string>('/metrics')).body;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

describe.each(DATABASES)('the expiry engine on %s', (kind) => {
  let running: RunningService;
  let alice: string;

  beforeAll(async () => {
    running = await startService({ kind });
    alice = await running.api.login('alice');
  });
  afterAll(async () => {
    await running.stop();
  });

  it('revokes a grant at its expiresAt, not a moment before, and records the lag', async () => {
    const { api } = running;
    const lagCountBefore = await metric(api, 'timebox_revocation_lag_seconds_count');
    const grant = await sandboxGrant(api, alice, 60);
    await running.advance(59_999);
    expect((await api.get<GrantView>(`/v1/grants/${grant.id}`, alice)).body.status).toBe('active');
    await running.advance(1);
    const ended = (await api.get<GrantView>(`/v1/grants/${grant.id}`, alice)).body;
    expect(ended).toMatchObject({ status: 'expired', endReason: 'expired', endedAt: grant.expiresAt });
    expect(await metric(api, 'timebox_revocation_lag_seconds_count')).toBe(lagCountBefore + 1);
  });

  it('keeps one timer, armed at the nearest deadline, for any number of grants', async () => {
    const { api, clock, service } = running;
    expect(service.scheduler.nextWakeAt).toBeNull();
    const idleTimers = clock.pendingTimers; // the hourly housekeeping sweep
    const durations = [600, 45, 300, 90, 1200, 30, 3600, 75];
    const grants = await Promise.all(durations.map((seconds) => sandboxGrant(api, alice, seconds)));
    const nearest = Math.min(...grants.flatMap(deadlinesOf));
    expect(nearest).toBeLessThan(Math.min(...grants.map((grant) => Date.parse(grant.expiresAt)))); // a reminder
    expect(service.scheduler.nextWakeAt).toBe(nearest);
    expect(clock.pendingTimers).toBe(idleTimers + 1);

    // Walk to each deadline in turn: exactly the grants due by then have ended, each at its own expiry.
    for (const deadline of [...new Set(grants.map((grant) => Date.parse(grant.expiresAt)))].sort(
      (a, b) => a - b,
    )) {
      await running.advance(deadline - clock.now());
      const states = await Promise.all(
        grants.map((grant) => api.get<GrantView>(`/v1/grants/${grant.id}`, alice)),
      );
      for (const { body } of states) {
        const due = Date.parse(body.expiresAt) <= deadline;
        expect(body.status).toBe(due ? 'expired' : 'active');
        if (due) expect(body.endedAt).toBe(body.expiresAt);
      }
      expect(clock.pendingTimers).toBeLessThanOrEqual(idleTimers + 1);
    }
    expect(service.scheduler.nextWakeAt).toBeNull();
  });

  it('re-arms for an earlier deadline that arrives while it waits for a later one', async () => {
    const { api, service } = running;
    const late = await sandboxGrant(api, alice, 3000);
    expect(service.scheduler.nextWakeAt).toBe(Math.min(...deadlinesOf(late)));
    const early = await sandboxGrant(api, alice, 20);
    expect(service.scheduler.nextWakeAt).toBe(Date.parse(early.expiresAt));
    await running.advance(20_000);
    expect((await api.get<GrantView>(`/v1/grants/${early.id}`, alice)).body.status).toBe('expired');
    expect((await api.get<GrantView>(`/v1/grants/${late.id}`, alice)).body.status).toBe('active');
    await api.post(`/v1/grants/${late.id}/revoke`, alice, {});
  });
});

describe.each(DATABASES)('a restart on %s', (kind) => {
  let database: TestDatabase;
  let dataDir: string;
  let running: RunningService | null = null;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), 'timebox-restart-'));
  });
  afterEach(async () => {
    await running?.stop();
    running = null;
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (clock: ManualClock) =>
    startService({ kind, clock, database, ...(kind === 'pglite' ? { dataDir } : {}) });

  it('revokes at boot everything that went overdue while the service was down', async () => {
    const clock = new ManualClock();
    running = await start(clock);
    const alice = await running.api.login('alice');
    const short = await sandboxGrant(running.api, alice, 60);
    const long = await sandboxGrant(running.api, alice, 3600);
    await running.stop();
    running = null;

    clock.advance(10 * 60_000); // ten minutes with no service running
    running = await start(clock);
    // Revoked during start-up, before the service accepted its first request.
    const admin = await running.api.login('admin');
    const shortNow = (await running.api.get<GrantView>(`/v1/grants/${short.id}`, admin)).body;
    expect(shortNow).toMatchObject({ status: 'expired', endReason: 'expired' });
    expect(Date.parse(shortNow.endedAt ?? '')).toBe(clock.now());
    expect((await running.api.get<GrantView>(`/v1/grants/${long.id}`, admin)).body.status).toBe('active');
    const lag = await metric(running.api, 'timebox_revocation_lag_seconds_sum');
    expect(lag).toBeCloseTo(9 * 60, 3);
    // And the surviving grant still expires on time after the restart.
    await running.advance(Date.parse(long.expiresAt) - clock.now());
    expect((await running.api.get<GrantView>(`/v1/grants/${long.id}`, admin)).body.status).toBe('expired');
  });
});
