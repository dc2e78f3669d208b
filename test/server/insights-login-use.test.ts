import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RoleInsightsView } from '../../api/insights-schemas.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { DATABASES, postgresAvailable, postgresServerUrl } from '../support/databases.js';
import { PostgresTarget } from '../support/postgres-target.js';
import { startService, type RunningService } from '../support/service.js';

interface Credential {
  readonly secret: { host: string; port: number; database: string; user: string; password: string };
}

const MINUTE = 60_000;

/**
 * Whether a database login was used, seen from the target's own statistics: the background sample
 * (driven here by calling it, as its interval would) records the grants whose login has a session.
 */
describe.runIf(postgresAvailable()).each(DATABASES)('use of database logins, service on %s', (kind) => {
  let target: PostgresTarget;
  let policy: Policy;
  let running: RunningService | null = null;
  const sessions: pg.Client[] = [];

  beforeAll(async () => {
    target = await PostgresTarget.create(postgresServerUrl());
    policy = await target.policy();
  });
  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.end().catch(() => undefined);
    await target.proxy.heal();
    await running?.stop();
    running = null;
  });
  afterAll(async () => {
    await target.drop();
  });

  async function grant(service: RunningService, token: string): Promise<GrantView> {
    const created = await service.api.post<RequestView>('/v1/requests', token, {
      resourceId: 'warehouse',
      role: 'read',
      durationSeconds: 600,
      reason: 'numbers',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return (await service.api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, token)).body;
  }

  async function connect(service: RunningService, token: string, grantId: string): Promise<pg.Client> {
    const fetched = await service.api.get<Credential>(`/v1/grants/${grantId}/credential`, token);
    expect(fetched.status, JSON.stringify(fetched.body)).toBe(200);
    const { host, port, database, user, password } = fetched.body.secret;
    const client = new pg.Client({ host, port, database, user, password });
    client.on('error', () => undefined);
    await client.connect();
    sessions.push(client);
    return client;
  }

  it('counts a login with a session as used, and fetched-but-idle or never-fetched ones as never used', async () => {
    running = await startService({ kind, policy });
    const service = running;
    const alice = await service.api.login('alice');
    const admin = await service.api.login('admin');
    const period = `from=${new Date(service.clock.now() - MINUTE).toISOString()}&to=${new Date(service.clock.now() + 60 * MINUTE).toISOString()}`;

    const used = await grant(service, alice);
    const session = await connect(service, alice, used.id);
    await session.query('SELECT count(*) FROM reporting.sales');
    const idle = await grant(service, alice);
    const fetched = await service.api.get(`/v1/grants/${idle.id}/credential`, alice);
    expect(fetched.status).toBe(200);
    const dave = await service.api.login('dave');
    await grant(service, dave); // never fetched

    // One sample sees one login with a session; a second changes nothing.
    expect(await service.service.loginSampler.sample()).toBe(1);
    await session.end();
    sessions.splice(0);
    expect(await service.service.loginSampler.sample()).toBe(0);

    // Nothing counts while the grants live: only ended grants are judged.
    const during = await service.api.get<RoleInsightsView>(`/v1/insights/roles?${period}`, admin);
    expect(during.body.items).toMatchObject([
      { resourceId: 'warehouse', role: 'read', endedGrants: 0, loginNeverUsed: 0 },
    ]);

    await service.advance(10 * MINUTE);
    const after = await service.api.get<RoleInsightsView>(`/v1/insights/roles?${period}`, admin);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.items).toMatchObject([
      {
        resourceId: 'warehouse',
        role: 'read',
        requests: 3,
        endedGrants: 3,
        credentialNeverFetched: 1,
        loginNeverUsed: 2,
      },
    ]);
  });

  it('survives a target that does not answer: the sample gives up at its timeout and the next one works', async () => {
    running = await startService({ kind, policy, loginSampling: { intervalMs: 60_000, timeoutMs: 300 } });
    const service = running;
    const alice = await service.api.login('alice');
    const granted = await grant(service, alice);
    const session = await connect(service, alice, granted.id);
    await session.query('SELECT 1');

    target.proxy.blackHole();
    expect(await service.service.loginSampler.sample()).toBe(0);
    await target.proxy.refuse();
    expect(await service.service.loginSampler.sample()).toBe(0);
    await target.proxy.heal();
    expect(await service.service.loginSampler.sample()).toBe(1);
  });
});
