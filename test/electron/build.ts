import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const LOCK = join(
  tmpdir(),
  `timebox-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
);
const POLL_MS = 250;
const WAIT_MS = 10 * 60_000;

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The packaging test and the Electron end-to-end tests all build out/ and then read it; Vitest runs files
 * in parallel, and a build in one would pull the files from under another. Each takes this lock for as
 * long as it uses out/. A lock whose holder died is taken over. Returns the release.
 */
export async function lockBuildOutput(): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => {
        rmSync(LOCK, { recursive: true, force: true });
      };
    } catch {
      if (!holderAlive()) {
        // A lock just made may not have its pid yet: look again before taking it over.
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (!holderAlive()) rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Waited too long for the build lock at ${LOCK}.`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

/** Runs a command in the repository; throws with its output when it fails. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${output}`);
  return output;
}

/**
 * Builds the app into out/ as `npm start` and `npm run dist` do: `npm run build`, every time. The renderer
 * bundle takes in more than renderer/ (the contract in preload/, main/core/tray-model.ts, the service's
 * schemas), so no check of one folder can say it is current, and a build takes seconds. Callers hold
 * `lockBuildOutput()`; the renderer's browser tests build their own copy elsewhere and never read out/.
 */
export function buildApp(): void {
  // Vitest sets NODE_ENV=test, which would make Vite build React for development.
  run('npm', ['run', 'build'], { NODE_ENV: 'production' });
}
