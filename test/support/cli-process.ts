import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
// Resolved here, so the command also runs from a folder outside the repository (tsx's only export).
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Loaded with --import: the first SIGTERM leaves the main thread spinning (see the file). */
export const STALL_ON_STOP = new URL('test/support/stall-on-stop.mjs', ROOT).href;

/** Node's arguments that run the real `server/cli.ts` with `args`. */
export function serverCommand(args: readonly string[], nodeOptions: readonly string[] = []): string[] {
  return ['--import', TSX, ...nodeOptions, new URL('server/cli.ts', ROOT).pathname, ...args];
}

/** This process's environment without the settings the command reads, then `env`: each test says its own. */
export function serverEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: '',
    TIMEBOX_CONFIG: '',
    TIMEBOX_DEMO: '',
    TIMEBOX_PORT: '',
    TIMEBOX_SHUTDOWN_TIMEOUT: '',
    ...env,
  };
}

/** The real `server/cli.ts` in its own process group, as a supervisor runs it. */
export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the "listening" log line and returns the URL it names. */
  listening(): Promise<string>;
  /** Closes our end of its standard output and error: its log lines now meet a broken pipe. */
  loseOutput(): void;
  /** Sends `signal` to its whole process group, as `kill -TERM -<group>` does. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Kills what is left of the group (after a test, whatever happened). */
  killGroup(): Promise<void>;
}

export function startServer(
  args: string[],
  env: Record<string, string> = {},
  nodeOptions: string[] = [],
): ServerProcess {
  const child = spawn(process.execPath, serverCommand(args, nodeOptions), {
    cwd: ROOT,
    detached: true,
    env: serverEnvironment(env),
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? 0;
  return {
    child,
    output: () => output,
    exit,
    async listening() {
      // Generous: a start takes seconds, and much longer on a busy CI machine.
      const deadline = Date.now() + 90_000;
      for (;;) {
        const match = /Timebox is listening on (http:\/\/[\d.:]+)/.exec(output);
        if (match?.[1]) return match[1];
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the service did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    loseOutput() {
      child.stdout.destroy();
      child.stderr.destroy();
    },
    signalGroup(signal) {
      process.kill(-pid, signal);
    },
    async killGroup() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exit;
    },
  };
}

/** Waits until the output contains `text`. */
export async function outputShows(server: ServerProcess, text: string): Promise<void> {
  while (!server.output().includes(text)) {
    if (server.child.exitCode !== null) throw new Error(`exited before "${text}":\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
