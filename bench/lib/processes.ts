import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const ROOT = new URL('../../', import.meta.url);

export interface RunningProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
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
): Promise<RunningProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, TIMEBOX_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = urlPattern.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      reject(new Error(`${entry} exited with ${String(code)} before listening:\n${output}`));
    });
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** The grant service, as `npm run server` runs it. */
export function startService(args: string[], env: Record<string, string> = {}): Promise<RunningProcess> {
  // The service logs at warn here, so the URL comes from a line we print only for the bench.
  return startProcess('bench/lib/service-entry.ts', args, env, /BENCH_LISTENING (\S+)/);
}
