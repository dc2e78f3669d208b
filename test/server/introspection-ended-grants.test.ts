import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES, postgresAvailable, type DatabaseKind } from '../support/databases.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  demoOrganisation,
  startService,
  type RunningService,
  type StartOptions,
} from '../support/service.js';

// Introspection knows which grants ended early from memory, fed at commit and by every instance's NOTIFY,
// and asks the database whenever that memory may be incomplete. These suites check that the answers stay
// right on every path, and (through /metrics) which path answered.

const RESOURCE_SERVER = 'rs-ended-grants-7c1d9e3f5a2b4c6d8e0f';

async function withResourceServer(): Promise<Policy> {
  const demo = await demoOrganisation();
  return {
    ...demo,
    resourceServers: new Map([
      [
        createHash('sha256').update(RESOURCE_SERVER).digest('hex'),
        { id: 'sandbox-api', resources: new Set(['sandbox']) },
      ],
    ]),
  };
}

/** A grant of alice's on the sandbox (approved at once) and its credential's token. */
async function sandboxToken(
  running: RunningService,
  alice: string,
): Promise<{ grantId: string; token: string }> {
  const created = await running.api.post<RequestView>('/v1/requests', alice, {
    resourceId: 'sandbox',
    role: 'operator',
    durationSeconds: 600,
  });
  expect(created.status).toBe(201);
  const grantId = created.body.grantId ?? '';
  const credential = await running.api.get<{ secret: { token: string } }>(
    `/v1/grants/${grantId}/credential`,
    alice,
  );
  expect(credential.status).toBe(200);
  return { grantId, token: credential.body.secret.token };
}

async function isActive(running: RunningService, token: string): Promise<boolean> {
  const answer = await running.api.call<{ active: boolean }>('POST', '/v1/credentials/introspect', {
    token: RESOURCE_SERVER,
    body: { token },
  });
  expect(answer.status).toBe(200);
  return answer.body.active;
}

/** How many answers each source gave so far, from the instance's /metrics. */
async function answeredFrom(running: RunningService): Promise<Record<'memory' | 'database', number>> {
  const exposition = (await running.api.get<string>('/metrics')).body;
  const total = (source: string): number => {
    let sum = 0;
    for (const line of exposition.split('\n')) {
      if (line.startsWith('timebox_introspections_total{') && line.includes(`source="${source}"`))
        sum += Number(line.split(' ').at(-1));
    }
    return sum;
  };
  return { memory: total('memory'), database: total('database') };
}

/** Waits up to `withinMs` for `condition`, asking every 20 ms; false if it never held. */
async function within(withinMs: number, condition: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(DATABASES)('introspection of grants that ended early, on %s', (kind: DatabaseKind) => {
  it('answers from memory: active, then inactive at once after relinquish and revoke, never asking the database', async () => {
    const running = await startService({ kind, policy: await withResourceServer() });
    onTestFinished(() => running.stop());
    const alice = await running.api.login('alice');
    const admin = await running.api.login('admin');
    const relinquished = await sandboxToken(running, alice);
    const revoked = await sandboxToken(running, alice);
    expect(await isActive(running, relinquished.token)).toBe(true);
    expect(await isActive(running, revoked.token)).toBe(true);

    expect((await running.api.post(`/v1/grants/${relinquished.grantId}/revoke`, alice, {})).status).toBe(200);
    expect(await isActive(running, relinquished.token)).toBe(false);
    expect((await running.api.post(`/v1/grants/${revoked.grantId}/revoke`, admin, {})).status).toBe(200);
    expect(await isActive(running, revoked.token)).toBe(false);
    expect(await isActive(running, (await sandboxToken(running, alice)).token)).toBe(true);
    expect(await answeredFrom(running)).toEqual({ memory: 5, database: 0 });
  });

  it('still knows after a restart which grants ended early before it', async () => {
    const clock = new ManualClock();
    const database = await createTestDatabase(kind);
    const dataDir = kind === 'pglite' ? mkdtempSync(join(tmpdir(), 'timebox-ended-grants-')) : undefined;
    onTestFinished(async () => {
      await database.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });
    const options: StartOptions = {
      kind,
      clock,
      database,
      policy: await withResourceServer(),
      ...(dataDir ? { dataDir } : {}),
    };
    const before = await startService(options);
    const alice = await before.api.login('alice');
    const ended = await sandboxToken(before, alice);
    const live = await sandboxToken(before, alice);
    expect((await before.api.post(`/v1/grants/${ended.grantId}/revoke`, alice, {})).status).toBe(200);
    await before.stop();

    const after = await startService(options);
    onTestFinished(() => after.stop());
    expect(await isActive(after, ended.token)).toBe(false);
    expect(await isActive(after, live.token)).toBe(true);
    expect(await answeredFrom(after)).toEqual({ memory: 2, database: 0 });
  });
});

describe.runIf(postgresAvailable())(
  'introspection of grants that ended early, two instances on one PostgreSQL',
  () => {
    /** Ends the LISTEN connections of the database `url` names, as a restarted pooler or a cut link would. */
    async function cutListeners(url: string): Promise<number> {
      const database = new URL(url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const rows = await admin.query<{ ended: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
          WHERE datname = $1 AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
          [database],
        );
        return rows.rows.filter((row) => row.ended).length;
      } finally {
        await admin.end();
      }
    }

    it("sees the other instance's ends within a second, and asks the database while it cannot hear them", async () => {
      const clock = new ManualClock();
      const database = await createTestDatabase('postgres');
      onTestFinished(() => database.drop());
      const policy = await withResourceServer();
      const issuing = await startService({ kind: 'postgres', database, clock, policy });
      const asking = await startService({ kind: 'postgres', database, clock, policy });
      onTestFinished(async () => {
        await issuing.stop();
        await asking.stop();
      });
      const alice = await issuing.api.login('alice');
      const [heard, unheard, untouched] = [
        await sandboxToken(issuing, alice),
        await sandboxToken(issuing, alice),
        await sandboxToken(issuing, alice),
      ];
      for (const { token } of [heard, unheard, untouched]) expect(await isActive(asking, token)).toBe(true);

      // Heard through NOTIFY: inactive on the other instance within a second, answered from its memory.
      expect((await issuing.api.post(`/v1/grants/${heard.grantId}/revoke`, alice, {})).status).toBe(200);
      expect(await within(1000, async () => !(await isActive(asking, heard.token)))).toBe(true);
      expect((await answeredFrom(asking)).database).toBe(0);

      // The LISTEN connections are cut, and an end made meanwhile is not heard: once the loss is noticed
      // (at once here; a silent link within the keepalive) the database answers until the connection is
      // back and has read what it missed, so that end is inactive within the second all the same.
      expect(await cutListeners(database.url ?? '')).toBe(2);
      expect((await issuing.api.post(`/v1/grants/${unheard.grantId}/revoke`, alice, {})).status).toBe(200);
      expect(await within(1000, async () => !(await isActive(asking, unheard.token)))).toBe(true);
      expect(await isActive(asking, untouched.token)).toBe(true);

      // Back and caught up: memory answers again, and knows the end it did not hear.
      expect(
        await within(10_000, async () => {
          const { memory } = await answeredFrom(asking);
          const inactive = !(await isActive(asking, unheard.token));
          return inactive && (await answeredFrom(asking)).memory > memory;
        }),
      ).toBe(true);
      expect(await isActive(asking, untouched.token)).toBe(true);
      expect(await isActive(asking, heard.token)).toBe(false);
    });
  },
);
