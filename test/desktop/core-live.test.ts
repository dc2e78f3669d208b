import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trayModel } from '../../main/core/tray-model.js';
import type { AppState } from '../../preload/contract.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, type RunningService } from '../support/service.js';
import {
  desktopOf,
  startServiceAt,
  stopEveryone,
  tappedFetch,
  untilLive,
  type Person,
  type RestartableService,
} from './harness.js';
import { until } from './helpers.js';

if (!keychainAvailable) console.warn('core-live.test.ts does not run here: it needs the real OS keychain.');

const pathOf = (input: Parameters<typeof fetch>[0]) =>
  new URL(input instanceof Request ? input.url : String(input)).pathname;

describe.runIf(keychainAvailable).each(DATABASES)('live updates on %s', (kind) => {
  let database: TestDatabase;
  let dataDir: string;
  let clock: ManualClock;
  let running: RestartableService;
  const people: Person[] = [];

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), 'timebox-desktop-live-'));
    clock = new ManualClock();
    running = await startServiceAt({ kind, clock, database, dataDir, port: 0 });
  });
  afterEach(async () => {
    await stopEveryone(people, running);
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reconnects with backoff, polls while the service is away, and resyncs fully when it is back', async () => {
    const paths: string[] = [];
    const resumedFrom: (string | null)[] = [];
    const tap = tappedFetch();
    const counting: typeof fetch = (input, init) => {
      paths.push(pathOf(input));
      if (pathOf(input) === '/v1/events') resumedFrom.push(new Headers(init?.headers).get('last-event-id'));
      return tap.fetch(input, init);
    };
    const alice = await desktopOf(running, { username: 'alice', fetch: counting });
    people.push(alice);
    const statuses: AppState['connection'][] = [];
    alice.core.store.subscribe((update) => {
      if (update.kind === 'change' && update.changes.connection) statuses.push(update.changes.connection);
    });
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 1800,
      reason: 'while the service restarts',
    });
    // Alice's stream has delivered an event (her request's), so she has a place to resume from.
    await until(() => /^id: \d+$/m.test(tap.received()), 'a first event on alice’s stream');

    await running.stop();
    await until(() => alice.core.store.state.connection.status === 'connecting', 'connecting');
    const connecting = alice.core.store.state.connection;
    expect(connecting.retryAt).toBeGreaterThan(clock.now());
    expect(connecting.message).toMatch(/\S/);

    // Each failed attempt waits longer (full jitter is pinned at 0.5 here); after two, it polls as well.
    await until(() => alice.core.store.state.connection.status === 'polling', 'polling', {
      nudge: () => {
        clock.advance(500);
      },
    });
    for (let step = 0; step < 8; step++) {
      const { retryAt } = alice.core.store.state.connection;
      clock.advance(Math.max(1, (retryAt ?? clock.now() + 1000) - clock.now()));
      await until(
        () => statuses.filter((status) => status.retryAt !== null).length > step + 1,
        'the next failed attempt',
        {
          nudge: () => {
            clock.advance(500);
          },
        },
      );
    }
    const away = statuses.filter((status) => status.status !== 'live' && status.status !== 'idle');
    expect(
      away.every(
        (status) =>
          status.status === 'connecting' || status.status === 'polling' || status.status === 'offline',
      ),
    ).toBe(true);
    expect(away.some((status) => status.status === 'polling' || status.status === 'offline')).toBe(true);
    // Each report of a failure (it has a message) says when the app tries next; between them, an attempt is
    // under way (no message, no retryAt).
    for (const status of away)
      expect(status.message === null || status.retryAt !== null, JSON.stringify(status)).toBe(true);
    expect(away.filter((status) => status.message !== null).length).toBeGreaterThan(3);
    const delays = statuses.flatMap((status, index) =>
      status.retryAt === null ? [] : [{ index, retryAt: status.retryAt }],
    );
    expect(delays.length).toBeGreaterThan(3);
    expect(alice.core.store.state.session.status).toBe('signed-in'); // an outage is not a sign-out

    // The service comes back on the same data and port; bob decides meanwhile, before alice reconnects.
    running = await startServiceAt({ kind, clock, database, dataDir, port: running.port });
    const bob = await running.api.login('bob');
    const approved = await running.api.post<{ grantId: string }>(
      `/v1/requests/${request.id}/approve`,
      bob,
      {},
    );
    expect(approved.status).toBe(200);
    const resyncsBefore = paths.filter((path) => path === '/v1/resources').length;
    const attemptsBefore = resumedFrom.length;
    await untilLive(running, alice);
    // It resumed where it left off.
    expect(resumedFrom.slice(attemptsBefore).at(-1)).toMatch(/^\d+$/);
    await until(
      () => alice.grant(approved.body.grantId)?.credential === 'stored',
      'the missed grant, stored',
    );
    expect(alice.core.store.state.requests.find((item) => item.id === request.id)?.status).toBe('approved');
    expect(paths.filter((path) => path === '/v1/resources').length).toBeGreaterThan(resyncsBefore);
    expect(alice.core.store.state.connection).toEqual({ status: 'live', retryAt: null, message: null });
    // The missed grant.activated is replayed from Last-Event-ID: alice is told, once.
    await until(() => alice.of('activated').length > 0, 'the activated notice', {
      nudge: () => running.advance(50),
    });
    await alice.core.refresh();
    await running.advance(1000);
    expect(alice.of('activated')).toHaveLength(1);
  });

  it('falls back to polling when only the stream is unreachable, and still learns of every change', async () => {
    const blocked: typeof fetch = (input, init) =>
      pathOf(input) === '/v1/events'
        ? Promise.resolve(new Response('bad gateway', { status: 502 }))
        : fetch(input, init);
    const alice = await desktopOf(running, { fetch: blocked, pollEveryMs: 15_000 });
    people.push(alice);
    await alice.core.signIn({ username: 'alice', password: 'demo' });
    await until(() => alice.core.store.state.connection.status === 'polling', 'polling', {
      nudge: () => running.advance(500),
    });
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'x',
    });
    const bob = await running.api.login('bob');
    const approved = await running.api.post<{ grantId: string }>(
      `/v1/requests/${request.id}/approve`,
      bob,
      {},
    );
    expect(alice.grant(approved.body.grantId)).toBeUndefined();
    await until(() => alice.grant(approved.body.grantId)?.credential === 'stored', 'the grant, by polling', {
      nudge: () => running.advance(1000),
    });
    expect(['polling', 'connecting']).toContain(alice.core.store.state.connection.status);
    expect(alice.core.store.state.connection.retryAt).not.toBeNull();
    // No stream brought the news, yet the activation is announced, once.
    await until(() => alice.of('activated').length > 0, 'the activation notice, by polling', {
      nudge: () => running.advance(100),
    });
    await running.advance(60_000);
    expect(alice.of('activated').map((notice) => notice.key)).toEqual([`activated:${approved.body.grantId}`]);
  });

  it('announces a grant requested while the first sync is still loading, once', async () => {
    // The stream is live but its first sync is still loading; it reads the grant lists only after the
    // request is answered, and the client reads the new grant only after that sync has applied it. The
    // sync then finds the grant already active (no backlog to tell) and the client finds it known: the
    // notice must still go out, once.
    let requestAnswered: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (requestAnswered = resolve));
    let applied: (grantId: string) => boolean = () => false;
    const holding: typeof fetch = async (input, init) => {
      const path = pathOf(input);
      if (path === '/v1/grants') await answered;
      const grantRead = /^\/v1\/grants\/([^/]+)$/.exec(path);
      if (grantRead && init?.method !== 'POST')
        await until(() => applied(grantRead[1] ?? ''), 'the first sync to apply the grant');
      const response = await fetch(input, init);
      if (path === '/v1/requests' && init?.method === 'POST') requestAnswered();
      return response;
    };
    const alice = await desktopOf(running, { fetch: holding });
    people.push(alice);
    applied = (grantId) => alice.grant(grantId) !== undefined;
    await alice.core.signIn({ username: 'alice', password: 'demo' });
    await until(() => alice.core.store.state.connection.status === 'live', 'the live stream', {
      nudge: () => running.advance(500),
    });
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 1800,
      reason: 'during the first sync',
    });
    const grantId = request.grantId ?? '';
    await until(() => alice.grant(grantId)?.credential === 'stored', 'the credential');
    await until(() => alice.of('activated').length > 0, 'the activation notice');
    await alice.core.refresh();
    await running.advance(1000);
    expect(alice.of('activated').map((notice) => notice.key)).toEqual([`activated:${grantId}`]);
  });

  it('while polling, announces a request to approve only once the session has had its first sync', async () => {
    const blocked: typeof fetch = (input, init) =>
      pathOf(input) === '/v1/events'
        ? Promise.resolve(new Response('bad gateway', { status: 502 }))
        : fetch(input, init);
    const aliceToken = await running.api.login('alice');
    const backlog = await running.api.post<{ id: string }>('/v1/requests', aliceToken, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'before bob opened Timebox',
    });
    const bob = await desktopOf(running, { fetch: blocked, pollEveryMs: 15_000 });
    people.push(bob);
    await bob.core.signIn({ username: 'bob', password: 'demo' });
    await until(
      () => bob.core.store.state.approvals.some((request) => request.id === backlog.body.id),
      'the backlog',
      {
        nudge: () => running.advance(1000),
      },
    );
    const fresh = await running.api.post<{ id: string }>('/v1/requests', aliceToken, {
      resourceId: 'prod-db',
      role: 'write',
      durationSeconds: 600,
      reason: 'while bob polls',
      ticket: 'OPS-7',
    });
    await until(() => bob.of('approval-needed').length > 0, 'the new request announced', {
      nudge: () => running.advance(1000),
    });
    await running.advance(60_000);
    expect(bob.of('approval-needed').map((notice) => notice.target)).toEqual([
      { view: 'approvals', requestId: fresh.body.id },
    ]);
  });

  it('reads the seat counts again when a seat is taken, without a full resync', async () => {
    const alice = await desktopOf(running, { username: 'alice' });
    people.push(alice);
    const seats = () =>
      alice.core.store.state.catalog.find((resource) => resource.id === 'design-suite')?.roles[0]?.seats
        ?.inUse;
    expect(seats()).toBe(0);
    const dave = await running.api.login('dave');
    await running.api.post('/v1/requests', dave, {
      resourceId: 'design-suite',
      role: 'seat',
      durationSeconds: 600,
      reason: '',
    });
    await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'design-suite',
      role: 'seat',
      durationSeconds: 600,
      reason: '',
    });
    await until(() => seats() === 2, 'both seats counted', { nudge: () => running.advance(250) });
  });
});

