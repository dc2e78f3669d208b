import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The real `timebox` command, built by the project's own build script into a folder of this test file's
 * (inside the repository, where its packages resolve), and removed with `remove()`.
 */
export interface BuiltCommand {
  readonly path: string;
  remove(): void;
}

export function buildTimebox(): BuiltCommand {
  const folder = `out/cli-test-${randomBytes(4).toString('hex')}`;
  const built = spawnSync(process.execPath, ['scripts/build-cli.mjs', folder], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`the CLI did not build:\n${built.stdout}${built.stderr}`);
  return {
    path: `${ROOT}${folder}/timebox.js`,
    remove: () => {
      rmSync(`${ROOT}${folder}`, { recursive: true, force: true });
    },
  };
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  readonly finished: Promise<Finished>;
  /** Waits until stderr or stdout shows `text`. */
  shows(text: string | RegExp): Promise<void>;
}

/**
 * Starts `timebox args…` with this process's environment minus the settings the command reads, plus
 * `env`; `input` is written to its standard input, which is then closed.
 */
export function startTimebox(
  command: BuiltCommand,
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Running {
  const child = spawn(process.execPath, [command.path, ...args], {
    cwd: ROOT,
    env: { ...process.env, TIMEBOX_SERVER: '', TIMEBOX_TOKEN: '', TIMEBOX_KEYCHAIN_SERVICE: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input ?? '');
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    finished,
    async shows(text) {
      const found = () =>
        typeof text === 'string' ? (stdout + stderr).includes(text) : text.test(stdout + stderr);
      while (!found()) {
        if (child.exitCode !== null)
          throw new Error(`exited before showing ${String(text)}:\n${stdout}${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

export function runTimebox(
  command: BuiltCommand,
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<Finished> {
  return startTimebox(command, args, env, input).finished;
}
