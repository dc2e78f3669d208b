import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { AuditEntryView, GrantView, RequestView } from '../../api/schemas.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/databases.js';
import { FakeSeats } from '../support/fake-seats.js';
import { ManualClock } from '../support/manual-clock.js';
import { demoOrganisation, settle, startService, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

/** Polls `ready` until it holds: for what crosses instances through PostgreSQL's NOTIFY. */
async function eventually(
  ready: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Without PostgreSQL (local runs only: in CI databases.ts fails the run instead) this suite does not apply.
describe.runIf(postgresAvailable())('two instances on one PostgreSQL', () => {
  const clock = new ManualClock();
  let database: TestDatabase;
  let first: RunningService;
  let second: RunningService;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    first = await startService({ kind: 'postgres', clock, database });
    second = await startService({ kind: 'postgres', clock, database });
  });
  afterAll(async () => {
    await first.stop();
    await second.stop();
    await database.drop();
  });

  it('ends every grant exactly once while both schedulers race for it', async () => {
    const tokens = await Promise.all([first.api.login('alice'), second.api.login('dave')]);
    const instances = [first, second] as const;
    const grants: GrantView[] = [];
    for (let index = 0; index < 40; index++) {
      const side = index % 2;
      const running = instances[side];
      const token = tokens[side];
      if (!running || token === undefined) throw new Error('two instances expected');
      const created = await running.api.post<RequestView>('/v1/requests', token, {
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 10 + (index % 5) * 10,
        reason: 'race',
      });
      expect(created.status).toBe(201);
      grants.push((await running.api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, token)).body);
    }
    const lastExpiry = Math.max(...grants.map((grant) => Date.parse(grant.expiresAt)));
    // Both instances wake at the same instants and compete for the same rows.
    clock.advanceTo(lastExpiry);
    const admin = await first.api.login('admin');
    await eventually(async () => {
      clock.advance(100); // lets a scheduler that found rows locked by the other look again
      await Promise.all([first.service.scheduler.settled(), second.service.scheduler.settled()]);
      const active = await first.api.get<{ items: GrantView[] }>('/v1/grants?scope=all&status=active', admin);
      return active.body.items.length === 0;
    }, 'every grant has ended');

    const entries: AuditEntryView[] = [];
    for (let after = 0; ;) {
      const page = await first.api.get<{ items: AuditEntryView[]; next: string | null }>(
        `/v1/audit?after=${after}&limit=1000`,
        admin,
      );
      entries.push(...page.body.items);
      if (page.body.next === null) break;
      after = Number(page.body.next);
    }
    // Each instance counts the grants it ended itself: together, each grant once.
    const endedBy = async (running: RunningService): Promise<number> => {
      const text = (await running.api.get<string>('/metrics')).body;
      const line = text
        .split('\n')
        .find((candidate) => candidate.startsWith('timebox_grants_ended_total{reason="expired"}'));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    expect((await endedBy(first)) + (await endedBy(second))).toBe(grants.length);
    const expiries = entries
      .filter((entry) => entry.action === 'grant.expired')
      .map((entry) => entry.subjectId);
    expect(expiries.sort()).toEqual(grants.map((grant) => grant.id).sort());
    expect((await second.api.get('/v1/audit/verify', admin)).body).toEqual({
      ok: true,
      entries: entries.length,
    });

    // Each owner heard of each ending once: replay their whole stream from the start.
    for (const [index, running] of instances.entries()) {
      const token = tokens[index] ?? '';
      const stream = await EventStream.open(running.url, token, '0');
      const owned = grants.filter((grant) => grant.userId === (index === 0 ? 'alice' : 'dave'));
      await stream.until(() => stream.of('grant.ended').length >= owned.length, 'every grant.ended');
      const ended = stream.of('grant.ended').map((event) => (JSON.parse(event.data) as GrantView).id);
      expect(ended.sort()).toEqual(owned.map((grant) => grant.id).sort());
      const ids = stream.events.map((event) => Number(event.id));
      expect(ids).toEqual(ids.map((_, position) => position + 1)); // gapless, in order
      stream.close();
    }
  });

  it('delivers an event raised on one instance to a stream held by the other', async () => {
    const alice = await first.api.login('alice');
    const bob = await second.api.login('bob');
    const bobOnSecond = await EventStream.open(second.url, bob);
    const aliceOnFirst = await EventStream.open(first.url, alice);
    try {
      const created = await first.api.post<RequestView>('/v1/requests', alice, {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 600,
        reason: 'cross-instance',
      });
      expect(created.status).toBe(201);
      await bobOnSecond.next('approval.needed', (data) => (data as RequestView).id === created.body.id);
      const approved = await second.api.post<RequestView>(`/v1/requests/${created.body.id}/approve`, bob, {});
      expect(approved.body.status).toBe('approved');
      await aliceOnFirst.next('grant.activated', (data) => (data as GrantView).requestId === created.body.id);
    } finally {
      bobOnSecond.close();
      aliceOnFirst.close();
    }
  });

  it('expires a grant made on one instance when only the other is scheduling', async () => {
    const alice = await first.api.login('alice');
    const created = await first.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 30,
      reason: 'handover',
    });
    const grant = (await first.api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, alice)).body;
    const expiresAt = Date.parse(grant.expiresAt);
    await eventually(
      () => (second.service.scheduler.nextWakeAt ?? Infinity) <= expiresAt,
      'the second instance heard the deadline',
    );
    await first.service.scheduler.stop();
    clock.advanceTo(expiresAt);
    await second.service.scheduler.settled();
    expect((await second.api.get<GrantView>(`/v1/grants/${grant.id}`, alice)).body).toMatchObject({
      status: 'expired',
      endedAt: grant.expiresAt,
    });
  });
});

