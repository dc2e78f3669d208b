import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { CustomScheme } from 'electron';

/**
 * Our pages load from app://timebox/, served by main from out/renderer, not from file://. A file:// page
 * gets no response headers, so no header CSP (https://www.electronjs.org/docs/latest/tutorial/security#7-define-a-content-security-policy),
 * and it may read any other file:// URL; Electron's checklist says to prefer a custom protocol
 * (https://www.electronjs.org/docs/latest/tutorial/security#18-avoid-usage-of-the-file-protocol-and-prefer-usage-of-custom-protocols).
 */
export const APP_SCHEME = 'app';
const APP_HOST = 'timebox';
const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
const APP_PAGE = '/index.html';

export type WindowKind = 'popover' | 'main';

export const appScheme: CustomScheme = {
  scheme: APP_SCHEME,
  // standard: a real origin, so CSP 'self' means our pages; secure: a secure context, as https would be.
  // corsEnabled: Vite's module scripts carry `crossorigin`, so even same-origin loads go through CORS.
  privileges: { standard: true, secure: true, corsEnabled: true },
};

/** The one page every window loads; the query says which window it is. */
export function appPageUrl(window: WindowKind): string {
  return `${APP_ORIGIN}${APP_PAGE}?window=${window}`;
}

/** Whether `url` is our page (any query or fragment: the renderer routes with them), nothing else. */
export function isAppPage(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === `${APP_SCHEME}:` &&
      parsed.host === APP_HOST &&
      parsed.pathname === APP_PAGE &&
      !parsed.username &&
      !parsed.password
    );
  } catch {
    return false;
  }
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const refusal = (status: number): Response => new Response(null, { status });

/**
 * Answers app://timebox/<path> from `rootDir` (out/renderer): GET only, nothing outside the folder, every
 * answer with the CSP. The handler for `protocol.handle`.
 */
export function serveAppFiles(options: {
  readonly rootDir: string;
  readonly contentSecurityPolicy: string;
}): (request: Pick<Request, 'url' | 'method'>) => Promise<Response> {
  const root = resolve(options.rootDir);
  return async (request) => {
    if (request.method !== 'GET') return refusal(405);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refusal(400);
    }
    if (url.host !== APP_HOST) return refusal(404);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname === '/' ? APP_PAGE : url.pathname);
    } catch {
      return refusal(400);
    }
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep)) return refusal(404);
    const contentType = CONTENT_TYPES[extname(file).toLowerCase()];
    if (!contentType) return refusal(404);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return refusal(404);
    }
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': contentType,
        'content-security-policy': options.contentSecurityPolicy,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
    });
  };
}
