import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../api/clock.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import { createService, hashPassword, parsePolicy, type TimeboxService } from '../../server/index.js';
import { createTestDatabase, DATABASES, postgresAvailable, postgresServerUrl } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { PostgresTarget } from '../support/postgres-target.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';
import { buildTimebox, runTimebox, startTimebox, type BuiltCommand } from '../support/timebox-command.js';

/** Prints the variables `timebox exec` hands over, as JSON on one line. */
const PRINT_ENV = `console.log(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(TIMEBOX_|PG)/.test(k)))))`;

let timebox: BuiltCommand;
beforeAll(() => {
  timebox = buildTimebox();
});
afterAll(() => {
  timebox.remove();
});

if (!keychainAvailable) console.warn('exec.test.ts signs in only with the real OS keychain.');

/** A fresh keychain service for each test, signed in as `username` through the real `timebox login`. */
async function signedInEnvironment(url: string, username = 'alice'): Promise<Record<string, string>> {
  const env = {
    TIMEBOX_SERVER: url,
    TIMEBOX_KEYCHAIN_SERVICE: `Timebox-cli-exec-${Math.random().toString(16).slice(2, 10)}`,
  };
  const login = await runTimebox(timebox, ['login', '--username', username], env, 'demo\n');
  if (login.code !== 0) throw new Error(`timebox login failed: ${login.stderr}`);
  return env;
}
const signOut = (env: Record<string, string>) =>
  keytarKeychain(env.TIMEBOX_KEYCHAIN_SERVICE ?? '').delete('session');

