import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { hashPassword } from '../../server/index.js';
import { BenchClient } from '../lib/http.js';
import { freshDatabase } from '../lib/postgres.js';
import { startService } from '../lib/processes.js';
import { notRun, result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const NAME = 'PostgreSQL access';
const PASSWORD = 'bench-password';
/** Engineers, each holding at most one login at a time. */
const PEOPLE = Array.from({ length: 40 }, (_, index) => `dba${String(index + 1).padStart(2, '0')}`);

interface Credential {
  readonly secret: { host: string; port: number; database: string; user: string; password: string };
}

/** One `postgres` resource on the target database: logins that may read every table. */
async function writePolicy(folder: string): Promise<string> {
  const hash = await hashPassword(PASSWORD);
  const file = join(folder, 'postgres-policy.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'service: { loginLimits: { perAddress: { attempts: 1000, window: 1m } } }',
      'groups: { engineers: {} }',
      'users:',
      ...PEOPLE.map(
        (name) => `  ${name}: { displayName: ${name}, passwordHash: "${hash}", groups: [engineers] }`,
      ),
      'resources:',
      '  warehouse:',
      '    name: Warehouse',
      '    kind: postgres',
      '    postgres:',
      '      admin: { env: BENCH_WAREHOUSE_ADMIN_URL }',
      '      sslmode: disable',
      '      rolePrefix: tbx_bench_',
      '    roles:',
      '      read:',
      '        requesters: [engineers]',
      '        duration: { min: 10s, default: 1h, max: 1d }',
      '        reasonRequired: false',
      '        approval: auto',
      '        postgres: { memberOf: [pg_read_all_data] }',
    ].join('\n'),
  );
  return file;
}

async function grant(
  client: BenchClient,
  token: string,
  seconds: number,
): Promise<{ id: string; expiresAt: number }> {
  const created = await client.call('POST', '/v1/requests', token, {
    resourceId: 'warehouse',
    role: 'read',
    durationSeconds: seconds,
  });
  const body = created.json as { grantId?: string } | null;
  if (created.status !== 201 || !body?.grantId) throw new Error(`create answered ${created.status}`);
  const read = await client.call('GET', `/v1/grants/${body.grantId}`, token);
  return { id: body.grantId, expiresAt: Date.parse((read.json as { expiresAt: string }).expiresAt) };
}

async function credentialOf(client: BenchClient, token: string, grantId: string): Promise<Credential> {
  const response = await client.call('GET', `/v1/grants/${grantId}/credential`, token);
  if (response.status !== 200) throw new Error(`credential answered ${response.status}`);
  return response.json as Credential;
}

async function connect(credential: Credential): Promise<pg.Client> {
  const { host, port, database, user, password } = credential.secret;
  const session = new pg.Client({ host, port, database, user, password });
  await session.connect();
  return session;
}

/** Request → auto-approval → login made → credential → a session that answers, one at a time. */
async function timeToLogin(
  client: BenchClient,
  tokens: readonly string[],
  samples: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const token = tokens[index % tokens.length] ?? '';
    const started = performance.now();
    const made = await grant(client, token, 3600);
    const session = await connect(await credentialOf(client, token, made.id));
    await session.query('SELECT 1');
    times.push(performance.now() - started);
    await session.end();
    await client.call('POST', `/v1/grants/${made.id}/revoke`, token, {});
  }
  return times;
}

/** Sessions of grants that expire over a few seconds: how long after expiry each is cut. */
async function cutAfterExpiry(
  client: BenchClient,
  tokens: readonly string[],
  count: number,
): Promise<number[]> {
  const held = await Promise.all(
    tokens.slice(0, count).map(async (token, index) => {
      // 10 s is the role's minimum; spread the expiries over the next 5 s.
      const made = await grant(client, token, 10 + (index % 5));
      const session = await connect(await credentialOf(client, token, made.id));
      const cut = new Promise<number>((resolve) => {
        session.on('error', () => {
          resolve(Date.now());
        });
        session.on('end', () => {
          resolve(Date.now());
        });
      });
      return { expiresAt: made.expiresAt, cut };
    }),
  );
  const lags = await Promise.all(
    held.map(async ({ expiresAt, cut }) =>
      Promise.race([
        cut.then((at) => at - expiresAt),
        new Promise<number>((resolve) =>
          setTimeout(
            () => {
              resolve(Number.POSITIVE_INFINITY);
            },
            expiresAt - Date.now() + 30_000,
          ),
        ),
      ]),
    ),
  );
  return lags;
}

export async function postgresAccessScenario(_policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const target = await freshDatabase();
  if (target.url === null) return [notRun(NAME, 'grant to working login p99', 'ms', target.reason)];
  const folder = mkdtempSync(join(tmpdir(), 'timebox-bench-pg-'));
  const service = await startService([await writePolicy(folder), join(folder, 'data')], {
    env: { BENCH_WAREHOUSE_ADMIN_URL: target.url },
  });
  const client = new BenchClient(service.url, 8);
  try {
    const tokens = await Promise.all(PEOPLE.map((name) => client.login(name, PASSWORD)));
    // Warm-up: code paths, the admin connection pool.
    await timeToLogin(client, tokens, 5);
    // At 60 the p99 was the slowest sample; at 200 it is the third slowest, so one stall is not the figure.
    const samples = full ? 1000 : 200;
    const logins = await timeToLogin(client, tokens, samples);
    const sessions = full ? PEOPLE.length : 20;
    const lags = await cutAfterExpiry(client, tokens, sessions);
    const missed = lags.filter((lag) => !Number.isFinite(lag)).length;
    const finite = lags.filter((lag) => Number.isFinite(lag));
    return [
      result(
        `${NAME} (service on PGlite, target PostgreSQL)`,
        'grant to working login p99',
        'ms',
        round(percentile(logins, 99)),
        50,
        'lower',
        `${samples} grants one at a time, each: request, auto-approval, login created, credential fetched (new password), connect, SELECT 1; p50 ${round(percentile(logins, 50))} ms`,
      ),
      result(
        `${NAME} (service on PGlite, target PostgreSQL)`,
        'live session cut after expiry p99',
        'ms',
        missed > 0 ? Number.POSITIVE_INFINITY : round(percentile(finite, 99)),
        1000,
        'lower',
        `${sessions} open sessions whose grants end over 5 s; p50 ${round(percentile(finite, 50))} ms, max ${round(Math.max(...finite))} ms; ${missed} never cut within 30 s`,
      ),
    ];
  } finally {
    await client.close();
    await service.stop();
    rmSync(folder, { recursive: true, force: true });
    await target.drop();
  }
}