describe.runIf(postgresAvailable())('sessions that end, two instances on one PostgreSQL', () => {
  let database: TestDatabase;
  let first: RunningService;
  let second: RunningService | null = null;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    first = await startService({ kind: 'postgres', database });
  });
  afterAll(async () => {
    await first.stop();
    await second?.stop();
    await database.drop();
  });

  it('ends a stream held by one instance when its session signs out, or is ended, on the other', async () => {
    second = await startService({ kind: 'postgres', database, clock: first.clock });
    const signedOut = await first.api.login('alice');
    const endedByAdmin = await first.api.login('bob');
    const admin = await second.api.login('admin');
    const streams = [
      await EventStream.open(first.url, signedOut),
      await EventStream.open(first.url, endedByAdmin),
    ];
    onTestFinished(() => {
      for (const stream of streams) stream.close();
    });
    expect((await second.api.post('/v1/auth/logout', signedOut)).status).toBe(204);
    const [bobSession] = (await second.api.get<{ items: { id: string }[] }>('/v1/sessions?userId=bob', admin))
      .body.items;
    expect((await second.api.post(`/v1/sessions/${bobSession?.id ?? ''}/end`, admin)).status).toBe(204);
    for (const stream of streams) await stream.until(() => stream.isEnded, 'the stream to end', 5000);
  });

  it('answers introspection on either instance for a token the other issued, with no public URL set', async () => {
    second ??= await startService({ kind: 'postgres', database, clock: first.clock });
    const serverToken = 'rs-two-instances-0f3c9a7b1e5d4c2a8b6e';
    const demo = await demoOrganisation();
    const policy = {
      ...demo,
      resourceServers: new Map([
        [
          createHash('sha256').update(serverToken).digest('hex'),
          { id: 'sandbox-api', resources: new Set(['sandbox']) },
        ],
      ]),
    };
    // Two instances listening on two ports: each signs with its own listening address as `iss`.
    const issuing = await startService({ kind: 'postgres', database, clock: first.clock, policy });
    const asking = await startService({ kind: 'postgres', database, clock: first.clock, policy });
    onTestFinished(async () => {
      await issuing.stop();
      await asking.stop();
    });
    const alice = await issuing.api.login('alice');
    const created = await issuing.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
    });
    const credential = await issuing.api.get<{ secret: { token: string } }>(
      `/v1/grants/${created.body.grantId ?? ''}/credential`,
      alice,
    );
    const answer = await asking.api.call<{ active: boolean; iss?: string }>(
      'POST',
      '/v1/credentials/introspect',
      { token: serverToken, body: { token: credential.body.secret.token } },
    );
    expect(answer.body).toMatchObject({ active: true, iss: issuing.url });
  });

  it('offboards: a new instance whose policy no longer names a person ends their streams on the other', async () => {
    const dave = await first.api.login('dave');
    const alice = await first.api.login('alice');
    const daveStream = await EventStream.open(first.url, dave);
    const aliceStream = await EventStream.open(first.url, alice);
    onTestFinished(() => {
      daveStream.close();
      aliceStream.close();
    });
    const demo = await demoOrganisation();
    const withoutDave = { ...demo, users: new Map([...demo.users].filter(([id]) => id !== 'dave')) };
    await second?.stop();
    second = await startService({ kind: 'postgres', database, clock: first.clock, policy: withoutDave });
    await daveStream.until(() => daveStream.isEnded, "dave's stream to end", 5000);
    expect(aliceStream.isEnded).toBe(false);
    expect((await first.api.get<{ error: { code: string } }>('/v1/me', dave)).body.error.code).toBe(
      'token_revoked',
    );
  });
});

