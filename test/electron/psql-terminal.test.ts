import { spawnSync, type SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PsqlEnvironment } from '../../api/postgres-login.js';
import {
  psqlTerminal,
  SCRIPT_KEPT_MS,
  systemLauncherFiles,
  type LauncherFiles,
  type Launched,
} from '../../main/electron/psql-terminal.js';
import { ManualClock } from '../support/manual-clock.js';

const PASSWORD = 'S3cret-pa$$word';
const LOGIN: PsqlEnvironment = {
  PGHOST: 'analytics.internal',
  PGPORT: '5432',
  PGDATABASE: 'analytics',
  PGUSER: 'timebox_grt_0123456789abcdefghjk',
  PGPASSWORD: PASSWORD,
  PGSSLMODE: 'require',
};

interface SpawnCall {
  readonly command: string;
  readonly args: readonly string[];
  readonly options: SpawnOptions;
}

/** A spawn that records each call; the process it hands back starts, or fails with `failWith`. */
function fakeSpawn(failWith?: Error) {
  const calls: SpawnCall[] = [];
  const unref = vi.fn();
  const spawn = (command: string, args: readonly string[], options: SpawnOptions): Launched => {
    calls.push({ command, args, options });
    const started = new EventEmitter();
    queueMicrotask(() => {
      if (failWith) started.emit('error', failWith);
      else started.emit('spawn');
    });
    return Object.assign(started, { unref });
  };
  return { spawn, calls, unref };
}

