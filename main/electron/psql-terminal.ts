import type { SpawnOptions } from 'node:child_process';
import { access, constants, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import type { DesktopClock } from '../core/clock.js';
import { UserError } from '../../api/errors.js';
import type { PsqlEnvironment } from '../../api/postgres-login.js';
import type { PsqlLauncher } from '../core/psql.js';

/** The part of a spawned ChildProcess the launcher watches. */
export interface Launched {
  once(event: 'spawn', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  unref(): void;
}

export type Spawn = (command: string, args: readonly string[], options: SpawnOptions) => Launched;

/** The file system, narrowed to what finding psql and writing the macOS script need. */
export interface LauncherFiles {
  /** Whether `path` is a file this user may run. */
  isExecutable(path: string): Promise<boolean>;
  /** The names in a folder; [] when there is no such folder. */
  list(folder: string): Promise<string[]>;
  /** A new folder only this user can enter (0700), under the system's temporary folder. */
  privateFolder(): Promise<string>;
  /** Writes a script only this user can read and run (0700). */
  writeScript(path: string, text: string): Promise<void>;
  remove(folder: string): Promise<void>;
}

export const systemLauncherFiles: LauncherFiles = {
  async isExecutable(path) {
    try {
      await access(path, constants.X_OK);
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  },
  list: (folder) => readdir(folder).catch(() => []),
  // mkdtemp makes the folder 0700: https://pubs.opengroup.org/onlinepubs/9799919799/functions/mkdtemp.html
  privateFolder: () => mkdtemp(join(tmpdir(), 'timebox-psql-')),
  writeScript: (path, text) => writeFile(path, text, { mode: 0o700, flag: 'wx' }),
  remove: (folder) => rm(folder, { recursive: true, force: true }),
};

export interface PsqlTerminalDeps {
  readonly platform: NodeJS.Platform;
  /** The app's own environment, which the terminal inherits (less any PG* variable). */
  readonly env: NodeJS.ProcessEnv;
  readonly spawn: Spawn;
  readonly files: LauncherFiles;
  readonly clock: DesktopClock;
}

/**
 * Linux terminals, in the order tried, each with how it takes a command and its arguments. Debian's
 * x-terminal-emulator alternative must take `-e command args…`
 * (https://www.debian.org/doc/debian-policy/ch-customized-programs.html#packages-providing-a-terminal-emulator).
 */
const LINUX_TERMINALS: readonly { readonly name: string; readonly run: string }[] = [
  { name: 'x-terminal-emulator', run: '-e' },
  { name: 'gnome-terminal', run: '--' },
  { name: 'konsole', run: '-e' },
  { name: 'xterm', run: '-e' },
];

/**
 * Runs psql ($0) and, when it fails (a refused login, a server away), keeps the window open to show why
 * instead of closing it before it can be read.
 */
const HOLD_ON_FAILURE =
  '"$0"; status=$?; if [ "$status" -ne 0 ]; then printf "\\npsql ended with status %s. Press Enter to close this window." "$status"; read -r _; fi';

/**
 * Apps opened from Finder get a bare PATH (/usr/bin:/bin:/usr/sbin:/sbin); Homebrew's libpq is keg-only
 * and Postgres.app keeps its tools in the bundle.
 */
const MAC_FOLDERS = [
  '/opt/homebrew/bin',
  '/opt/homebrew/opt/libpq/bin',
  '/usr/local/bin',
  '/usr/local/opt/libpq/bin',
  '/Applications/Postgres.app/Contents/Versions/latest/bin',
];

/** The macOS script is removed by itself when Terminal runs it; if Terminal never does, after this long. */
export const SCRIPT_KEPT_MS = 60_000;

const CLIENT = 'psql, PostgreSQL’s command-line client,';
const OR_COPY = 'Or use Copy connection URI with another client.';

/**
 * Opens psql in a terminal window of this platform, connected by libpq's environment variables alone.
 * - Linux: the first of x-terminal-emulator, gnome-terminal, konsole and xterm on the PATH, started with
 *   the variables in its environment (gnome-terminal hands its environment to the window it opens).
 * - Windows: `cmd /c start` of a console window running psql, which inherits them.
 * - macOS: Terminal.app does not take an environment from the process that asks it to open something, so
 *   the variables go into a script in a private temporary folder (0700), which Terminal runs; the
 *   script deletes itself and its folder before psql starts, and Timebox deletes it after a minute if
 *   Terminal never ran it.
 * The password is never on a command line: not the terminal's, not psql's.
 */
export function psqlTerminal(deps: PsqlTerminalDeps): PsqlLauncher {
  return {
    async open(environment) {
      switch (deps.platform) {
        case 'linux':
          return openOnLinux(deps, environment);
        case 'win32':
          return openOnWindows(deps, environment);
        case 'darwin':
          return openOnMac(deps, environment);
        default:
          throw new UserError(
            'terminal_unsupported',
            `Timebox cannot open a terminal on ${deps.platform}. Use Copy connection URI with your PostgreSQL client.`,
          );
      }
    },
  };
}

async function openOnLinux(deps: PsqlTerminalDeps, environment: PsqlEnvironment): Promise<void> {
  const folders = pathFolders(deps);
  const psql = await firstExecutable(deps.files, posix, folders, ['psql']);
  if (psql === null) {
    throw new UserError(
      'psql_not_found',
      `${CLIENT} is not installed (Timebox looked on your PATH). Install it (Debian and Ubuntu: sudo apt install postgresql-client; Fedora: sudo dnf install postgresql). ${OR_COPY}`,
    );
  }
  for (const terminal of LINUX_TERMINALS) {
    const path = await firstExecutable(deps.files, posix, folders, [terminal.name]);
    if (path === null) continue;
    await started(
      deps.spawn(path, [terminal.run, '/bin/sh', '-c', HOLD_ON_FAILURE, psql], {
        env: childEnvironment(deps, environment),
        detached: true,
        stdio: 'ignore',
      }),
      terminal.name,
    );
    return;
  }
  throw new UserError(
    'terminal_not_found',
    `Timebox found no terminal to open psql in (it looks for ${LINUX_TERMINALS.map((terminal) => terminal.name).join(', ')}). Install one. ${OR_COPY}`,
  );
}

async function openOnWindows(deps: PsqlTerminalDeps, environment: PsqlEnvironment): Promise<void> {
  // The PostgreSQL installer puts its tools under Program Files without adding them to the PATH.
  const programFiles = envValue(deps, 'ProgramFiles') ?? 'C:\\Program Files';
  const installed = win32.join(programFiles, 'PostgreSQL');
  const versions = (await deps.files.list(installed))
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  const psql = await firstExecutable(
    deps.files,
    win32,
    [...pathFolders(deps), ...versions.map((version) => win32.join(installed, version, 'bin'))],
    ['psql.exe'],
  );
  if (psql === null) {
    throw new UserError(
      'psql_not_found',
      `${CLIENT} is not installed (Timebox looked on your PATH and in Program Files\\PostgreSQL). Install the PostgreSQL command-line tools (https://www.postgresql.org/download/windows/). ${OR_COPY}`,
    );
  }
  // cmd expands %NAME% even inside quotes, and a quote would end the path early.
  if (/[%"]/.test(psql)) {
    throw new UserError(
      'psql_path_unsupported',
      `Timebox cannot start psql from ${psql}: its path holds a % or a quote. ${OR_COPY}`,
    );
  }
  // As Node's own `shell: true` does on Windows: /d (no AutoRun), /s with the whole command quoted once,
  // passed verbatim. Detached, the outer cmd has no console of its own (nothing flashes); `start "title"`
  // opens a console window for the inner one, and `cmd /k` keeps it open after psql exits.
  await started(
    deps.spawn('cmd.exe', ['/d', '/s', '/c', `"start "Timebox psql" cmd.exe /k "${psql}""`], {
      env: childEnvironment(deps, environment),
      detached: true,
      stdio: 'ignore',
      windowsVerbatimArguments: true,
    }),
    'a console window',
  );
}

async function openOnMac(deps: PsqlTerminalDeps, environment: PsqlEnvironment): Promise<void> {
  const psql = await firstExecutable(deps.files, posix, [...pathFolders(deps), ...MAC_FOLDERS], ['psql']);
  if (psql === null) {
    throw new UserError(
      'psql_not_found',
      `${CLIENT} is not installed (Timebox looked on your PATH, in Homebrew’s folders and in Postgres.app). Install it with brew install libpq, or Postgres.app. ${OR_COPY}`,
    );
  }
  const folder = await deps.files.privateFolder();
  const script = posix.join(folder, 'psql.command');
  await deps.files.writeScript(script, macScript(environment, psql));
  const removeLater = deps.clock.setTimer(() => {
    void deps.files.remove(folder);
  }, SCRIPT_KEPT_MS);
  try {
    await started(
      deps.spawn('/usr/bin/open', ['-a', 'Terminal', script], {
        env: childEnvironment(deps, {}),
        detached: true,
        stdio: 'ignore',
      }),
      'Terminal',
    );
  } catch (error) {
    removeLater();
    await deps.files.remove(folder);
    throw error;
  }
}

/** The script Terminal runs: it deletes itself first, drops inherited PG* variables, then runs psql. */
function macScript(environment: PsqlEnvironment, psql: string): string {
  return [
    '#!/bin/sh',
    '# Written by Timebox for one psql session. It removes itself before psql starts.',
    'rm -f -- "$0"; rmdir -- "${0%/*}" 2>/dev/null',
    'for variable in $(env | sed -n "s/^\\(PG[A-Za-z0-9_]*\\)=.*/\\1/p"); do unset "$variable"; done',
    ...Object.entries(environment).map(([name, value]) => `export ${name}=${shellQuoted(value)}`),
    shellQuoted(psql),
    '',
  ].join('\n');
}

function shellQuoted(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * The terminal's environment: ours, without any PG* variable of the user's (PGSERVICE or PGHOSTADDR
 * would take precedence over, or redirect, the login), plus the login's.
 */
function childEnvironment(deps: PsqlTerminalDeps, environment: Partial<PsqlEnvironment>): NodeJS.ProcessEnv {
  const inherited = Object.entries(deps.env).filter(([name]) => !/^PG/i.test(name));
  return { ...Object.fromEntries(inherited), ...environment };
}

/** An environment variable by name, ignoring case on Windows (where PATH is often spelled Path). */
function envValue(deps: PsqlTerminalDeps, name: string): string | undefined {
  if (deps.platform !== 'win32') return deps.env[name];
  return Object.entries(deps.env).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

function pathFolders(deps: PsqlTerminalDeps): string[] {
  const delimiter = deps.platform === 'win32' ? win32.delimiter : posix.delimiter;
  return (envValue(deps, 'PATH') ?? '').split(delimiter).filter((folder) => folder !== '');
}

async function firstExecutable(
  files: LauncherFiles,
  paths: typeof posix,
  folders: readonly string[],
  names: readonly string[],
): Promise<string | null> {
  for (const folder of folders) {
    for (const name of names) {
      const candidate = paths.join(folder, name);
      if (await files.isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

/** Resolves once the process has started; a failure to start it is a sentence. */
function started(child: Launched, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
    child.once('error', (error) => {
      reject(
        new UserError('terminal_failed', `Timebox could not start ${what} (${error.message}). ${OR_COPY}`),
      );
    });
  });
}