describe.runIf(postgresAvailable())('access outside the service, two instances on one PostgreSQL', () => {
  // AccessTasks' lease: how long a claimed operation is left to the instance that claimed it.
  const LEASE_MS = 60_000;

  it.each(['before it claims it', 'while it carries it out'] as const)(
    'takes over a revocation from an instance that dies %s',
    async (when) => {
      const clock = new ManualClock();
      const database = await createTestDatabase('postgres');
      const seatsOfFirst = new FakeSeats();
      const seatsOfSecond = new FakeSeats();
      const first = await startService({
        kind: 'postgres',
        clock,
        database,
        issuers: new Map([['license', () => seatsOfFirst]]),
      });
      const second = await startService({
        kind: 'postgres',
        clock,
        database,
        issuers: new Map([['license', () => seatsOfSecond]]),
      });
      onTestFinished(async () => {
        seatsOfFirst.release();
        await first.stop();
        await second.stop();
        await database.drop();
      });
      const alice = await first.api.login('alice');
      // Two hours: no expiry or reminder wakes the second instance within the lease.
      const created = await first.api.post<RequestView>('/v1/requests', alice, {
        resourceId: 'design-suite',
        role: 'seat',
        durationSeconds: 7200,
        reason: '',
      });
      const grantId = created.body.grantId ?? '';
      await settle(first.service);
      expect(seatsOfFirst.calls).toEqual([`provision ${grantId}`]);

      if (when === 'before it claims it') {
        // The first instance commits the grant's end and its revocation, then runs nothing more.
        await first.service.scheduler.stop();
        await first.service.access.stop();
        expect((await first.api.post(`/v1/grants/${grantId}/revoke`, alice, {})).status).toBe(200);
      } else {
        // The first instance claims the revocation and dies while the outside system has it.
        seatsOfFirst.holdNextRevoke();
        expect((await first.api.post(`/v1/grants/${grantId}/revoke`, alice, {})).status).toBe(200);
        await eventually(() => seatsOfFirst.holding, 'the first instance is revoking');
        await first.service.scheduler.stop();
      }
      const leaseEnds = clock.now() + LEASE_MS;
      await eventually(
        () => (second.service.scheduler.nextWakeAt ?? Infinity) <= leaseEnds,
        'the second instance was told to look again when the lease runs out',
      );
      expect(seatsOfSecond.calls).toEqual([]);

      clock.advanceTo(leaseEnds);
      await settle(second.service);
      expect(seatsOfSecond.calls).toEqual([`revoke ${grantId}`]);
      const [task] = await second.service.db.query<{ due_at: Date | null }>(
        'SELECT due_at FROM access_tasks WHERE grant_id = $1',
        [grantId],
      );
      expect(task?.due_at).toBeNull();
    },
  );
});
