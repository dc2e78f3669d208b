import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { openDatabase } from '../../server/db/database.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/databases.js';
import { FaultProxy } from '../support/fault-proxy.js';
import type { Api, ApiResponse } from '../support/http.js';
import { startService, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

interface ErrorBody {
  error: { code: string; message: string };
}

// Short bounds keep the drill quick; the defaults (3 s, 5 s, 10 s) have the same paths.
const TIMEOUTS = { connectMs: 1000, queryMs: 1500, idleInTransactionMs: 4000, keepAliveMs: 1000 };

/** PostgreSQL through a proxy the test controls, and a direct line to it for checking what was stored. */
async function serviceBehindProxy(): Promise<{
  running: RunningService;
  proxy: FaultProxy;
  direct: pg.Client;
  close(): Promise<void>;
}> {
  const database: TestDatabase = await createTestDatabase('postgres');
  const url = new URL(database.url ?? '');
  const proxy = await FaultProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const running = await startService({
    kind: 'postgres',
    database: { url: proxied.toString(), drop: () => Promise.resolve() },
    databaseTimeouts: TIMEOUTS,
  });
  const direct = new pg.Client({ connectionString: url.toString() });
  await direct.connect();
  return {
    running,
    proxy,
    direct,
    async close() {
      await proxy.heal();
      await running.stop();
      await proxy.close();
      await direct.end();
      await database.drop();
    },
  };
}

/** Waits (a bounded while) until /healthz answers 200 again; how long that took, ms. */
async function untilHealthy(api: Api): Promise<number> {
  const started = Date.now();
  while ((await api.get('/healthz')).status !== 200) {
    if (Date.now() - started > 15_000) throw new Error('the service did not find its database again');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - started;
}

/** Polls `check` until it holds (bounded), for what the service does in the background after a recovery. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 10_000) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - started;
}

function expect503(response: ApiResponse): void {
  expect(response.status).toBe(503);
  expect((response.body as ErrorBody).error.code).toBe('database_unavailable');
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
}

const sandbox = (reason: string, durationSeconds = 60) => ({
  resourceId: 'sandbox',
  role: 'operator',
  durationSeconds,
  reason,
});

describe.runIf(postgresAvailable())('a fault drill: PostgreSQL behind a proxy that fails', () => {
  let setup: Awaited<ReturnType<typeof serviceBehindProxy>>;
  let api: Api;
  let alice: string;
  let admin: string;

  beforeAll(async () => {
    setup = await serviceBehindProxy();
    api = setup.running.api;
    alice = await api.login('alice');
    admin = await api.login('admin');
  });
  afterEach(async () => {
    await setup.proxy.heal();
    await untilHealthy(api);
  });
  afterAll(async () => {
    // Nothing half-done across every fault: each request has its audit entry, the chain verifies, and
    // each user's event ids run without a gap.
    const orphans = await setup.direct.query(
      `SELECT r.id FROM requests r
        WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.subject_id = r.id AND a.action = 'request.created')
          AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.subject_id = r.id AND p.action = 'request.created')`,
    );
    const verified = await api.get<{ ok: boolean }>('/v1/audit/verify', admin);
    const gaps = await setup.direct.query(
      `SELECT user_id FROM events GROUP BY user_id HAVING max(seq) - min(seq) + 1 <> count(*)`,
    );
    await setup.close();
    expect(orphans.rows).toEqual([]);
    expect(verified.body.ok).toBe(true);
    expect(gaps.rows).toEqual([]);
  });

  it('connections reset during transactions: answers 201 or 503, never 500, and a retry with the Idempotency-Key returns the same request', async () => {
    const keys = Array.from({ length: 24 }, (_, index) => `reset-${index}`);
    const send = (key: string) =>
      api.post<RequestView | ErrorBody>('/v1/requests', alice, sandbox(key), { 'idempotency-key': key });
    // Cut while they run, at a statement on its way: some are mid-transaction, some wait for a connection.
    const cut = setup.proxy.resetAtNextSend();
    const inFlight = keys.map(send);
    await cut;
    const first = await Promise.all(inFlight);
    for (const response of first) expect([201, 503]).toContain(response.status);
    expect(first.some((response) => response.status === 503)).toBe(true);

    await untilHealthy(api);
    const again = await Promise.all(keys.map(send));
    for (const [index, response] of again.entries()) {
      expect(response.status).toBe(201);
      const before = first[index];
      if (before?.status === 201)
        expect((response.body as RequestView).id).toBe((before.body as RequestView).id);
    }
    const stored = await setup.direct.query<{ reason: string; count: number }>(
      `SELECT reason, count(*)::int AS count FROM requests WHERE reason LIKE 'reset-%' GROUP BY reason`,
    );
    expect(stored.rows).toHaveLength(keys.length);
    for (const row of stored.rows) expect(row.count).toBe(1);
    expect(setup.running.service.db.health.reconnects).toBeGreaterThan(0);
  });

  it('refused: 503 database_unavailable with Retry-After at once; on return, every grant that fell due is ended', async () => {
    const { running } = setup;
    const created = await api.post<RequestView>(
      '/v1/requests',
      alice,
      sandbox('falls due while refused', 30),
    );
    expect(created.status).toBe(201);
    const grantId = created.body.grantId ?? '';

    await setup.proxy.refuse();
    expect503(await api.get('/v1/requests', alice)); // finds the outage
    expect(running.service.db.health.available).toBe(false);
    // Known now: refused without waiting on the network, and /healthz says so.
    for (let index = 0; index < 10; index++) expect503(await api.get('/v1/requests', alice));
    expect503(await api.post('/v1/requests', alice, sandbox('while refused')));
    expect((await api.get('/healthz')).status).toBe(503);
    const metrics = (await api.get<string>('/metrics')).body;
    expect(metrics).toMatch(/^timebox_database_available 0$/m);

    // The grant falls due during the outage: the scheduler cannot end it yet, and is not stuck.
    running.clock.advance(31_000);
    await running.service.scheduler.settled();
    await setup.proxy.heal();
    await untilHealthy(api);
    await eventually(async () => {
      const { rows } = await setup.direct.query<{ status: string }>(
        'SELECT status FROM grants WHERE id = $1',
        [grantId],
      );
      return rows[0]?.status === 'expired';
    }, 'the grant that fell due is ended');
    expect((await api.get<GrantView>(`/v1/grants/${grantId}`, alice)).body.status).toBe('expired');
    const after = (await api.get<string>('/metrics')).body;
    expect(after).toMatch(/^timebox_database_available 1$/m);
    expect(Number(/^timebox_database_unavailable_seconds_total (\S+)$/m.exec(after)?.[1])).toBeGreaterThan(0);
  });

  it('black hole: the waits are bounded, then 503 at once; a live stream stays open and gets what it missed', async () => {
    const { running } = setup;
    const stream = await EventStream.open(running.url, alice);
    const created = await api.post<RequestView>(
      '/v1/requests',
      alice,
      sandbox('falls due in the black hole', 30),
    );
    expect(created.status).toBe(201);
    const grantId = created.body.grantId ?? '';

    setup.proxy.blackHole();
    // Requests sent into the partition wait out the bounds (connect, query), then answer 503.
    const stuck = await Promise.all([
      api.get('/v1/requests', alice),
      api.post('/v1/requests', alice, sandbox('into the black hole')),
      api.get(`/v1/grants/${grantId}`, alice),
    ]);
    for (const response of stuck) expect503(response);
    expect(running.service.db.health.available).toBe(false);
    expect503(await api.get('/v1/requests', alice));
    expect((await api.get('/healthz')).status).toBe(503);

    running.clock.advance(31_000);
    await running.service.scheduler.settled();
    await setup.proxy.heal();
    await untilHealthy(api);
    await stream.until(
      () => stream.of('grant.ended').some((event) => event.data.includes(grantId)),
      'the stream gets the grant ended after the partition',
    );
    expect(stream.isEnded).toBe(false);
    stream.close();
  });

  it('slow: a delayed database still answers, without 503', async () => {
    setup.proxy.slow(100);
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, index) => api.post('/v1/requests', alice, sandbox(`slow-${index}`))),
    );
    for (const response of answers) expect(response.status).toBe(201);
    expect((await api.get('/healthz')).status).toBe(200);
  });

  it('a statement PostgreSQL cancels at its timeout fails as unavailable, and the circuit stays closed', async () => {
    const { db } = setup.running.service;
    // statement_timeout is 0.9 of the query timeout (1350 ms here): the server cancels first.
    await expect(db.query('SELECT pg_sleep(3)')).rejects.toMatchObject({
      name: 'DatabaseUnavailableError',
      cause: { code: '57014' },
    });
    expect(db.health.available).toBe(true);
    expect((await api.get('/healthz')).status).toBe(200);
  });

  it("sets the service's sessions to end a transaction left idle, so a cut-off instance holds no row locks", async () => {
    const [row] = await setup.running.service.db.query<{ idle_in_transaction_session_timeout: string }>(
      'SHOW idle_in_transaction_session_timeout',
    );
    expect(row?.idle_in_transaction_session_timeout).toBe('4s');
  });
});

describe.runIf(postgresAvailable())('a pool whose every connection is busy', () => {
  it('answers the caller who waited too long 503, and keeps the circuit closed for everyone else', async () => {
    const database = await createTestDatabase('postgres');
    const db = await openDatabase({
      databaseUrl: database.url,
      dataDir: null,
      logger: { warn: () => undefined },
      poolSize: 1,
      timeouts: { connectMs: 300 },
    });
    try {
      let finish = (): void => undefined;
      const held = new Promise<void>((resolve) => (finish = resolve));
      // The pool's only connection stays busy in a transaction until the test lets it go.
      const holding = db.transaction(async (sql) => {
        await sql.query('SELECT 1');
        await held;
      });
      await expect(db.query('SELECT 2')).rejects.toMatchObject({
        name: 'DatabaseUnavailableError',
        nothingDone: true,
      });
      // A busy service, not a lost database: the next caller is not refused at once.
      expect(db.health.available).toBe(true);
      finish();
      await holding;
      expect(await db.query<{ answer: number }>('SELECT 3 AS answer')).toEqual([{ answer: 3 }]);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

describe.runIf(postgresAvailable())('stopping during a partition', () => {
  it('ends, with requests in flight and the LISTEN connection black-holed', async () => {
    const setup = await serviceBehindProxy();
    const alice = await setup.running.api.login('alice');
    setup.proxy.blackHole();
    const inFlight = setup.running.api.get('/v1/requests', alice);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The test's own timeout bounds the stop: close() must not wait on the black hole.
    await setup.running.service.close();
    expect((await inFlight.catch(() => null))?.status ?? 503).toBe(503);
    await setup.close();
  }, 12_000);
});
