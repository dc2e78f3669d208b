import { randomBytes, randomUUID } from 'node:crypto';
import { demoPolicy, type IssuerFactory, type Policy } from '../../server/index.js';
import { dispatch } from '../../main/core/ipc-handlers.js';
import { grantAccount } from '../../main/core/keychain-accounts.js';
import type { PsqlEnvironment } from '../../api/postgres-login.js';
import type { PsqlLauncher } from '../../main/core/psql.js';
import { TimeboxCore } from '../../main/core/timebox.js';
import type { GrantState } from '../../preload/contract.js';
import { testKeychain } from '../support/keychain.js';
import type { ManualClock } from '../support/manual-clock.js';
import { memorySettings, recordingLog, until } from './helpers.js';
import { headlessHandlers } from '../support/desktop.js';

/** The pieces the database-login suites share: a desktop with a launcher and the IPC handlers over it. */

export interface LaunchRecord {
  readonly environments: PsqlEnvironment[];
  /** What the next launch fails with, when it should (psql missing, say). */
  failNextWith: Error | null;
}

/** A PsqlLauncher that records what it was asked to open. */
export function recordingLauncher(): PsqlLauncher & LaunchRecord {
  const launcher = {
    environments: [] as PsqlEnvironment[],
    failNextWith: null as Error | null,
    open(environment: PsqlEnvironment): Promise<void> {
      const failure = launcher.failNextWith;
      launcher.failNextWith = null;
      if (failure) return Promise.reject(failure);
      launcher.environments.push(environment);
      return Promise.resolve();
    },
  };
  return launcher;
}

export interface StoredLogin {
  readonly kind: string;
  readonly expiresAt: string;
  readonly secret: { password: string; uri: string; user: string };
}

/**
 * One person's desktop as the app wires it: the real core (with `launcher`, when given) on the real
 * keychain, settings in memory, and the IPC handlers over a clipboard the test can read.
 */
export async function databaseDesktop(
  running: { readonly url: string; readonly clock: ManualClock; advance(ms: number): Promise<void> },
  username: string,
  launcher?: PsqlLauncher,
) {
  const keychain = testKeychain();
  const settings = memorySettings({ serviceUrl: running.url });
  const log = recordingLog();
  const core = new TimeboxCore({
    clock: running.clock,
    fetch,
    keychain,
    settings,
    notifier: { show: () => undefined },
    log,
    random: () => 0.5,
    coalesceMs: 50,
    ...(launcher ? { psql: launcher } : {}),
  });
  const clipboard = { text: '' };
  const handlers = headlessHandlers({
    core,
    clipboard: {
      readText: () => Promise.resolve(clipboard.text),
      writeText: (text) => {
        clipboard.text = text;
        return Promise.resolve();
      },
    },
    clock: running.clock,
    log,
  });
  await core.start();
  await core.signIn({ username, password: 'demo' });
  await until(
    () => core.store.state.connection.status === 'live' && core.store.state.catalog.length > 0,
    'the live connection',
    { nudge: () => running.advance(1000) },
  );
  const grant = (grantId: string): GrantState | undefined =>
    core.store.state.grants.find((candidate) => candidate.id === grantId);
  return {
    core,
    keychain,
    settings,
    log,
    clipboard,
    grant,
    call: (method: string, args: unknown) => dispatch(handlers, method, args, log, 'test window'),
    /** The credential in the keychain, parsed; null when there is none. */
    async stored(grantId: string): Promise<StoredLogin | null> {
      const text = await keychain.get(grantAccount(grantId));
      return text === null ? null : (JSON.parse(text) as StoredLogin);
    },
    /** Asks for `role` of `resourceId` (granted at once by policy) and waits until its credential is kept. */
    async grantOf(resourceId: string, role: string, seconds: number): Promise<GrantState> {
      const request = await core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId,
        role,
        durationSeconds: seconds,
        reason: 'database login test',
      });
      const grantId = request.grantId;
      if (!grantId) throw new Error(`expected a grant at once, got a ${request.status} request`);
      await until(() => grant(grantId)?.credential === 'stored', `the credential of ${grantId}`);
      const granted = grant(grantId);
      if (!granted) throw new Error('no grant');
      return granted;
    },
    async stop() {
      await core.stop();
      await keychain.wipe();
    },
  };
}

export type DatabaseDesktop = Awaited<ReturnType<typeof databaseDesktop>>;

/**
 * A stand-in for the built-in PostgreSQL issuer, for suites that run without a PostgreSQL server: a
 * login of the right shape, with a new password at every fetch (as the real one sets), and no database
 * behind it. `fetches` counts the fetches per grant.
 */
export function standInPostgresIssuer(): { factory: IssuerFactory; fetches: Map<string, number> } {
  const fetches = new Map<string, number>();
  const factory: IssuerFactory = () => ({
    kind: 'postgres',
    issue: (grant) => {
      fetches.set(grant.id, (fetches.get(grant.id) ?? 0) + 1);
      const user = `timebox_${grant.id}`;
      const password = randomBytes(18).toString('base64url');
      return Promise.resolve({
        secret: {
          host: 'analytics.internal',
          port: 5432,
          database: 'analytics',
          user,
          password,
          sslmode: 'prefer',
          uri: `postgresql://${user}:${password}@analytics.internal:5432/analytics?sslmode=prefer`,
        },
        expiresAt: grant.expires_at,
      });
    },
  });
  return { factory, fetches };
}

/** The demo organisation with its `analytics-db` PostgreSQL resource (`read`: at once, 10 s to 4 h). */
export function demoWithAnalytics(): Promise<Policy> {
  // The admin URL is never dialled: the suites replace the issuer that would use it.
  return demoPolicy('demo', { TIMEBOX_DEMO_POSTGRES_URL: 'postgres://stand-in@127.0.0.1:9/unused' });
}
