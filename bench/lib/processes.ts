import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const ROOT = new URL('../../', import.meta.url);

export interface RunningProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  readonly output: () => string;
  /** Whether it is still running. */
  readonly alive: () => boolean;
  stop(): Promise<void>;
  /** kill -9: no drain, no clean close of the database. */
  kill(): Promise<void>;
}

/**
 * Starts a TypeScript entry point in its own Node process (so the load generator and the service do
 * not share an event loop) and waits for it to print the URL it listens on.
 */
export async function startProcess(
  entry: string,
  args: string[],
  env: Record<string, string>,
  urlPattern: RegExp,
  nodeArgs: readonly string[] = [],
): Promise<RunningProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, TIMEBOX_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (): void => {
      const match = urlPattern.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      reject(new Error(`${entry} exited (${String(code ?? signal)}) before listening:\n${output}`));
    });
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const endWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (!alive()) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    url,
    child,
    output: () => output,
    alive,
    stop: () => endWith('SIGTERM'),
    kill: () => endWith('SIGKILL'),
  };
}

export interface ServiceOptions {
  readonly env?: Record<string, string>;
  /** Listen on this port (0: any), so a restarted service keeps its address. */
  readonly port?: number;
  /** Also serve GET /digest on a second port (see state-digest.ts); its URL is then `digestUrl`. */
  readonly digest?: boolean;
}

export interface RunningService extends RunningProcess {
  readonly digestUrl: string | null;
  /** Epoch ms when the service's own code began, after Node and the modules loaded. */
  readonly codeStartedAt: number;
}

/**
 * With BENCH_CPU_PROFILE=<folder>, each service process writes a V8 CPU profile there as it stops (open
 * it in Chrome's DevTools, Performance panel): where a scenario's service time goes.
 */
export function profileArgs(): string[] {
  const folder = process.env.BENCH_CPU_PROFILE?.trim();
  return folder ? ['--cpu-prof', `--cpu-prof-dir=${folder}`] : [];
}

/** The grant service, as `npm run server` runs it. */
export async function startService(args: string[], options: ServiceOptions = {}): Promise<RunningService> {
  // The service logs at warn here, so the URL comes from a line we print only for the bench.
  const running = await startProcess(
    'bench/lib/service-entry.ts',
    args,
    {
      ...options.env,
      BENCH_PORT: String(options.port ?? 0),
      ...(options.digest ? { BENCH_DIGEST: '1' } : {}),
    },
    /BENCH_LISTENING (\S+)/,
    profileArgs(),
  );
  return {
    ...running,
    digestUrl: /BENCH_DIGEST (\S+)/.exec(running.output())?.[1] ?? null,
    codeStartedAt: Number(/BENCH_STARTED (\d+)/.exec(running.output())?.[1] ?? Number.NaN),
  };
}

/** The ids of running processes, for counting their CPU time. */
export function pidsOf(processes: readonly RunningProcess[]): number[] {
  return processes.flatMap((running) => (running.child.pid === undefined ? [] : [running.child.pid]));
}

/** Waits until `running` prints a line that `pattern` matches, and returns its first group. */
export async function waitForOutput(
  running: RunningProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const { child } = running;
  return new Promise<string>((resolve, reject) => {
    const stopWatching = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('close', exited);
    };
    const check = (): void => {
      const found = pattern.exec(running.output())?.[1];
      if (found === undefined) return;
      stopWatching();
      resolve(found);
    };
    const fail = (why: string): void => {
      stopWatching();
      reject(new Error(`${why}:\n${running.output()}`));
    };
    // 'close' comes after the process's output has all been read, so its last line is not missed.
    const exited = (): void => {
      fail(`the process exited before printing ${String(pattern)}`);
    };
    const timer = setTimeout(() => {
      fail(`no ${String(pattern)} within ${timeoutMs} ms`);
    }, timeoutMs);
    child.stdout?.on('data', check);
    child.once('close', exited);
    check();
  });
}
