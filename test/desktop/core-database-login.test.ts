import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../api/errors.js';
import { CLIPBOARD_CLEAR_MS } from '../../main/core/ipc-handlers.js';
import { trayModel, type TrayMenuItem } from '../../main/core/tray-model.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import {
  databaseDesktop,
  demoWithAnalytics,
  recordingLauncher,
  standInPostgresIssuer,
  type DatabaseDesktop,
} from './database-logins.js';
import { until } from './helpers.js';

const ENDED = {
  code: 'grant_ended',
  message: 'This grant has ended; its credential is gone. Request access again.',
};
const NOT_A_LOGIN = {
  code: 'not_a_database_login',
  message:
    'This grant’s credential is not a PostgreSQL login, so there is no connection URI or psql session to open.',
};

/** The labels in the tray's submenu for the grant whose label starts with `name`. */
function trayItemsFor(menu: readonly TrayMenuItem[], name: string): string[] {
  const submenu = menu.find((item) => item.kind === 'submenu' && item.label.startsWith(name));
  if (submenu?.kind !== 'submenu') throw new Error(`no tray submenu for ${name}`);
  return submenu.items.flatMap((item) => (item.kind === 'item' ? [item.label] : []));
}

/**
 * A database login on the desktop, against the real service (its PostgreSQL issuer replaced by a
 * stand-in, so this runs without a PostgreSQL server; core-postgres.test.ts uses a real one): what the
 * windows learn, Copy connection URI, Open psql, an extension that keeps the login, and the refusals.
 */
