import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { startServer, type ServerProcess } from '../support/cli-process.js';
import { createTestDatabase, postgresAvailable, postgresServerUrl } from '../support/databases.js';
import { Api, type ApiResponse } from '../support/http.js';
import { PostgresTarget } from '../support/postgres-target.js';

/*
 * The stop drill with access outside the service: the real server command, on PostgreSQL, handing out
 * PostgreSQL logins that people use from real psql sessions. Before each stop the previous run's grant
 * is revoked (its psql session still open, its login's removal perhaps still under way), and as the
 * signal arrives a login is being issued (a new grant) and this run's is being revoked. Each stop must
 * end cleanly within the deadline (exit 0; the watchdog would exit non-zero); after the next start every
 * revocation that was answered holds in PostgreSQL too: its login is gone and its sessions are cut, while
 * the logins of live grants still let their owner in.
 */
const STOPS = 3;
const READ = { resourceId: 'warehouse', role: 'read', durationSeconds: 600, reason: 'stop drill' };

interface Credential {
  secret: { uri: string; user: string };
}

function inFlight<T>(call: Promise<ApiResponse<T>>): Promise<ApiResponse<T> | null> {
  return call.catch(() => null);
}

/** An interactive psql session on `uri`, connected once it has answered a first query. */
async function psqlSession(uri: string): Promise<ChildProcessWithoutNullStreams> {
  const psql = spawn('psql', ['--no-psqlrc', '--quiet', '--tuples-only', uri], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
  });
  let output = '';
  psql.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  psql.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  psql.stdin.write('SELECT 4242;\n');
  for (let waited = 0; !output.includes('4242'); waited += 50) {
    if (waited > 20_000 || psql.exitCode !== null) throw new Error(`psql did not connect: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return psql;
}

describe.runIf(postgresAvailable())('the stop drill with PostgreSQL logins and psql sessions', () => {
  let target: PostgresTarget;
  let running: ServerProcess | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    target = await PostgresTarget.create(postgresServerUrl());
  });
  afterAll(async () => {
    await target.drop();
  });
  afterEach(async () => {
    await running?.killGroup();
    running = null;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(
    'stops cleanly with logins issued and revoked in flight, and every revocation holds in PostgreSQL',
    { timeout: 300_000 },
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'timebox-drill-access-'));
      cleanups.push(() => {
        rmSync(folder, { recursive: true, force: true });
      });
      const policyFile = join(folder, 'timebox.yaml');
      const { text, env: policyEnv } = await target.policyFile();
      writeFileSync(policyFile, text);
      const database = await createTestDatabase('postgres');
      cleanups.push(() => database.drop());
      const args = ['--config', policyFile, '--port', '0'];
      const env = { ...policyEnv, DATABASE_URL: database.url ?? '' };

      const sessions = new Map<string, ChildProcessWithoutNullStreams>();
      cleanups.push(() => {
        for (const psql of sessions.values()) psql.kill();
      });
      const grants: string[] = [];
      const revoked: string[] = [];
      for (let stop = 0; stop < STOPS; stop += 1) {
        running = startServer(args, env);
        const api = new Api(await running.listening());
        const [alice, admin] = [await api.login('alice'), await api.login('admin')];
        const created = await api.post<RequestView>('/v1/requests', alice, READ);
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const grantId = created.body.grantId ?? '';
        grants.push(grantId);
        const credential = await api.get<Credential>(`/v1/grants/${grantId}/credential`, alice);
        expect(credential.status, JSON.stringify(credential.body)).toBe(200);
        sessions.set(grantId, await psqlSession(credential.body.secret.uri));
        if (stop % 2 === 1) running.loseOutput();

        // Before the signal, answered: a live grant of the previous run is revoked; its login's removal, and
        // the cut of its psql session, may still be under way when the signal comes.
        const previous = grants.filter((id) => id !== grantId && !revoked.includes(id)).at(-1);
        if (previous !== undefined) {
          expect((await api.post(`/v1/grants/${previous}/revoke`, admin, {})).status).toBe(200);
          revoked.push(previous);
        }
        // In flight as the signal arrives: a login being issued, and this run's being revoked.
        const issuing = inFlight(api.post<RequestView>('/v1/requests', alice, READ));
        const revocation = inFlight(api.post(`/v1/grants/${grantId}/revoke`, admin, {}));
        running.signalGroup('SIGTERM');

        expect(await running.exit, running.output()).toEqual({ code: 0, signal: null });
        const issued = await issuing;
        if (issued?.status === 201) grants.push(issued.body.grantId ?? '');
        if ((await revocation)?.status === 200) revoked.push(grantId);
      }
      // The drill is not vacuous: every run after the first revoked a grant whose psql session was open.
      expect(revoked.length).toBeGreaterThanOrEqual(STOPS - 1);

      running = startServer(args, env);
      const api = new Api(await running.listening());
      const admin = await api.login('admin');
      const targetAdmin = new pg.Client({ connectionString: target.adminUrl });
      await targetAdmin.connect();
      cleanups.push(() => targetAdmin.end());
      const loginOf = (grantId: string): string => `${target.rolePrefix}${grantId}`;
      // Access outside the service is made and removed by a durable queue that resumes at start.
      for (let waited = 0; ; waited += 200) {
        const logins = new Set(await target.logins());
        const { rows } = await targetAdmin.query<{ usename: string }>(
          'SELECT usename FROM pg_stat_activity WHERE starts_with(usename, $1)',
          [target.rolePrefix],
        );
        const connected = new Set(rows.map((row) => row.usename));
        const settled = revoked.every((id) => !logins.has(loginOf(id)) && !connected.has(loginOf(id)));
        if (settled) break;
        if (waited > 30_000) throw new Error(`revoked logins still there: ${[...logins].join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const id of grants) {
        const grant = (await api.get<GrantView>(`/v1/grants/${id}`, admin)).body;
        if (revoked.includes(id)) expect(grant.status, id).toBe('revoked');
        else if (grant.status === 'active') expect(await target.login(loginOf(id)), id).not.toBeNull();
      }
      expect((await api.get<{ ok: boolean }>('/v1/audit/verify', admin)).body).toMatchObject({ ok: true });
      running.signalGroup('SIGTERM');
      expect(await running.exit, running.output()).toEqual({ code: 0, signal: null });
    },
  );
});