/** A file system where exactly `executables` exist (and `folders` list their names). */
function fakeFiles(executables: readonly string[], folders: Record<string, string[]> = {}): LauncherFiles {
  return {
    isExecutable: (path) => Promise.resolve(executables.includes(path)),
    list: (folder) => Promise.resolve(folders[folder] ?? []),
    privateFolder: () => Promise.reject(new Error('no temporary folders on this platform')),
    writeScript: () => Promise.reject(new Error('no scripts on this platform')),
    remove: () => Promise.resolve(),
  };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error && 'code' in error)
      return { code: String(error.code), message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

/** Nothing of the login's password on any command line that was started. */
function expectNoSecretOnCommandLines(calls: readonly SpawnCall[]): void {
  for (const call of calls) expect(JSON.stringify([call.command, ...call.args])).not.toContain(PASSWORD);
}

const folders: string[] = [];
function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'timebox-psql-test-'));
  folders.push(folder);
  return folder;
}
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('Open psql on Linux', () => {
  const env = {
    PATH: '/usr/local/bin:/usr/bin',
    HOME: '/home/alice',
    PGSERVICE: 'prod',
    pghostaddr: '10.0.0.9',
  };

  it('starts x-terminal-emulator with psql, the login in its environment and never on a command line', async () => {
    const { spawn, calls, unref } = fakeSpawn();
    const launcher = psqlTerminal({
      platform: 'linux',
      env,
      spawn,
      files: fakeFiles(['/usr/bin/psql', '/usr/bin/x-terminal-emulator', '/usr/bin/xterm']),
      clock: new ManualClock(),
    });
    await launcher.open(LOGIN);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.command).toBe('/usr/bin/x-terminal-emulator');
    expect(call?.args).toEqual(['-e', '/bin/sh', '-c', expect.any(String), '/usr/bin/psql']);
    expect(call?.options).toMatchObject({ detached: true, stdio: 'ignore' });
    // The user's own PG* variables go (PGSERVICE would take over the connection); everything else stays.
    expect(call?.options.env).toEqual({ PATH: env.PATH, HOME: env.HOME, ...LOGIN });
    expectNoSecretOnCommandLines(calls);
    expect(unref).toHaveBeenCalled();
  });

  it.each([
    ['gnome-terminal', '--'],
    ['konsole', '-e'],
    ['xterm', '-e'],
  ])('falls back to %s, in order, with its own way of taking a command', async (terminal, run) => {
    const { spawn, calls } = fakeSpawn();
    const others = ['gnome-terminal', 'konsole', 'xterm'].slice(
      ['gnome-terminal', 'konsole', 'xterm'].indexOf(terminal),
    );
    await psqlTerminal({
      platform: 'linux',
      env,
      spawn,
      files: fakeFiles(['/usr/bin/psql', ...others.map((name) => `/usr/local/bin/${name}`)]),
      clock: new ManualClock(),
    }).open(LOGIN);
    expect(calls.map((call) => [call.command, call.args[0]])).toEqual([[`/usr/local/bin/${terminal}`, run]]);
    expectNoSecretOnCommandLines(calls);
  });

  it('the command a terminal is given runs psql with the login, and holds the window when psql fails', async () => {
    const { spawn, calls } = fakeSpawn();
    const bin = tempFolder();
    const seen = join(bin, 'seen');
    // A psql that writes down what it got, then fails as a refused login would.
    writeFileSync(
      join(bin, 'psql'),
      `#!/bin/sh\n/usr/bin/env > '${seen}'\necho "arguments:$*" >> '${seen}'\nexit 2\n`,
    );
    chmodSync(join(bin, 'psql'), 0o755);
    await psqlTerminal({
      platform: 'linux',
      env: { PATH: bin },
      spawn,
      files: fakeFiles([join(bin, 'psql'), join(bin, 'xterm')]),
      clock: new ManualClock(),
    }).open(LOGIN);
    const [call] = calls;
    if (!call) throw new Error('nothing was started');
    // What xterm would run after -e, with the environment it was given; Enter closes the held window.
    const [, shell, ...rest] = call.args;
    const run = spawnSync(shell ?? '', rest, { env: call.options.env, input: '\n', encoding: 'utf8' });
    expect(run.stdout).toContain('psql ended with status 2. Press Enter to close this window.');
    const got = readFileSync(seen, 'utf8');
    for (const [name, value] of Object.entries(LOGIN)) expect(got).toContain(`${name}=${value}\n`);
    expect(got).toContain('\narguments:\n'); // psql was given no arguments at all
  });

  it('psql missing: says how to install it, and starts nothing', async () => {
    const { spawn, calls } = fakeSpawn();
    const launcher = psqlTerminal({
      platform: 'linux',
      env,
      spawn,
      files: fakeFiles(['/usr/bin/xterm']),
      clock: new ManualClock(),
    });
    expect(await refusal(launcher.open(LOGIN))).toEqual({
      code: 'psql_not_found',
      message:
        'psql, PostgreSQL’s command-line client, is not installed (Timebox looked on your PATH). Install it (Debian and Ubuntu: sudo apt install postgresql-client; Fedora: sudo dnf install postgresql). Or use Copy connection URI with another client.',
    });
    expect(calls).toEqual([]);
  });

  it('no terminal: names the ones it looked for, and starts nothing', async () => {
    const { spawn, calls } = fakeSpawn();
    const launcher = psqlTerminal({
      platform: 'linux',
      env: { PATH: '' },
      spawn,
      files: fakeFiles(['/usr/bin/psql']),
      clock: new ManualClock(),
    });
    expect(await refusal(launcher.open(LOGIN))).toMatchObject({ code: 'psql_not_found' });
    const withPsql = psqlTerminal({
      platform: 'linux',
      env,
      spawn,
      files: fakeFiles(['/usr/bin/psql']),
      clock: new ManualClock(),
    });
    expect(await refusal(withPsql.open(LOGIN))).toEqual({
      code: 'terminal_not_found',
      message:
        'Timebox found no terminal to open psql in (it looks for x-terminal-emulator, gnome-terminal, konsole, xterm). Install one. Or use Copy connection URI with another client.',
    });
    expect(calls).toEqual([]);
  });

  it('a terminal that cannot start: says so in a sentence', async () => {
    const { spawn } = fakeSpawn(Object.assign(new Error('spawn EACCES'), { code: 'EACCES' }));
    const launcher = psqlTerminal({
      platform: 'linux',
      env,
      spawn,
      files: fakeFiles(['/usr/bin/psql', '/usr/bin/xterm']),
      clock: new ManualClock(),
    });
    expect(await refusal(launcher.open(LOGIN))).toEqual({
      code: 'terminal_failed',
      message:
        'Timebox could not start xterm (spawn EACCES). Or use Copy connection URI with another client.',
    });
  });
});

