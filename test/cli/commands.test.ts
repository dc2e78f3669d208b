import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import type { GrantView, RequestView, ResourceView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, type RunningService } from '../support/service.js';
import { buildTimebox, runTimebox, startTimebox, type BuiltCommand } from '../support/timebox-command.js';

/**
 * The real `timebox` binary, built as the package's bin, run as a child process against the real service,
 * its session kept in the real OS keychain (a keychain service of each test's own).
 */
let timebox: BuiltCommand;
beforeAll(() => {
  timebox = buildTimebox();
});
afterAll(() => {
  timebox.remove();
});

const COMMANDS = [
  'login',
  'logout',
  'whoami',
  'resources',
  'ls',
  'request',
  'approve',
  'deny',
  'extend',
  'relinquish',
  'exec',
  'completion',
];

describe('the command line itself', () => {
  it.each(COMMANDS)('has help for %s, exit 0', async (command) => {
    const result = await runTimebox(timebox, [command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: timebox ${command}`);
    expect(result.stdout).toContain('--server <url>');
  });

  it.each([
    [['requst'], /unknown command 'requst'[\s\S]*Did you mean request\?/],
    [['ls', '--bogus'], /unknown option '--bogus'/],
    [['request'], /missing required argument/],
    [['deny', 'req_1'], /required option '--comment <text>' not specified/],
    [['completion', 'powershell'], /Allowed choices are bash, zsh, fish/],
    [['request', 'prod-db', '--server', 'http://127.0.0.1:9'], /"prod-db" is not a resource and role/],
    [['request', 'a/b/c', '--server', 'http://127.0.0.1:9'], /<resource>\/<role>/],
    [
      ['request', 'prod-db/read', '--for', 'soon', '--server', 'http://127.0.0.1:9'],
      /--for "soon" is not a duration/,
    ],
    [['whoami', '--server', 'not a url'], /"not a url" is not a URL/],
    [[], /Usage: timebox/],
  ])('refuses %j with usage and exit 2', async (args, message) => {
    const result = await runTimebox(timebox, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  });

  it('prints completion scripts that their shells accept', async () => {
    const bash = await runTimebox(timebox, ['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -o default -F _timebox timebox');
    for (const command of COMMANDS) expect(bash.stdout).toContain(command);
    expect(spawnSync('bash', ['-n'], { input: bash.stdout }).status).toBe(0);
    const zsh = await runTimebox(timebox, ['completion', 'zsh']);
    expect(zsh.stdout).toContain('#compdef timebox');
    const fish = await runTimebox(timebox, ['completion', 'fish']);
    expect(fish.stdout).toContain('complete -c timebox -n __fish_use_subcommand -a request');
  });

  it('says a service that is down is down: exit 1, one sentence, no hang', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runTimebox(timebox, ['whoami', '--server', url], { TIMEBOX_TOKEN: 'tbx_whatever' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^timebox: Can't reach the Timebox service at http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED/,
    );
    expect(result.stderr).not.toContain('keeps trying');
  });

  describe('a service that never answers', () => {
    let silent: Server;
    let url: string;
    beforeAll(async () => {
      silent = createServer(() => undefined); // accepts, reads, never answers
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('gives up after TIMEBOX_REQUEST_TIMEOUT with exit 1', async () => {
      const result = await runTimebox(timebox, ['resources', '--server', url], {
        TIMEBOX_TOKEN: 'tbx_whatever',
        TIMEBOX_REQUEST_TIMEOUT: '0.5',
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^timebox: Can't reach the Timebox service/);
    });
  });
});

if (!keychainAvailable) console.warn('commands.test.ts signs in only with the real OS keychain.');

describe.runIf(keychainAvailable).each(DATABASES)('timebox against the service on %s', (kind) => {
  let service: RunningService;
  let keychainService: string;
  let env: Record<string, string>;
  const sessionEntry = () => keytarKeychain(keychainService).get('session');

  beforeAll(async () => {
    service = await startService({ kind });
  });
  afterAll(async () => {
    await service.stop();
  });
  beforeEach(() => {
    keychainService = `Timebox-cli-test-${Math.random().toString(16).slice(2, 10)}`;
    env = { TIMEBOX_SERVER: service.url, TIMEBOX_KEYCHAIN_SERVICE: keychainService };
  });
  afterEach(async () => {
    await keytarKeychain(keychainService).delete('session');
  });

  const run = (args: readonly string[], input?: string) => runTimebox(timebox, args, env, input);
  const login = async (username = 'alice') => {
    const result = await run(['login', '--username', username], 'demo\n');
    expect(result.code, result.stderr).toBe(0);
  };
  const asBob = async (args: readonly string[]) =>
    runTimebox(timebox, args, { TIMEBOX_SERVER: service.url, TIMEBOX_TOKEN: await service.api.login('bob') });
  const approvable = async (reason: string) => {
    const bob = await service.api.login('bob');
    const items = (await service.api.get<{ items: RequestView[] }>('/v1/requests?scope=approvable', bob)).body
      .items;
    const found = items.find((candidate) => candidate.reason === reason);
    if (!found) throw new Error(`bob cannot decide a request "${reason}"`);
    return found;
  };

  it('signs in with a password, keeps the session only in the keychain, and signs out', async () => {
    const result = await run(['login'], 'alice\ndemo\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Signed in to ${service.url} as alice`);
    expect(result.stdout + result.stderr).not.toContain('demo'); // the password is never echoed
    const kept = JSON.parse((await sessionEntry()) ?? 'null') as { token: string; server: string };
    expect(kept.server).toBe(service.url);
    expect((await service.api.get('/v1/me', kept.token)).status).toBe(200);

    const whoami = await run(['whoami', '--json']);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ username: 'alice', server: service.url });

    const logout = await run(['logout']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(await sessionEntry()).toBeNull();
    expect((await service.api.get('/v1/me', kept.token)).status).toBe(401);
    const after = await run(['whoami']);
    expect(after.code).toBe(5);
    expect(after.stderr).toMatch(/Sign in to .* first: timebox login/);
  });

  /** `timebox args…` on a pseudo-terminal (util-linux `script`): what a person at a terminal sees. */
  const onTerminal = (args: readonly string[]) => {
    const line = ['node', timebox.path, ...args].map((word) => `'${word}'`).join(' ');
    const child = spawn('script', ['-qec', line, '/dev/null'], {
      env: { ...process.env, TIMEBOX_TOKEN: '', ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const finished = new Promise<number | null>((resolve) => child.on('close', resolve));
    const shows = async (text: string) => {
      while (!output.includes(text)) {
        if (child.exitCode !== null) throw new Error(`ended before "${text}":\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return { child, output: () => output, finished, shows };
  };

  it.runIf(spawnSync('sh', ['-c', 'command -v script']).status === 0)(
    'on a terminal: the password is not echoed, waiting shows a spinner, and Ctrl-C cancels the request',
    async () => {
      const typing = onTerminal(['login', '-u', 'alice']);
      await typing.shows('Password: ');
      typing.child.stdin.write('demo-not-echoed\n');
      expect(await typing.finished).toBe(5); // a wrong password: the point is what the terminal showed
      expect(typing.output()).not.toContain('demo-not-echoed');

      await login();
      const waiting = onTerminal(['request', 'prod-db/read', '--reason', 'INC-tty', '--wait']);
      await waiting.shows('waiting for approval');
      // A spinner frame redrawn in place: carriage return, erase line (ESC [ K), frame, status.
      expect(waiting.output()).toContain('\r\u001b[K');
      expect(waiting.output()).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] req_\S+: waiting for approval/);
      waiting.child.stdin.write('\x03'); // Ctrl-C, as the terminal sends it to the foreground group
      expect(await waiting.finished).toBe(130);
      expect(waiting.output()).toMatch(/request \S+ was cancelled/);
    },
  );

  it('refuses a wrong password with exit 5 and keeps nothing', async () => {
    const result = await run(['login', '--username', 'alice'], 'wrong\n');
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^Password: \ntimebox: /);
    expect(await sessionEntry()).toBeNull();
  });

  it('says company sign-in is not available where the service offers none', async () => {
    const result = await run(['login', '--sso', 'okta']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Company sign-in (--sso) is not available on this service');
  });

  it('says where there is no keychain at all, and that TIMEBOX_TOKEN is the way then', async () => {
    const result = await runTimebox(timebox, ['ls'], {
      ...env,
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^timebox: No system keychain is available .* set TIMEBOX_TOKEN instead\.\n$/,
    );
  });

  it('takes TIMEBOX_TOKEN where there is no keychain session, and needs a server with it', async () => {
    const token = await service.api.login('dave');
    const result = await runTimebox(timebox, ['whoami'], { ...env, TIMEBOX_TOKEN: token });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^dave /);
    const serverless = await runTimebox(timebox, ['whoami'], {
      TIMEBOX_KEYCHAIN_SERVICE: keychainService,
      TIMEBOX_TOKEN: token,
    });
    expect(serverless.code).toBe(2);
    expect(serverless.stderr).toContain('TIMEBOX_TOKEN is set');
  });

  it('answers exit 5 for a session the service has ended', async () => {
    await login();
    const kept = JSON.parse((await sessionEntry()) ?? 'null') as { token: string };
    await service.api.post('/v1/auth/logout', kept.token);
    const result = await run(['ls']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/Sign in again: timebox login/);
  });

  it('lists resources, asks for an auto-approved role, shows it, extends and relinquishes it', async () => {
    await login();
    const resources = await run(['resources', '--json']);
    expect(resources.code).toBe(0);
    const catalog = JSON.parse(resources.stdout) as ResourceView[];
    expect(catalog.map((resource) => resource.id)).toContain('sandbox');
    const table = await run(['resources']);
    expect(table.stdout).toMatch(/sandbox\/operator\s+10s–1h/);

    const requested = await run(['request', 'sandbox/operator', '--for', '10m', '--wait', '--json']);
    expect(requested.code, requested.stderr).toBe(0);
    const grant = JSON.parse(requested.stdout) as GrantView;
    expect(grant).toMatchObject({ resourceId: 'sandbox', role: 'operator', status: 'active' });

    const ls = await run(['ls']);
    expect(ls.stdout).toMatch(new RegExp(`${grant.id}\\s+sandbox/operator\\s+active\\s+(10m|9m\\d+s) left`));

    const extended = await run(['extend', grant.id, '--for', '5m', '--json']);
    expect(extended.code, extended.stderr).toBe(0);
    const longer = JSON.parse(extended.stdout) as GrantView;
    expect(Date.parse(longer.expiresAt)).toBe(Date.parse(grant.expiresAt) + 300_000);

    const ended = await run(['relinquish', grant.id]);
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain(`Grant ${grant.id} (sandbox/operator) has ended.`);
    expect((await run(['ls', '--json'])).stdout).not.toContain(grant.id);
  });

  it("passes on the service's refusal of a duration outside policy, and changes nothing", async () => {
    await login();
    const result = await run(['request', 'sandbox/operator', '--for', '2h']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^timebox: \S/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const mine = await run(['ls', '--json']);
    expect(JSON.parse(mine.stdout)).toEqual({ requests: [], grants: [] });
    const unknown = await run(['request', 'nowhere/read']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('There is no resource "nowhere"');
  });

  it('waits for a person to approve, with plain status lines when not on a terminal', async () => {
    await login();
    const waiting = startTimebox(
      timebox,
      ['request', 'prod-db/read', '--for', '1h', '--reason', 'INC-1', '--wait'],
      env,
    );
    await waiting.shows('waiting for approval');
    const request = await approvable('INC-1');
    const approved = await asBob(['approve', request.id, '--comment', 'go ahead']);
    expect(approved.code, approved.stderr).toBe(0);
    const result = await waiting.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('\r'); // no spinner in a pipe
    expect(result.stdout).toMatch(/^Grant \S+: prod-db\/read until /);
  });

  it('ends with exit 3 when the request is denied, with the comment', async () => {
    await login();
    const waiting = startTimebox(timebox, ['request', 'prod-db/read', '--reason', 'INC-2', '--wait'], env);
    await waiting.shows('waiting for approval');
    const denied = await asBob(['deny', (await approvable('INC-2')).id, '--comment', 'not today']);
    expect(denied.code, denied.stderr).toBe(0);
    const result = await waiting.finished;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('was denied by');
    expect(result.stderr).toContain('"not today"');
  });

  it('ends with exit 4 when nobody decides in time', async () => {
    await login();
    const waiting = startTimebox(timebox, ['request', 'prod-db/read', '--reason', 'INC-3', '--wait'], env);
    await waiting.shows('waiting for approval');
    await service.advance(5 * 3600_000);
    const result = await waiting.finished;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('lapsed');
  });

  it("passes on the service's refusal of an approval the caller may not give, and changes nothing", async () => {
    await login();
    const dave = await service.api.login('dave');
    const created = await service.api.post<RequestView>('/v1/requests', dave, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 3600,
      reason: 'INC-4',
    });
    const result = await run(['approve', created.body.id]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^timebox: \S/);
    const after = await service.api.get<RequestView>(`/v1/requests/${created.body.id}`, dave);
    expect(after.body.status).toBe('pending');
  });

  it.each([
    [false, 'cancelled', /request \S+ was cancelled/],
    [true, 'pending', /request \S+ stays open/],
  ])('Ctrl-C while waiting (--keep: %s) leaves the request %s and says so', async (keep, status, message) => {
    await login();
    const reason = `INC-ctrl-c-${String(keep)}`;
    const waiting = startTimebox(
      timebox,
      ['request', 'prod-db/read', '--reason', reason, '--wait', ...(keep ? ['--keep'] : [])],
      env,
    );
    await waiting.shows('waiting for approval');
    waiting.child.kill('SIGINT');
    const result = await waiting.finished;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(message);
    const alice = await service.api.login('alice');
    const mine = (await service.api.get<{ items: RequestView[] }>('/v1/requests?scope=mine', alice)).body
      .items;
    expect(mine.find((request) => request.reason === reason)?.status).toBe(status);
  });
});