describe.runIf(keychainAvailable).each(DATABASES)('the service clock offset on %s', (kind) => {
  let running: RunningService;
  let desktopClock: ManualClock;
  let both: { url: string; clock: ManualClock; advance: (ms: number) => Promise<void> };
  let alice: Person | null = null;

  beforeEach(async () => {
    const start = Date.parse('2030-01-07T09:00:00.000Z');
    running = await startService({ kind, clock: new ManualClock(start + 90_000) });
    desktopClock = new ManualClock(start);
    both = {
      url: running.url,
      clock: desktopClock,
      advance: async (ms) => {
        desktopClock.advance(ms);
        await running.advance(ms);
      },
    };
  });
  afterEach(async () => {
    await alice?.stop();
    await alice?.keychain.wipe();
    alice = null;
    await running.stop();
  });

  it('measures a service 90 s ahead and ends the credential on the service’s time, not ours', async () => {
    alice = await desktopOf(both, { username: 'alice', clock: desktopClock });
    expect(alice.core.store.state.clockOffsetMs).toBe(90_000);
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 300,
      reason: '',
    });
    const grantId = request.grantId ?? '';
    await until(() => alice?.grant(grantId)?.credential === 'stored', 'the credential');
    const expiresAt = Date.parse(alice.grant(grantId)?.expiresAt ?? '');
    expect(expiresAt).toBe(running.clock.now() + 300_000);
    const localExpiry = expiresAt - 90_000;
    expect(trayModel(alice.core.store.state, desktopClock.now()).tooltip).toContain('ends in 5 min');

    // Only the desktop's clock moves: the service never gets to the expiry, the desktop wipes on its own.
    desktopClock.advance(localExpiry - 60_000 - desktopClock.now());
    desktopClock.advance(50);
    expect(alice.of('expiring').map((notice) => notice.title)).toEqual([
      'Sandbox cluster · operator ends in 1 min',
    ]);
    desktopClock.advance(localExpiry - desktopClock.now() - 1);
    expect(await alice.stored(grantId)).not.toBeNull();
    desktopClock.advance(1);
    await until(async () => (await alice?.stored(grantId)) === null, 'the wipe at the service’s expiry');
    expect(desktopClock.now()).toBe(localExpiry);
    expect(running.clock.now()).toBeLessThan(expiresAt); // the service had not expired it yet
  });

  it('after the user sets the desktop clock, measures again before judging any deadline', async () => {
    alice = await desktopOf(both, { username: 'alice', clock: desktopClock });
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: '',
    });
    const grantId = request.grantId ?? '';
    await until(() => alice?.grant(grantId)?.credential === 'stored', 'the credential');

    // An hour forward by hand: wrongly trusted, the old offset would end the grant at once.
    desktopClock.jumpWall(3600_000);
    alice.core.clockMayHaveChanged();
    const near = (expected: number) =>
      Math.abs((alice?.core.store.state.clockOffsetMs ?? 0) - expected) <= 500;
    await until(() => near(90_000 - 3600_000), 'the new offset', {
      nudge: () => both.advance(100),
    });
    expect(await alice.stored(grantId)).not.toBeNull();
    expect(alice.grant(grantId)?.status).toBe('active');

    // Two hours back: the grant must still end on the service's time.
    desktopClock.jumpWall(-2 * 3600_000);
    alice.core.clockMayHaveChanged();
    await until(() => near(90_000 + 3600_000), 'the offset again', {
      nudge: () => both.advance(100),
    });
    const expiresAt = Date.parse(alice.grant(grantId)?.expiresAt ?? '');
    await both.advance(expiresAt - running.clock.now());
    await until(() => alice?.grant(grantId)?.credential === 'wiped', 'the wipe on time');
    expect(await alice.stored(grantId)).toBeNull();
    await both.advance(50);
    expect(alice.of('ended')).toHaveLength(1);
  });
});
