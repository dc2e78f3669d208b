import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
 * The packaging test and the end-to-end test both build out/ and then read it; Vitest runs files in
 * parallel, and a build in one would pull the files from under the other. Each takes this lock for as
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

function newestChange(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestChange(path));
    else newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function rendererIsCurrent(): boolean {
  try {
    return statSync(join(ROOT, 'out/renderer/index.html')).mtimeMs > newestChange(join(ROOT, 'renderer'));
  } catch {
    return false;
  }
}

/**
 * Builds the app into out/ as `npm start` and `npm run dist` do: `npm run build`. When out/renderer is
 * already newer than every renderer source, only main and the preload are rebuilt (`npm run build:main`):
 * other suites serve out/renderer, and rebuilding it under them for nothing would pull it away.
 */
export function buildApp(): void {
  // Vitest sets NODE_ENV=test, which would make Vite build React for development.
  const production = { NODE_ENV: 'production' };
  if (rendererIsCurrent()) run('npm', ['run', 'build:main'], production);
  else run('npm', ['run', 'build'], production);
}
