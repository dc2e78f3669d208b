import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../server/auth/passwords.js';
import pg from 'pg';
import {
  createTestDatabase,
  postgresAvailable,
  postgresServerUrl,
  type TestDatabase,
} from '../support/databases.js';
import { Api } from '../support/http.js';
import { serverCommand, serverEnvironment } from '../support/cli-process.js';
import { EventStream } from '../support/sse.js';

const ROOT = new URL('../../', import.meta.url);

interface Cli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

function runCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
  cwd: URL | string = ROOT,
): Cli {
  const child = spawn(process.execPath, serverCommand(args), { cwd, env: serverEnvironment(env) });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  if (input !== undefined) child.stdin.end(input);
  const exit = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  return { child, output: () => output, exit };
}

/** Waits for the "listening" log line and returns the URL it names. */
async function listeningUrl(cli: Cli): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = /Timebox is listening on (http:\/\/[\d.:]+)/.exec(cli.output());
    if (match?.[1]) return match[1];
    if (cli.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the service did not start:\n${cli.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the server command', () => {
  let dataDir: string;
  let running: Cli | null = null;
  let firstKeys: unknown[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'timebox-cli-'));
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exit;
    }
    running = null;
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the demo on PGlite in the data folder, and drains and exits 0 on SIGTERM', async () => {
    running = runCli(['--demo', '--port', '0', '--data', dataDir]);
    const url = await listeningUrl(running);
    const api = new Api(url);
    expect((await api.get('/healthz')).body).toMatchObject({ ok: true, db: 'pglite' });
    firstKeys = (await api.get<{ keys: unknown[] }>('/.well-known/jwks.json')).body.keys;
    expect(firstKeys).toHaveLength(1);
    const alice = await api.login('alice');
    const stream = await EventStream.open(url, alice);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
    await stream.until(() => stream.isEnded, 'the event stream to be closed by the drain');
    expect(running.output()).toContain('stopped cleanly');
    // Logs are JSON lines and never carry the password or the token.
    expect(running.output()).not.toContain(alice);
    expect(running.output()).not.toMatch(/"password"/);
  });

  it('takes its port and data folder from the environment too', async () => {
    running = runCli([], { TIMEBOX_DEMO: '1', TIMEBOX_PORT: '0', TIMEBOX_DATA: dataDir });
    const url = await listeningUrl(running);
    // The same data folder as the previous test: the signing key survived the restart.
    expect((await new Api(url).get<{ keys: unknown[] }>('/.well-known/jwks.json')).body.keys).toEqual(
      firstKeys,
    );
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
  });

  it.each([
    [['--port', 'eighty'], '--port must be a number from 0 to 65535, not "eighty".'],
    [['--demo', '--config', 'x.yaml'], 'Choose --demo or --config, not both.'],
    [['--bogus'], "Unknown option '--bogus'"],
    [
      ['--config', '/nonexistent/timebox.yaml'],
      'Policy file /nonexistent/timebox.yaml is invalid:\n  (top level): cannot read the file (ENOENT)',
    ],
    [['--demo', '--public-url', 'ftp://x'], '--public-url must be an http or https URL, not "ftp://x".'],
    [
      ['--demo', '--trust-proxy', 'everyone'],
      '--trust-proxy takes the proxies\' addresses or CIDR ranges, comma-separated; not "everyone".',
    ],
    [['--demo', '--trust-proxy', '10.0.0.0/8,'], 'not "10.0.0.0/8,"'],
    [
      ['--demo', '--database-pool', '0'],
      '--database-pool must be a number of connections from 1 to 999, not "0".',
    ],
    [['--demo', '--database-pool', 'many'], 'not "many"'],
  ])('refuses %j with exit code 2 and says why', async (args, message) => {
    running = runCli(args);
    expect(await running.exit).toBe(2);
    expect(running.output()).toContain(message);
  });

  it('refuses a database timeout that is not a number of milliseconds, with exit code 2', async () => {
    running = runCli(['--demo'], { TIMEBOX_DATABASE_QUERY_TIMEOUT_MS: '5s' });
    expect(await running.exit).toBe(2);
    expect(running.output()).toContain(
      'TIMEBOX_DATABASE_QUERY_TIMEOUT_MS must be a number of milliseconds from 100 to 600000, not "5s".',
    );
  });

  it('runs the demo, saying so, when no policy is named and the folder has none', async () => {
    const emptyFolder = mkdtempSync(join(tmpdir(), 'timebox-cli-cwd-'));
    try {
      running = runCli(
        ['--port', '0', '--data', join(dataDir, 'implied')],
        { TIMEBOX_DEMO_PASSWORD: 'not-the-default' },
        undefined,
        emptyFolder,
      );
      const url = await listeningUrl(running);
      expect(running.output()).toContain('no policy file');
      expect(running.output()).toContain('running the demo organisation');
      const api = new Api(url);
      // TIMEBOX_DEMO_PASSWORD replaces "demo" for every demo user.
      expect(
        (await api.post('/v1/auth/login', undefined, { username: 'alice', password: 'demo' })).status,
      ).toBe(401);
      const login = await api.post<{ token: string }>('/v1/auth/login', undefined, {
        username: 'alice',
        password: 'not-the-default',
      });
      expect(login.status).toBe(200);
      running.child.kill('SIGTERM');
      expect(await running.exit).toBe(0);
    } finally {
      rmSync(emptyFolder, { recursive: true, force: true });
    }
  });

  it('counts sign-in attempts per client address behind a trusted proxy', async () => {
    running = runCli([
      '--demo',
      '--port',
      '0',
      '--data',
      join(dataDir, 'proxy'),
      '--trust-proxy',
      '127.0.0.1',
    ]);
    const url = await listeningUrl(running);
    const attempt = (address: string, username: string, password: string) =>
      fetch(`${url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ username, password }),
      });
    // The demo allows 30 failures a minute per address; each goes to a different account, so only the
    // address limit can bite.
    for (let index = 0; index < 30; index += 1) {
      expect((await attempt('203.0.113.5', `nobody${index}`, 'wrong')).status).toBe(401);
    }
    expect((await attempt('203.0.113.5', 'alice', 'demo')).status).toBe(429);
    // Another client behind the same proxy is not locked out with it.
    expect((await attempt('203.0.113.6', 'alice', 'demo')).status).toBe(200);
    // 31 sign-ins at the real scrypt cost (0.4 s of a core each, longer on a busy machine).
  }, 120_000);

  it('refuses a DATABASE_URL that is not PostgreSQL', async () => {
    running = runCli(['--demo', '--port', '0'], { DATABASE_URL: 'mysql://localhost/x' });
    expect(await running.exit).toBe(2);
    expect(running.output()).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL.');
  });

  it('hashes a password read on stdin for the policy file', async () => {
    running = runCli(['hash-password'], {}, 'correct horse battery staple\n');
    expect(await running.exit).toBe(0);
    const hash = running.output().trim();
    // OWASP's floor for scrypt.
    expect(hash).toMatch(/^scrypt:131072:8:1:/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('wrong', hash)).toBe(false);
  });

  it('refuses a password shorter than 12 characters, to hash or for the demo', async () => {
    running = runCli(['hash-password'], {}, 'eleven-char\n');
    expect(await running.exit).toBe(2);
    expect(running.output()).toContain('A password needs at least 12 characters; this one has 11.');
    running = runCli(['--demo', '--port', '0'], { TIMEBOX_DEMO_PASSWORD: 'short' });
    expect(await running.exit).toBe(2);
    expect(running.output()).toContain('TIMEBOX_DEMO_PASSWORD: A password needs at least 12 characters');
  });

  describe.runIf(postgresAvailable())('with DATABASE_URL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase('postgres');
    });
    afterAll(async () => {
      await database.drop();
    });

    it('runs on PostgreSQL, migrating the empty database at start', async () => {
      running = runCli(['--demo', '--port', '0'], { DATABASE_URL: database.url ?? '' });
      const url = await listeningUrl(running);
      expect((await new Api(url).get('/healthz')).body).toMatchObject({ ok: true, db: 'postgres' });
      running.child.kill('SIGTERM');
      expect(await running.exit).toBe(0);
    });
    it('opens no more connections than --database-pool, however many requests arrive at once', async () => {
      running = runCli(['--demo', '--port', '0', '--database-pool', '2'], {
        DATABASE_URL: database.url ?? '',
      });
      const api = new Api(await listeningUrl(running));
      const answers = await Promise.all(Array.from({ length: 30 }, () => api.get('/healthz')));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      const admin = new pg.Client({ connectionString: postgresServerUrl() });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ connections: number }>(
          'SELECT count(*)::int AS connections FROM pg_stat_activity WHERE datname = $1',
          [new URL(database.url ?? '').pathname.slice(1)],
        );
        // At most the pool's two, and the connection that LISTENs for other instances' notices.
        expect(rows[0]?.connections).toBeGreaterThanOrEqual(2);
        expect(rows[0]?.connections).toBeLessThanOrEqual(3);
      } finally {
        await admin.end();
      }
      running.child.kill('SIGTERM');
      expect(await running.exit).toBe(0);
    });
  });
});
