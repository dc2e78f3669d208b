import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Builds the renderer with the project's own Vite config into a fresh folder of its own, every time: the
 * bundle takes in more than renderer/ (the contract in preload/, main/core/tray-model.ts, the service's
 * schemas), so a build is the only sure way to be current, and it takes a second or two. A private
 * folder means no suite ever serves out/renderer while another rebuilds it. Returns the folder.
 */
export function buildRenderer(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'timebox-e2e-renderer-'));
  execFileSync(
    join(REPO_ROOT, 'node_modules', '.bin', 'vite'),
    ['build', '--config', 'renderer/vite.config.ts', '--outDir', outDir, '--logLevel', 'warn'],
    {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      // Vitest sets NODE_ENV=test, which would give a development build of React.
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  return outDir;
}