describe.runIf(keychainAvailable).each(DATABASES)('timebox exec on %s', (kind) => {
  let service: RunningService;
  let env: Record<string, string>;
  beforeAll(async () => {
    service = await startService({ kind });
  });
  afterAll(async () => {
    await service.stop();
  });
  beforeEach(async () => {
    env = await signedInEnvironment(service.url);
  });
  afterEach(async () => {
    await signOut(env);
    // Each test starts without a grant to reuse.
    const alice = await service.api.login('alice');
    const active = await service.api.get<{ items: GrantView[] }>('/v1/grants?status=active', alice);
    for (const grant of active.body.items) await service.api.post(`/v1/grants/${grant.id}/revoke`, alice, {});
  });

  it('asks for an auto-approved role, runs the command with the token in its environment, and reuses the grant', async () => {
    const first = await runTimebox(
      timebox,
      ['exec', 'sandbox/operator', '--for', '10m', '--', 'node', '-e', PRINT_ENV],
      env,
    );
    expect(first.code, first.stderr).toBe(0);
    const seen = JSON.parse(first.stdout) as Record<string, string>;
    const claims = decodeJwt(seen.TIMEBOX_TOKEN ?? '');
    expect(claims).toMatchObject({ aud: 'sandbox', scope: 'operator' });
    const me = await runTimebox(timebox, ['whoami', '--json'], env);
    expect(claims.sub).toBe((JSON.parse(me.stdout) as { id: string }).id);
    expect(claims.jti).toBe(seen.TIMEBOX_GRANT_ID);
    const grant = (
      await service.api.get<GrantView>(
        `/v1/grants/${seen.TIMEBOX_GRANT_ID ?? ''}`,
        await service.api.login('alice'),
      )
    ).body;
    expect(seen.TIMEBOX_EXPIRES_AT).toBe(grant.expiresAt);
    // The token lives 5 minutes (credentialTtl), its grant 10: the command is given where to renew it.
    expect(seen.TIMEBOX_CREDENTIAL_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
    expect(first.stderr).toContain(`granted ${grant.id}`);
    // The secret is the command's alone: never on the terminal.
    expect(first.stderr).not.toContain(seen.TIMEBOX_TOKEN);

    const second = await runTimebox(
      timebox,
      ['exec', 'sandbox/operator', '--', 'node', '-e', PRINT_ENV],
      env,
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`using grant ${grant.id}`);
    expect((JSON.parse(second.stdout) as Record<string, string>).TIMEBOX_GRANT_ID).toBe(grant.id);
  });

  it("returns the command's exit code, 128 + the signal that ended it, and 127 for a command that is not there", async () => {
    expect(
      (await runTimebox(timebox, ['exec', 'sandbox/operator', '--', 'node', '-e', 'process.exit(7)'], env))
        .code,
    ).toBe(7);
    const killed = await runTimebox(
      timebox,
      ['exec', 'sandbox/operator', '--', 'node', '-e', "process.kill(process.pid, 'SIGKILL')"],
      env,
    );
    expect(killed.code).toBe(137);
    const missing = await runTimebox(
      timebox,
      ['exec', 'sandbox/operator', '--', 'no-such-command-here'],
      env,
    );
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('There is no command "no-such-command-here" on your PATH.');
  });

  it('passes signals on to the command and ends with its answer', async () => {
    const script = `process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(42); }); console.log('ready'); setInterval(() => {}, 1000);`;
    const running = startTimebox(timebox, ['exec', 'sandbox/operator', '--', 'node', '-e', script], env);
    await running.shows('ready');
    running.child.kill('SIGTERM'); // the timebox process alone, as a supervisor does
    const result = await running.finished;
    expect(result.stdout).toContain('child got SIGTERM');
    expect(result.code).toBe(42);
  });

  it("warns on stderr at the policy's reminder lead times and when the grant ends", async () => {
    const script = `process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000);`;
    const running = startTimebox(
      timebox,
      ['exec', 'sandbox/operator', '--for', '30m', '--', 'node', '-e', script],
      env,
    );
    await running.shows('ready');
    const grantId = /granted (\S+) /.exec(running.stderr())?.[1] ?? '';
    await service.advance(20 * 60_000); // 10 minutes left: the demo's first reminder
    await running.shows(`sandbox/operator ends in 10m; to keep it: timebox extend ${grantId} --for 30m`);
    await service.advance(10 * 60_000);
    await running.shows('sandbox/operator has ended (expired); its credential no longer works.');
    running.child.kill('SIGTERM');
    expect((await running.finished).code).toBe(0);
  });

  it('waits for a person to approve before it runs the command', async () => {
    const running = startTimebox(
      timebox,
      ['exec', 'prod-db/read', '--reason', 'INC-exec', '--', 'node', '-e', PRINT_ENV],
      env,
    );
    await running.shows('waiting for approval');
    expect(running.stdout()).toBe(''); // nothing ran yet
    const bob = await service.api.login('bob');
    const pending = (await service.api.get<{ items: RequestView[] }>('/v1/requests?scope=approvable', bob))
      .body.items;
    const request = pending.find((candidate) => candidate.reason === 'INC-exec');
    await service.api.post(`/v1/requests/${request?.id ?? ''}/approve`, bob, {});
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty('TIMEBOX_TOKEN');
  });

  it('refuses a malformed target and a missing command as usage, running nothing', async () => {
    const malformed = await runTimebox(
      timebox,
      ['exec', 'sandbox', '--', 'node', '-e', 'console.log("ran")'],
      env,
    );
    expect(malformed.code).toBe(2);
    expect(malformed.stdout).toBe('');
    const noCommand = await runTimebox(timebox, ['exec', 'sandbox/operator'], env);
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toContain("missing required argument 'command'");
  });
});

describe.runIf(keychainAvailable && postgresAvailable())('timebox exec with a PostgreSQL login', () => {
  let target: PostgresTarget;
  let service: RunningService;
  let env: Record<string, string>;
  beforeAll(async () => {
    target = await PostgresTarget.create(postgresServerUrl());
    service = await startService({ kind: 'postgres', policy: await target.policy() });
    env = await signedInEnvironment(service.url);
  });
  afterAll(async () => {
    await signOut(env);
    await service.stop();
    await target.drop();
  });

  it('runs psql connected through PG* variables alone', async () => {
    const result = await runTimebox(
      timebox,
      [
        'exec',
        'warehouse/read',
        '--',
        'psql',
        '-X',
        '-tA',
        '-c',
        'select current_user, sum(amount) from reporting.sales',
      ],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(new RegExp(`^${target.rolePrefix}\\w+\\|60$`));
    const printed = await runTimebox(timebox, ['exec', 'warehouse/read', '--', 'node', '-e', PRINT_ENV], env);
    const seen = JSON.parse(printed.stdout) as Record<string, string>;
    expect(Object.keys(seen)).toEqual(
      expect.arrayContaining([
        'PGDATABASE',
        'PGHOST',
        'PGPASSWORD',
        'PGPORT',
        'PGSSLMODE',
        'PGUSER',
        'TIMEBOX_EXPIRES_AT',
        'TIMEBOX_GRANT_ID',
      ]),
    );
    // A login lives as long as its grant: no token, nothing to renew.
    expect(seen).not.toHaveProperty('TIMEBOX_TOKEN');
    expect(seen).not.toHaveProperty('TIMEBOX_CREDENTIAL_URL');
    expect(seen.PGDATABASE).toBe(target.database);
    expect(printed.stderr).not.toContain(seen.PGPASSWORD);
  });
});

describe.runIf(keychainAvailable)('timebox exec renewing a short-lived token, on the real clock', () => {
  let service: TimeboxService;
  let url: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    const passwordHash = await hashPassword('demo', TEST_PASSWORD_COST);
    const policy = parsePolicy({
      file: 'exec.test.ts (30 s tokens)',
      env: {},
      text: `
version: 1
groups: { engineers: {} }
users:
  alice: { displayName: Alice, groups: [engineers], passwordHash: "${passwordHash}" }
resources:
  sandbox:
    name: Sandbox
    kind: kubernetes
    roles:
      operator:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        reasonRequired: false
        approval: auto
        credentialTtl: 30s
`,
    });
    const database = await createTestDatabase('pglite');
    service = await createService({
      policy,
      databaseUrl: database.url,
      dataDir: null,
      clock: systemClock,
      logger: false,
      heartbeatMs: 15_000,
      passwordCost: TEST_PASSWORD_COST,
    });
    url = await service.listen(0, '127.0.0.1');
    env = await signedInEnvironment(url);
  });
  afterAll(async () => {
    await signOut(env);
    await service.close();
  });

  it('serves a fresh token at TIMEBOX_CREDENTIAL_URL before the first one expires', async () => {
    // Asks the endpoint until the token changes, then prints both: the renewal, seen from inside.
    const script = `
      const get = async () => (await fetch(process.env.TIMEBOX_CREDENTIAL_URL)).json();
      const first = await get();
      let next = first;
      while (next.token === first.token) { await new Promise((r) => setTimeout(r, 500)); next = await get(); }
      console.log(JSON.stringify({ start: process.env.TIMEBOX_TOKEN, first, next }));`;
    const result = await runTimebox(
      timebox,
      ['exec', 'sandbox/operator', '--', 'node', '--input-type=module', '-e', script],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const { start, first, next } = JSON.parse(result.stdout) as Record<
      'first' | 'next',
      { token: string; expiresAt: string }
    > & { start: string };
    expect(first.token).toBe(start);
    const [before, after] = [decodeJwt(first.token), decodeJwt(next.token)];
    expect(after.jti).toBe(before.jti);
    // Renewed before the first stopped working, and the new one lasts longer.
    expect(Date.parse(next.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
    expect((after.iat ?? 0) * 1000).toBeLessThan(Date.parse(first.expiresAt));
  }, 90_000);
});
