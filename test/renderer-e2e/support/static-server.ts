import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY } from '../../../main/electron/security.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticServer {
  readonly url: string;
  /** Whether a URL is one of the files this server serves: the renderer's own static assets. */
  serves(url: string): boolean;
  close(): Promise<void>;
}

/** Every file under `root`, as URL paths (`/index.html`, `/assets/…`). */
function filesUnder(root: string): Set<string> {
  return new Set(
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `/${relative(root, join(entry.parentPath, entry.name)).split(sep).join('/')}`),
  );
}

/**
 * Serves a built renderer over local HTTP with the CSP main gives the windows, as app://timebox/ would:
 * only the files that are there, only GET.
 */
export async function serveFolder(root: string): Promise<StaticServer> {
  const files = filesUnder(root);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' || !files.has(path)) {
      response.writeHead(404).end();
      return;
    }
    const file = join(root, ...path.split('/'));
    readFile(file).then(
      (body) => {
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'cache-control': 'no-store',
        });
        response.end(body);
      },
      () => {
        response.writeHead(404).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    serves(url) {
      const parsed = new URL(url);
      return parsed.origin === origin && files.has(parsed.pathname);
    },
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}