describe('Open psql on Windows', () => {
  const installed = 'C:\\Program Files\\PostgreSQL';
  const env = { Path: 'C:\\Windows\\system32', ProgramFiles: 'C:\\Program Files', PGPASSFILE: 'C:\\x' };

  it('starts a console with cmd /c start, psql from the newest PostgreSQL install, the login in its environment', async () => {
    const { spawn, calls } = fakeSpawn();
    await psqlTerminal({
      platform: 'win32',
      env,
      spawn,
      files: fakeFiles([`${installed}\\16\\bin\\psql.exe`, `${installed}\\9.6\\bin\\psql.exe`], {
        [installed]: ['9.6', '16', 'pgAdmin 4'],
      }),
      clock: new ManualClock(),
    }).open(LOGIN);
    expect(calls).toEqual([
      {
        command: 'cmd.exe',
        args: ['/d', '/s', '/c', `"start "Timebox psql" cmd.exe /k "${installed}\\16\\bin\\psql.exe""`],
        options: {
          env: { Path: env.Path, ProgramFiles: env.ProgramFiles, ...LOGIN },
          detached: true,
          stdio: 'ignore',
          windowsVerbatimArguments: true,
        },
      },
    ]);
    expectNoSecretOnCommandLines(calls);
  });

  it('prefers psql on the PATH', async () => {
    const { spawn, calls } = fakeSpawn();
    await psqlTerminal({
      platform: 'win32',
      env: { ...env, Path: 'C:\\tools;C:\\Windows\\system32' },
      spawn,
      files: fakeFiles(['C:\\tools\\psql.exe', `${installed}\\16\\bin\\psql.exe`], { [installed]: ['16'] }),
      clock: new ManualClock(),
    }).open(LOGIN);
    expect(calls[0]?.args[3]).toBe('"start "Timebox psql" cmd.exe /k "C:\\tools\\psql.exe""');
  });

  it('psql missing, or on a path cmd would rewrite: a sentence, and nothing started', async () => {
    const { spawn, calls } = fakeSpawn();
    const missing = psqlTerminal({
      platform: 'win32',
      env,
      spawn,
      files: fakeFiles([]),
      clock: new ManualClock(),
    });
    expect(await refusal(missing.open(LOGIN))).toEqual({
      code: 'psql_not_found',
      message:
        'psql, PostgreSQL’s command-line client, is not installed (Timebox looked on your PATH and in Program Files\\PostgreSQL). Install the PostgreSQL command-line tools (https://www.postgresql.org/download/windows/). Or use Copy connection URI with another client.',
    });
    const odd = psqlTerminal({
      platform: 'win32',
      env: { Path: 'C:\\100%\\bin' },
      spawn,
      files: fakeFiles(['C:\\100%\\bin\\psql.exe']),
      clock: new ManualClock(),
    });
    expect(await refusal(odd.open(LOGIN))).toMatchObject({ code: 'psql_path_unsupported' });
    expect(calls).toEqual([]);
  });
});

