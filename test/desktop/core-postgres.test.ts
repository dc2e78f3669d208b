import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLIPBOARD_CLEAR_MS } from '../../main/core/ipc-handlers.js';
import type { PsqlEnvironment } from '../../api/postgres-login.js';
import { DATABASES, postgresAvailable, postgresServerUrl } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { PostgresTarget } from '../support/postgres-target.js';
import { startService, type RunningService } from '../support/service.js';
import { databaseDesktop, recordingLauncher, type DatabaseDesktop } from './database-logins.js';
import { until } from './helpers.js';

/** The total of reporting.sales, as the login sees it through `config`; its SQLSTATE when refused. */
async function salesTotal(config: pg.ClientConfig): Promise<string> {
  const client = new pg.Client(config);
  client.on('error', () => undefined); // a session the server ends is read from the query instead
  try {
    await client.connect();
    const { rows } = await client.query<{ total: string }>(
      'SELECT sum(amount)::text AS total FROM reporting.sales',
    );
    return rows[0]?.total ?? 'no rows';
  } catch (error) {
    return error instanceof Error && 'code' in error ? `refused ${String(error.code)}` : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** libpq's environment as the launcher got it, as node-postgres's connection settings. */
function fromEnvironment(environment: PsqlEnvironment): pg.ClientConfig {
  return {
    host: environment.PGHOST,
    port: Number(environment.PGPORT),
    database: environment.PGDATABASE,
    user: environment.PGUSER,
    password: environment.PGPASSWORD,
  };
}

/** Whether a psql binary is here to run (CI installs the PostgreSQL client alongside the server). */
const psqlInstalled = spawnSync('psql', ['--version']).status === 0;

/**
 * A real just-in-time PostgreSQL login, end to end on the desktop (TEST_DATABASE_URL names the server):
 * the grant activates, its login lands in the keychain, Copy connection URI puts a URI on the clipboard
 * that really connects, Open psql hands over an environment psql really connects with, an extension
 * keeps the same login working, and at expiry the keychain entry is gone (and the login with it).
 */
describe.runIf(keychainAvailable && postgresAvailable()).each(DATABASES)(
  'a real PostgreSQL login on the desktop, service on %s',
  (kind) => {
    let target: PostgresTarget;
    let running: RunningService;
    let alice: DatabaseDesktop;
    const launcher = recordingLauncher();

    beforeAll(async () => {
      target = await PostgresTarget.create(postgresServerUrl());
    });
    afterAll(async () => {
      await target.drop();
    });
    beforeEach(async () => {
      running = await startService({ kind, policy: await target.policy() });
      alice = await databaseDesktop(running, 'alice', launcher);
    });
    afterEach(async () => {
      await alice.stop();
      await running.stop();
    });

    it('activates, copies a URI that connects, opens psql with a working environment, and is gone at expiry', async () => {
      const grant = await alice.grantOf('warehouse', 'read', 120);
      const stored = await alice.stored(grant.id);
      expect(stored).toMatchObject({ kind: 'postgres', secret: { user: `${target.rolePrefix}${grant.id}` } });
      expect(alice.grant(grant.id)?.credentialKind).toBe('postgres');
      expect(JSON.stringify(alice.core.store.state)).not.toContain(stored?.secret.password);

      expect((await alice.call('copyConnectionUri', { grantId: grant.id })).ok).toBe(true);
      const uri = alice.clipboard.text;
      expect(uri).toBe(stored?.secret.uri);
      expect(await salesTotal({ connectionString: uri })).toBe('60');
      if (await target.passwordsEnforced()) {
        const wrong = new URL(uri);
        wrong.password = 'not-the-password';
        expect(await salesTotal({ connectionString: wrong.toString() })).toBe('refused 28P01');
      }

      expect(await alice.call('openPsql', { grantId: grant.id })).toEqual({ ok: true, value: null });
      const environment = launcher.environments.at(-1);
      if (!environment) throw new Error('the launcher was not asked to open anything');
      expect(await salesTotal(fromEnvironment(environment))).toBe('60');
      if (psqlInstalled) {
        // psql itself, given nothing but the environment (no password on its command line).
        const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('PG'));
        const psql = spawnSync('psql', ['-At', '-c', 'SELECT sum(amount) FROM reporting.sales'], {
          env: { ...Object.fromEntries(inherited), ...environment },
          encoding: 'utf8',
        });
        expect({ status: psql.status, out: psql.stdout.trim(), err: psql.stderr }).toEqual({
          status: 0,
          out: '60',
          err: '',
        });
      }

      // The clipboard forgets the URI after 30 s; the login itself lasts until the grant ends.
      await running.advance(CLIPBOARD_CLEAR_MS);
      await until(() => alice.clipboard.text === '', 'the clipboard cleared');

      await running.advance(90_000);
      await until(async () => (await alice.stored(grant.id)) === null, 'the keychain entry gone at expiry');
      expect(alice.settings.current.vault).toEqual([]);
      expect(alice.grant(grant.id)).toMatchObject({ status: 'expired', credential: 'wiped' });
      await until(
        async () => !(await target.logins()).includes(`${target.rolePrefix}${grant.id}`),
        'the login dropped',
      );
      expect(await salesTotal({ connectionString: uri })).toMatch(/^refused /);
    });

    it('an extension keeps the login the user connected with working past the old expiry', async () => {
      const grant = await alice.grantOf('warehouse', 'read', 60);
      expect((await alice.call('copyConnectionUri', { grantId: grant.id })).ok).toBe(true);
      const uri = alice.clipboard.text;
      const outcome = await alice.core.extendGrant({
        grantId: grant.id,
        durationSeconds: 120,
        reason: 'the report runs long',
        idempotencyKey: randomUUID(),
      });
      expect(outcome.kind).toBe('extended');
      await running.advance(90_000); // past the first expiry
      expect(await salesTotal({ connectionString: uri })).toBe('60');
      expect((await alice.stored(grant.id))?.secret.uri).toBe(uri);
      expect(alice.grant(grant.id)).toMatchObject({ status: 'active', credential: 'stored' });
    });
  },
);