describe.runIf(keychainAvailable).each(DATABASES)('database logins on the desktop, service on %s', (kind) => {
  let running: RunningService;
  let fetches: Map<string, number>;
  const desktops: DatabaseDesktop[] = [];
  const desktop = async (username: string, launcher = recordingLauncher()) => {
    const opened = await databaseDesktop(running, username, launcher);
    desktops.push(opened);
    return { ...opened, launcher };
  };

  beforeEach(async () => {
    const issuer = standInPostgresIssuer();
    fetches = issuer.fetches;
    running = await startService({
      kind,
      policy: await demoWithAnalytics(),
      issuers: new Map([['postgres', issuer.factory]]),
    });
  });
  afterEach(async () => {
    for (const opened of desktops.splice(0)) await opened.stop();
    await running.stop();
  });

  it('the windows learn the kind, never the secret; Copy connection URI and Open psql use the kept login', async () => {
    const alice = await desktop('alice');
    const grant = await alice.grantOf('analytics-db', 'read', 600);
    const stored = await alice.stored(grant.id);
    expect(stored).toMatchObject({ kind: 'postgres', expiresAt: grant.expiresAt });
    const password = stored?.secret.password ?? '';
    expect(alice.grant(grant.id)).toMatchObject({ credential: 'stored', credentialKind: 'postgres' });
    expect(alice.settings.current.vault).toEqual([expect.objectContaining({ kind: 'postgres' })]);
    // Nothing of the secret is in the state the windows mirror, nor in the settings file.
    expect(JSON.stringify(alice.core.store.state)).not.toContain(password);
    expect(JSON.stringify(alice.settings.current)).not.toContain(password);
    expect(trayItemsFor(trayModel(alice.core.store.state, running.clock.now()).menu, 'Analytics')).toEqual([
      'Copy connection URI',
      'Open psql',
      'Extend…',
      'Relinquish',
    ]);

    expect(await alice.call('copyConnectionUri', { grantId: grant.id })).toEqual({
      ok: true,
      value: { clearsAt: running.clock.now() + CLIPBOARD_CLEAR_MS },
    });
    expect(alice.clipboard.text).toBe(stored?.secret.uri);
    expect(alice.clipboard.text).toContain(password);
    await running.advance(CLIPBOARD_CLEAR_MS);
    await until(() => alice.clipboard.text === '', 'the clipboard cleared');

    expect(await alice.call('openPsql', { grantId: grant.id })).toEqual({ ok: true, value: null });
    expect(alice.launcher.environments).toEqual([
      {
        PGHOST: 'analytics.internal',
        PGPORT: '5432',
        PGDATABASE: 'analytics',
        PGUSER: stored?.secret.user,
        PGPASSWORD: password,
        PGSSLMODE: 'prefer',
      },
    ]);
    expect(alice.log.lines).toContainEqual({
      level: 'info',
      details: { grantId: grant.id },
      message: 'opened psql in a terminal',
    });
    // Copying and opening read the keychain: the service set one password, once.
    expect(fetches.get(grant.id)).toBe(1);
  });

  it('an extension keeps the login: no new password, and the keychain entry moves to the new expiry', async () => {
    const alice = await desktop('alice');
    const grant = await alice.grantOf('analytics-db', 'read', 600);
    const before = await alice.stored(grant.id);
    const outcome = await alice.core.extendGrant({
      grantId: grant.id,
      durationSeconds: 600,
      reason: 'a longer query',
      idempotencyKey: randomUUID(),
    });
    if (outcome.kind !== 'extended') throw new Error('expected the extension at once');
    const later = outcome.grant.expiresAt;
    await until(
      async () => (await alice.stored(grant.id))?.expiresAt === later,
      'the kept login moved to the new expiry',
    );
    expect((await alice.stored(grant.id))?.secret).toEqual(before?.secret);
    expect(alice.settings.current.vault).toEqual([
      expect.objectContaining({ grantId: grant.id, expiresAt: later, kind: 'postgres' }),
    ]);
    expect(alice.grant(grant.id)).toMatchObject({ expiresAt: later, credential: 'stored' });
    expect(fetches.get(grant.id)).toBe(1);
    // The login still goes at the new expiry, not the old one.
    await running.advance(600_000 + 1000);
    expect(await alice.stored(grant.id)).not.toBeNull();
    await running.advance(600_000);
    await until(async () => (await alice.stored(grant.id)) === null, 'the wipe at the new expiry');
  });

  it('refuses a grant that is not the user’s, a token, an ended grant and a missing psql, in sentences', async () => {
    const alice = await desktop('alice');
    const dave = await desktop('dave');
    const theirs = await dave.grantOf('analytics-db', 'read', 600);
    const token = await alice.grantOf('sandbox', 'operator', 600);
    const login = await alice.grantOf('analytics-db', 'read', 60);

    // Another person's grant is unknown here, however well-formed its id.
    for (const method of ['copyConnectionUri', 'openPsql'])
      expect(await alice.call(method, { grantId: theirs.id })).toEqual({ ok: false, error: ENDED });
    // A signed token has no URI and no psql session.
    for (const method of ['copyConnectionUri', 'openPsql'])
      expect(await alice.call(method, { grantId: token.id })).toEqual({ ok: false, error: NOT_A_LOGIN });
    expect(trayItemsFor(trayModel(alice.core.store.state, running.clock.now()).menu, 'Sandbox')).toEqual([
      'Copy credential',
      'Extend…',
      'Relinquish',
    ]);

    // psql missing: the launcher's sentence comes back as it is.
    alice.launcher.failNextWith = new UserError('psql_not_found', 'psql is not installed; install it.');
    expect(await alice.call('openPsql', { grantId: login.id })).toEqual({
      ok: false,
      error: { code: 'psql_not_found', message: 'psql is not installed; install it.' },
    });

    // At its expiry the login leaves the keychain, and nothing opens or copies it any more.
    await running.advance(60_000);
    await until(async () => (await alice.stored(login.id)) === null, 'the wipe at expiry');
    for (const method of ['copyConnectionUri', 'openPsql'])
      expect(await alice.call(method, { grantId: login.id })).toEqual({ ok: false, error: ENDED });

    expect(alice.clipboard.text).toBe('');
    expect(alice.launcher.environments).toEqual([]);
    expect(fetches.get(login.id)).toBe(1);
  });

  it('without a launcher (a headless run), Open psql says to copy the URI instead', async () => {
    const alice = await databaseDesktop(running, 'alice');
    desktops.push(alice);
    const grant = await alice.grantOf('analytics-db', 'read', 600);
    expect(await alice.call('openPsql', { grantId: grant.id })).toEqual({
      ok: false,
      error: {
        code: 'psql_unavailable',
        message:
          'Timebox cannot open a terminal here. Use Copy connection URI and paste it into your PostgreSQL client.',
      },
    });
    expect((await alice.call('copyConnectionUri', { grantId: grant.id })).ok).toBe(true);
  });
});
