import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAccess } from '../../server/access/postgres-access.js';
import type { GrantRecord } from '../../server/domain/records.js';
import type { AuditEntryView, GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import {
  createTestDatabase,
  DATABASES,
  postgresAvailable,
  postgresServerUrl,
  type TestDatabase,
} from '../support/databases.js';
import type { Api } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { PostgresTarget } from '../support/postgres-target.js';
import { settle, startService, type RunningService } from '../support/service.js';

interface Credential {
  readonly grantId: string;
  readonly kind: string;
  readonly expiresAt: string;
  readonly secret: {
    host: string;
    port: number;
    database: string;
    user: string;
    password: string;
    sslmode: string;
    uri: string;
  };
}

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

const SECOND = 1000;

/** A session as the grant's owner, from the credential's fields (or its URI). */
async function connectWith(secret: Credential['secret'], viaUri = false): Promise<pg.Client> {
  const client = new pg.Client(
    viaUri
      ? { connectionString: secret.uri }
      : {
          host: secret.host,
          port: secret.port,
          database: secret.database,
          user: secret.user,
          password: secret.password,
        },
  );
  // A session the server ends reports an error event; the test reads it from the next query instead.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The SQLSTATE a promise fails with. */
async function sqlState(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error && 'code' in error
      ? String(error.code)
      : `not a database error: ${String(error)}`;
  }
  throw new Error('expected the database to refuse');
}

async function audit(api: Api, admin: string): Promise<AuditEntryView[]> {
  const response = await api.get<{ items: AuditEntryView[] }>('/v1/audit?limit=1000', admin);
  expect(response.status).toBe(200);
  return response.body.items;
}

async function metric(api: Api, line: string): Promise<number> {
  const text = (await api.get<string>('/metrics')).body;
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found ? Number(found.split(' ')[1]) : Number.NaN;
}

// Without PostgreSQL (local runs only: in CI databases.ts fails the run instead) there is nothing to log in to.
describe.runIf(postgresAvailable()).each(DATABASES)(
  'just-in-time PostgreSQL logins, service on %s',
  (kind) => {
    let target: PostgresTarget;
    let policy: Policy;
    let passwordsEnforced: boolean;
    let database: TestDatabase;
    let dataDir: string;
    let running: RunningService | null = null;
    const sessions: pg.Client[] = [];

    beforeAll(async () => {
      target = await PostgresTarget.create(postgresServerUrl());
      policy = await target.policy();
      passwordsEnforced = await target.passwordsEnforced();
      if (!passwordsEnforced) {
        if (process.env.CI === 'true') throw new Error('CI must run with the pg_hba rule .ci/run adds');
        console.warn(
          'This PostgreSQL lets timebox_password_login in without a password (.ci/run adds the pg_hba rule): wrong-password checks are left out.',
        );
      }
    });
    afterEach(async () => {
      for (const session of sessions.splice(0)) await session.end().catch(() => undefined);
      await running?.stop();
      running = null;
      await target.proxy.heal();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    afterAll(async () => {
      await target.drop();
    });

    async function start(clock = new ManualClock(), fresh = true): Promise<RunningService> {
      if (fresh) {
        database = await createTestDatabase(kind);
        dataDir = mkdtempSync(join(tmpdir(), 'timebox-pg-access-'));
      }
      running = await startService({
        kind,
        clock,
        policy,
        database,
        ...(kind === 'pglite' ? { dataDir } : {}),
      });
      await settle(running.service);
      return running;
    }

    async function grantFor(
      service: RunningService,
      token: string,
      role: string,
      seconds: number,
    ): Promise<GrantView> {
      const created = await service.api.post<RequestView>('/v1/requests', token, {
        resourceId: 'warehouse',
        role,
        durationSeconds: seconds,
        reason: 'quarterly numbers',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.status).toBe('approved');
      await settle(service.service);
      return (await service.api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, token)).body;
    }

    async function credential(service: RunningService, token: string, grantId: string): Promise<Credential> {
      const response = await service.api.get<Credential>(`/v1/grants/${grantId}/credential`, token);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body;
    }

    async function session(secret: Credential['secret'], viaUri = false): Promise<pg.Client> {
      const client = await connectWith(secret, viaUri);
      sessions.push(client);
      return client;
    }

    it('creates a login at activation that works within its scope and nowhere else', async () => {
      const service = await start();
      const alice = await service.api.login('alice');
      const grant = await grantFor(service, alice, 'read', 600);
      const loginName = `${target.rolePrefix}${grant.id}`;

      // The login exists before anyone asks for it, limited and timed as the policy says.
      const login = await target.login(loginName);
      expect(login).toMatchObject({ rolcanlogin: true, rolconnlimit: 2, groups: ['timebox_password_login'] });
      expect(login?.rolvaliduntil?.toISOString()).toBe(grant.expiresAt);
      expect(login?.comment).toContain(`warehouse/read for alice, grant ${grant.id}`);

      const fetched = await credential(service, alice, grant.id);
      expect(fetched).toMatchObject({ grantId: grant.id, kind: 'postgres', expiresAt: grant.expiresAt });
      const { secret } = fetched;
      expect(secret).toMatchObject({
        host: '127.0.0.1',
        port: 5432,
        database: target.database,
        user: loginName,
        sslmode: 'disable',
      });
      expect(secret.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(secret.uri).toBe(
        `postgresql://${loginName}:${secret.password}@127.0.0.1:5432/${target.database}?sslmode=disable`,
      );

      for (const viaUri of [false, true]) {
        const client = await session(secret, viaUri);
        const sales = await client.query<{ total: number }>(
          'SELECT sum(amount)::int AS total FROM reporting.sales',
        );
        expect(sales.rows[0]?.total).toBe(60);
        // Outside its scope: another schema, and writing.
        expect(await sqlState(client.query('SELECT * FROM private.salaries'))).toBe('42501');
        expect(await sqlState(client.query('INSERT INTO reporting.sales (amount) VALUES (1)'))).toBe('42501');
        expect(await sqlState(client.query('CREATE TABLE reporting.mine (x int)'))).toBe('42501');
      }
      // The connection limit holds: both sessions above are still open.
      expect(await sqlState(connectWith(secret))).toBe('53300');

      if (passwordsEnforced) {
        expect(await sqlState(connectWith({ ...secret, password: `${secret.password}x` }))).toBe('28P01');
        // A second fetch sets a new password: the first no longer opens a session.
        const again = await credential(service, alice, grant.id);
        expect(again.secret.password).not.toBe(secret.password);
        for (const open of sessions.splice(0)) await open.end();
        expect(await sqlState(connectWith(secret))).toBe('28P01');
        await (await session(again.secret)).query('SELECT 1');
      }

      // Someone else's grant: no credential, and their login is left as it was.
      const dave = await service.api.login('dave');
      const other = await service.api.get<ErrorBody>(`/v1/grants/${grant.id}/credential`, dave);
      expect(other.status).toBe(404);

      const admin = await service.api.login('admin');
      const entries = await audit(service.api, admin);
      expect(entries.find((entry) => entry.action === 'access.provisioned')).toMatchObject({
        subjectId: grant.id,
        data: { login: loginName, created: true, validUntil: grant.expiresAt },
      });
      expect(entries.filter((entry) => entry.action === 'credential.fetched').length).toBeGreaterThan(0);
      // The password is nowhere in the audit log.
      expect(JSON.stringify(entries)).not.toContain(secret.password);
      expect((await service.api.get('/v1/audit/verify', admin)).body).toMatchObject({ ok: true });
    });

    it('cuts live sessions at expiry, refuses logins after, and drops the login', async () => {
      const service = await start();
      const alice = await service.api.login('alice');
      const grant = await grantFor(service, alice, 'read', 60);
      const loginName = `${target.rolePrefix}${grant.id}`;
      const { secret } = await credential(service, alice, grant.id);
      const live = await session(secret);
      await live.query('SELECT 1');

      await service.advance(60 * SECOND);
      // The session was ended by the server, not by us.
      expect(await sqlState(live.query('SELECT 1'))).not.toBe('');
      expect(await target.login(loginName)).toBeNull();
      // The login is gone: PostgreSQL answers that the role does not exist.
      expect(await sqlState(connectWith(secret))).toBe('28000');
      expect((await service.api.get<ErrorBody>(`/v1/grants/${grant.id}/credential`, alice)).status).toBe(410);
      // And the fetch that was refused did not bring it back.
      await settle(service.service);
      expect(await target.login(loginName)).toBeNull();

      const admin = await service.api.login('admin');
      expect(
        (await audit(service.api, admin)).find(
          (entry) => entry.action === 'access.revoked' && entry.subjectId === grant.id,
        ),
      ).toMatchObject({
        subjectId: grant.id,
        data: { login: loginName, existed: true, sessionsEnded: 1 },
      });
    });

    it('moves VALID UNTIL with an extension, and drops the login when the owner relinquishes', async () => {
      const service = await start();
      const alice = await service.api.login('alice');
      const grant = await grantFor(service, alice, 'read', 60);
      const loginName = `${target.rolePrefix}${grant.id}`;
      const extended = await service.api.post<GrantView>(`/v1/grants/${grant.id}/extend`, alice, {
        durationSeconds: 120,
        reason: 'more numbers',
      });
      expect(extended.status).toBe(200);
      await settle(service.service);
      expect((await target.login(loginName))?.rolvaliduntil?.toISOString()).toBe(extended.body.expiresAt);

      await service.advance(61 * SECOND);
      expect(await target.login(loginName)).not.toBeNull();
      const relinquished = await service.api.post<GrantView>(`/v1/grants/${grant.id}/revoke`, alice, {});
      expect(relinquished.status).toBe(200);
      await settle(service.service);
      expect(await target.login(loginName)).toBeNull();
    });

    it('creates no login until a request that needs approval is approved', async () => {
      const service = await start();
      const alice = await service.api.login('alice');
      const bob = await service.api.login('bob');
      const asked = await service.api.post<RequestView>('/v1/requests', alice, {
        resourceId: 'warehouse',
        role: 'write',
        durationSeconds: 600,
        reason: 'backfill',
      });
      expect(asked.body.status).toBe('pending');
      await settle(service.service);
      expect(await target.logins()).toEqual([]);
      const approved = await service.api.post<RequestView>(`/v1/requests/${asked.body.id}/approve`, bob, {});
      expect(approved.status).toBe(200);
      await settle(service.service);
      const { secret } = await credential(service, alice, approved.body.grantId ?? '');
      const client = await session(secret);
      await client.query('INSERT INTO reporting.sales (amount) VALUES (5)');
      expect(await sqlState(client.query('DELETE FROM reporting.sales'))).toBe('42501');
    });

    it('still revokes after a restart in the middle of a grant', async () => {
      const clock = new ManualClock();
      const first = await start(clock);
      const alice = await first.api.login('alice');
      const grant = await grantFor(first, alice, 'read', 60);
      const loginName = `${target.rolePrefix}${grant.id}`;
      expect(await target.login(loginName)).not.toBeNull();
      await first.service.close();
      running = null;

      clock.advance(5 * 60 * SECOND); // past expiry with no service running
      expect(await target.login(loginName)).not.toBeNull();
      await start(clock, false);
      expect(await target.login(loginName)).toBeNull();
    });

    it('revokes as soon as the database is back when it was away at expiry, and says so meanwhile', async () => {
      const service = await start();
      const alice = await service.api.login('alice');
      const admin = await service.api.login('admin');
      const grant = await grantFor(service, alice, 'read', 60);
      const loginName = `${target.rolePrefix}${grant.id}`;

      await target.proxy.refuse();
      await service.advance(60 * SECOND);
      expect((await service.api.get<GrantView>(`/v1/grants/${grant.id}`, alice)).body.status).toBe('expired');
      expect(await target.login(loginName)).not.toBeNull();
      const failed = (await audit(service.api, admin)).filter((entry) => entry.action === 'access.failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        subjectId: grant.id,
        data: { operation: 'revoke', resourceId: 'warehouse' },
      });
      expect(await metric(service.api, 'timebox_access_backlog{state="failing"}')).toBe(1);
      expect(
        await metric(service.api, 'timebox_access_operations_total{operation="revoke",outcome="failed"}'),
      ).toBe(1);

      // Still away at the first retry: retried again, and not audited twice.
      await service.advance(1 * SECOND);
      expect(
        (await audit(service.api, admin)).filter((entry) => entry.action === 'access.failed'),
      ).toHaveLength(1);
      expect(
        await metric(service.api, 'timebox_access_operations_total{operation="revoke",outcome="failed"}'),
      ).toBe(2);

      await target.proxy.heal();
      await service.advance(2 * SECOND);
      expect(await target.login(loginName)).toBeNull();
      expect(
        (await audit(service.api, admin)).find(
          (entry) => entry.action === 'access.revoked' && entry.subjectId === grant.id,
        ),
      ).toMatchObject({ data: { existed: true, attempts: 3 } });
      expect(await metric(service.api, 'timebox_access_backlog{state="failing"}')).toBe(0);
      expect(await metric(service.api, 'timebox_access_backlog{state="waiting"}')).toBe(0);
    });

    it('drops logins of ours that have no active grant when it starts, and nothing else', async () => {
      const stray = `${target.rolePrefix}grt_0000000000000000000a`;
      const notOurs = `${target.rolePrefix}someone_else`;
      await target.asAdmin(`CREATE ROLE ${stray} LOGIN; CREATE ROLE ${notOurs} NOLOGIN`);
      try {
        const service = await start();
        expect(await target.logins()).toEqual([notOurs]);
        const admin = await service.api.login('admin');
        expect(
          (await audit(service.api, admin)).find((entry) => entry.action === 'access.reconciled'),
        ).toMatchObject({
          subjectType: 'resource',
          subjectId: 'warehouse',
          data: { revoking: 1, revokingGrants: ['grt_0000000000000000000a'] },
        });
      } finally {
        await target.asAdmin(`DROP ROLE IF EXISTS ${notOurs}; DROP ROLE IF EXISTS ${stray}`);
      }
    });
  },
);

describe.runIf(postgresAvailable())('a PostgreSQL login on its own', () => {
  let target: PostgresTarget;
  let access: PostgresAccess;

  beforeAll(async () => {
    target = await PostgresTarget.create(postgresServerUrl());
    const resource = (await target.policy()).resources.get('warehouse');
    if (!resource) throw new Error('the target policy has no warehouse');
    access = new PostgresAccess(resource, { warn: () => undefined });
  });
  afterAll(async () => {
    await access.close();
    await target.drop();
  });

  it('never moves VALID UNTIL back, when a fetch read its grant before an extension', async () => {
    const grantId = 'grt_00000000000000000v01';
    const start = Date.parse('2030-01-07T09:00:00.000Z');
    const extended = new Date(start + 2 * 3600_000);
    await access.provision({
      grantId,
      userId: 'alice',
      resourceId: 'warehouse',
      role: 'read',
      expiresAt: extended,
    });
    const stale: GrantRecord = {
      id: grantId,
      request_id: 'req_00000000000000000v01',
      user_id: 'alice',
      resource_id: 'warehouse',
      role: 'read',
      status: 'active',
      starts_at: new Date(start),
      expires_at: new Date(start + 3600_000),
      ended_at: null,
      end_reason: null,
      ended_by: null,
      next_reminder_at: null,
    };
    const { secret: credential } = await access.issue(stale);
    expect((await target.login(credential.user))?.rolvaliduntil?.toISOString()).toBe(extended.toISOString());
    expect(await access.revoke({ grantId })).toMatchObject({ existed: true, sessionsEnded: 0 });
    expect(await access.revoke({ grantId })).toMatchObject({ existed: false });
    expect(await target.login(credential.user)).toBeNull();
  });
});
