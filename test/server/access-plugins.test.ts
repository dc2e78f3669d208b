import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { TimeboxService } from '../../server/app.js';
import type { z } from 'zod';
import type { AuditEntryView, errorBody, GrantView, RequestView } from '../../api/schemas.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { FakeSeats } from '../support/fake-seats.js';
import type { Api } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { settle, startService } from '../support/service.js';

describe.each(DATABASES)('issuer plugins that make access outside the service, on %s', (kind) => {
  let service: TimeboxService | null = null;
  let database: TestDatabase | null = null;

  afterEach(async () => {
    await service?.close();
    await database?.drop();
    service = null;
    database = null;
  });

  /** Starts the service; `dataDir` keeps PGlite's data across a restart (PostgreSQL keeps its own). */
  async function start(seats: FakeSeats, clock: ManualClock, reuse?: TestDatabase, dataDir?: string) {
    database = reuse ?? (await createTestDatabase(kind));
    const started = await startService({
      kind,
      clock,
      database,
      ...(dataDir === undefined ? {} : { dataDir }),
      // The demo's CAD Studio is of kind "license": this plugin now hands out its seats.
      issuers: new Map([['license', () => seats]]),
    });
    service = started.service;
    return { api: started.api, running: started.service };
  }

  async function seatGrant(api: Api, token: string): Promise<GrantView> {
    const created = await api.post<RequestView>('/v1/requests', token, {
      resourceId: 'design-suite',
      role: 'seat',
      durationSeconds: 60,
      reason: '',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return (await api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, token)).body;
  }

  async function auditActions(api: Api): Promise<AuditEntryView[]> {
    const admin = await api.login('admin');
    return (await api.get<{ items: AuditEntryView[] }>('/v1/audit?limit=1000', admin)).body.items;
  }

  /** The service with the seat plugin, and a seat grant of alice's whose seat has been made. */
  async function aliceWithSeat() {
    const seats = new FakeSeats();
    const clock = new ManualClock();
    const { api, running } = await start(seats, clock);
    const alice = await api.login('alice');
    const grant = await seatGrant(api, alice);
    await settle(running);
    return { seats, clock, api, running, alice, grant };
  }

  it('provisions at activation, hands out its credential, and revokes when the grant ends', async () => {
    const { seats, clock, api, running, alice, grant } = await aliceWithSeat();
    expect(seats.seats.get(grant.id)?.toISOString()).toBe(grant.expiresAt);

    const credential = await api.get<{ kind: string; secret: unknown }>(
      `/v1/grants/${grant.id}/credential`,
      alice,
    );
    expect(credential.body).toMatchObject({ kind: 'seat', secret: { licenceKey: `key-for-${grant.id}` } });
    // Other kinds keep the built-in signed token.
    const sandbox = await api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 60,
      reason: '',
    });
    const token = await api.get<{ kind: string }>(
      `/v1/grants/${sandbox.body.grantId ?? ''}/credential`,
      alice,
    );
    expect(token.body.kind).toBe('token');

    clock.advance(60_000);
    await settle(running);
    expect(seats.seats.has(grant.id)).toBe(false);
    expect(seats.calls).toEqual([`provision ${grant.id}`, `revoke ${grant.id}`]);
    const actions = (await auditActions(api)).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['access.provisioned', 'access.revoked']));
  });

  it('revokes again when a provisioning finishes after its grant ended', async () => {
    const seats = new FakeSeats();
    const clock = new ManualClock();
    const { api, running } = await start(seats, clock);
    const alice = await api.login('alice');
    seats.holdNextProvision();
    const grant = await seatGrant(api, alice);
    // The grant ends while its seat is still being made: the revocation runs and finds nothing...
    expect((await api.post(`/v1/grants/${grant.id}/revoke`, alice, {})).status).toBe(200);
    // (settle() would wait for the held provisioning too.)
    const deadline = Date.now() + 10_000;
    while (!seats.calls.includes(`revoke ${grant.id}`) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seats.calls).toEqual([`provision ${grant.id}`, `revoke ${grant.id}`]);
    // ...then the provisioning completes and makes the seat: it is revoked once more.
    seats.release();
    await settle(running);
    expect(seats.calls).toEqual([`provision ${grant.id}`, `revoke ${grant.id}`, `revoke ${grant.id}`]);
    expect(seats.seats.size).toBe(0);
  });

  it.each(['succeeds', 'fails'] as const)(
    'starts a newer goal found while the outcome of an operation that %s is recorded',
    async (outcome) => {
      const { seats, api, running, alice, grant } = await aliceWithSeat();
      seats.holdNextRevoke();
      if (outcome === 'fails') seats.failNextRevoke();
      expect((await api.post(`/v1/grants/${grant.id}/revoke`, alice, {})).status).toBe(200);
      await untilHolding(seats);
      // A newer goal commits while the revocation runs, and no claim of its own follows: what an instance
      // leaves when its claim passed over the row (locked by a transaction recording an outcome) or when
      // it died right after the commit.
      await running.db.query(
        `UPDATE access_tasks SET version = version + 1, due_at = $2 WHERE grant_id = $1`,
        [grant.id, new Date(running.clock.now())],
      );
      seats.release();
      await settle(running);
      // The first revocation's outcome is not recorded over the newer goal; the newer goal runs at once.
      expect(seats.calls).toEqual([`provision ${grant.id}`, `revoke ${grant.id}`, `revoke ${grant.id}`]);
      const [task] = await running.db.query<{ due_at: Date | null }>(
        'SELECT due_at FROM access_tasks WHERE grant_id = $1',
        [grant.id],
      );
      expect(task?.due_at).toBeNull();
    },
  );

  async function untilHolding(seats: FakeSeats): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!seats.holding && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seats.holding).toBe(true);
  }

  it.each([
    [
      'is revoked',
      (api: Api, token: string, grant: GrantView) => api.post(`/v1/grants/${grant.id}/revoke`, token, {}),
    ],
    [
      'expires',
      async (_api: Api, _token: string, grant: GrantView, clock: ManualClock) => {
        clock.advanceTo(Date.parse(grant.expiresAt));
      },
    ],
  ] as const)(
    'never hands out a credential whose grant %s while it is being made, and revokes its access once more',
    async (_case, end) => {
      const { seats, api, running, alice, grant, clock } = await aliceWithSeat();
      seats.holdNextIssue();
      const fetching = api.get<z.output<typeof errorBody>>(`/v1/grants/${grant.id}/credential`, alice);
      await untilHolding(seats);
      await end(api, alice, grant, clock);
      // The end's own revocation is done before the credential is: otherwise the two revocations may
      // come together as one, which is right, but not the case this test is about.
      await settle(running);
      expect(seats.calls).toEqual([`provision ${grant.id}`, `revoke ${grant.id}`]);
      seats.release();
      const answer = await fetching;
      expect([answer.status, answer.body.error.code]).toEqual([410, 'grant_ended']);
      await settle(running);
      // Whatever the issuer made meanwhile is revoked again, and no fetch was recorded.
      expect(seats.calls).toEqual([`provision ${grant.id}`, `revoke ${grant.id}`, `revoke ${grant.id}`]);
      expect(seats.seats.size).toBe(0);
      const actions = (await auditActions(api)).map((entry) => entry.action);
      expect(actions).not.toContain('credential.fetched');

      // The next grant's credential is handed out and recorded as usual.
      clock.advance(1000);
      const next = await seatGrant(api, alice);
      expect((await api.get(`/v1/grants/${next.id}/credential`, alice)).status).toBe(200);
      expect((await auditActions(api)).filter((entry) => entry.action === 'credential.fetched')).toEqual([
        expect.objectContaining({ subjectId: next.id, actorId: 'alice' }),
      ]);
    },
  );

  it('retries with backoff while the outside system fails, audits the streak once, and catches up', async () => {
    const seats = new FakeSeats();
    const clock = new ManualClock();
    const { api, running } = await start(seats, clock);
    const alice = await api.login('alice');
    seats.failing = true;
    const grant = await seatGrant(api, alice);
    await settle(running);
    for (const wait of [1000, 2000, 4000]) {
      clock.advance(wait);
      await settle(running);
    }
    expect(seats.calls.filter((call) => call.startsWith('provision'))).toHaveLength(4);
    const failures = (await auditActions(api)).filter((entry) => entry.action === 'access.failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.data).toMatchObject({
      operation: 'provision',
      error: 'the licence server does not answer',
    });

    seats.failing = false;
    clock.advance(8000);
    await settle(running);
    expect(seats.seats.has(grant.id)).toBe(true);
    const provisioned = (await auditActions(api)).find((entry) => entry.action === 'access.provisioned');
    expect(provisioned?.data.attempts).toBe(5);
    expect(provisioned?.data.failingSince).toBe(new Date(clock.now() - 15_000).toISOString());
  });

  it('at start, revokes access without an active grant and restores access an active grant lost', async () => {
    const seats = new FakeSeats();
    const clock = new ManualClock();
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-plugins-'));
    onTestFinished(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });
    const first = await start(seats, clock, undefined, dataDir);
    const alice = await first.api.login('alice');
    const grant = await seatGrant(first.api, alice);
    await settle(first.running);
    const kept = database;
    await first.running.close();
    service = null;

    // While the service is away, the outside system loses the grant's seat and grows a stranger.
    seats.seats.delete(grant.id);
    seats.seats.set('grt_0000000000000000000s', new Date(clock.now()));
    await start(seats, clock, kept ?? undefined, dataDir);
    expect([...seats.seats.keys()], seats.calls.join('\n')).toEqual([grant.id]);
  });
});
