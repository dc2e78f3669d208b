import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appPageUrl, serveAppFiles } from '../../main/electron/app-protocol.js';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/security.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RendererFiles {
  /** The page's base URL over loopback: `${url}/index.html?window=main`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Builds the renderer with the project's Vite config (production React) into a folder of the bench's own,
 * so a build running elsewhere never swaps files under the page, and serves it over loopback with the
 * app's own file handler and CSP (main/electron/app-protocol.ts): the page gets what app://timebox/ gives it.
 */
export async function buildAndServeRenderer(): Promise<RendererFiles> {
  const outDir = mkdtempSync(join(tmpdir(), 'timebox-bench-renderer-'));
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'vite'),
    ['build', '--config', 'renderer/vite.config.ts', '--outDir', outDir, '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
  const handle = serveAppFiles({ rootDir: outDir, contentSecurityPolicy: CONTENT_SECURITY_POLICY });
  // app://timebox: URL.origin is "null" for a scheme Node does not know, so it is put together by hand.
  const page = new URL(appPageUrl('main'));
  const appOrigin = `${page.protocol}//${page.host}`;
  const server = createServer((request, response) => {
    void handle({ method: request.method ?? 'GET', url: `${appOrigin}${request.url ?? '/'}` }).then(
      async (answer) => {
        response.writeHead(answer.status, Object.fromEntries(answer.headers));
        response.end(Buffer.from(await answer.arrayBuffer()));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