describe('Open psql on macOS', () => {
  /** A psql in a PATH folder of its own that records its environment, and the launcher over real files. */
  function mac(failWith?: Error) {
    const bin = tempFolder();
    const seen = join(bin, 'seen');
    writeFileSync(join(bin, 'psql'), `#!/bin/sh\n/usr/bin/env > '${seen}'\n`);
    chmodSync(join(bin, 'psql'), 0o755);
    const clock = new ManualClock();
    const { spawn, calls } = fakeSpawn(failWith);
    const launcher = psqlTerminal({
      platform: 'darwin',
      env: { PATH: bin, HOME: '/Users/alice', PGSERVICE: 'prod' },
      spawn,
      files: systemLauncherFiles,
      clock,
    });
    return { launcher, calls, clock, seen, bin };
  }

  it('asks Terminal to run a private script; the script removes itself, drops PG* and runs psql with the login', async () => {
    const { launcher, calls, seen, bin } = mac();
    await launcher.open(LOGIN);
    const [call] = calls;
    expect(call?.command).toBe('/usr/bin/open');
    expect(call?.args.slice(0, 2)).toEqual(['-a', 'Terminal']);
    const script = call?.args[2] ?? '';
    expect(script).toMatch(/\/timebox-psql-[^/]+\/psql\.command$/);
    expectNoSecretOnCommandLines(calls);
    expect(JSON.stringify(call?.options.env)).not.toContain(PASSWORD);
    expect(call?.options.env).not.toHaveProperty('PGSERVICE');
    // Only this user can read the script or enter its folder.
    expect(statSync(script).mode & 0o777).toBe(0o700);
    expect(statSync(join(script, '..')).mode & 0o777).toBe(0o700);

    // What Terminal does with it, with a PG* variable of the user's own in its shell.
    const run = spawnSync('/bin/sh', [script], { env: { PATH: `${bin}:/usr/bin:/bin`, PGSERVICE: 'prod' } });
    expect(run.status).toBe(0);
    expect(existsSync(script)).toBe(false);
    expect(existsSync(join(script, '..'))).toBe(false);
    const got = readFileSync(seen, 'utf8');
    for (const [name, value] of Object.entries(LOGIN)) expect(got).toContain(`${name}=${value}\n`);
    expect(got).not.toContain('PGSERVICE');
  });

  it('removes a script Terminal never ran after a minute, and at once when Terminal cannot start', async () => {
    const { launcher, calls, clock } = mac();
    await launcher.open(LOGIN);
    const folder = join(calls[0]?.args[2] ?? '', '..');
    clock.advance(SCRIPT_KEPT_MS - 1);
    expect(existsSync(folder)).toBe(true);
    clock.advance(1);
    await vi.waitFor(() => {
      expect(existsSync(folder)).toBe(false);
    });

    const failing = mac(new Error('spawn ENOENT'));
    expect(await refusal(failing.launcher.open(LOGIN))).toEqual({
      code: 'terminal_failed',
      message:
        'Timebox could not start Terminal (spawn ENOENT). Or use Copy connection URI with another client.',
    });
    expect(existsSync(join(failing.calls[0]?.args[2] ?? '', '..'))).toBe(false);
    expect(failing.clock.pendingTimers).toBe(0);
  });

  it('psql missing: says to install libpq, and writes nothing', async () => {
    const { spawn, calls } = fakeSpawn();
    const home = tempFolder();
    mkdirSync(join(home, 'empty'));
    const launcher = psqlTerminal({
      platform: 'darwin',
      env: { PATH: join(home, 'empty') },
      spawn,
      files: { ...fakeFiles([]), privateFolder: () => Promise.reject(new Error('must not be asked')) },
      clock: new ManualClock(),
    });
    expect(await refusal(launcher.open(LOGIN))).toEqual({
      code: 'psql_not_found',
      message:
        'psql, PostgreSQL’s command-line client, is not installed (Timebox looked on your PATH, in Homebrew’s folders and in Postgres.app). Install it with brew install libpq, or Postgres.app. Or use Copy connection URI with another client.',
    });
    expect(calls).toEqual([]);
  });
});

it('another platform: refused with a sentence', async () => {
  const { spawn, calls } = fakeSpawn();
  const launcher = psqlTerminal({
    platform: 'freebsd',
    env: {},
    spawn,
    files: fakeFiles([]),
    clock: new ManualClock(),
  });
  expect(await refusal(launcher.open(LOGIN))).toEqual({
    code: 'terminal_unsupported',
    message:
      'Timebox cannot open a terminal on freebsd. Use Copy connection URI with your PostgreSQL client.',
  });
  expect(calls).toEqual([]);
});
