import type { WebPreferences } from 'electron';
import type { CoreLogger } from '../core/timebox.js';
import { isAppPage } from './app-protocol.js';

/**
 * What our pages may load: their own scripts, styles and images (and data: images), nothing else. No
 * network at all (connect-src 'none'): every call goes to main over IPC.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Every window's web preferences: the renderer is a web page with one bridge, never Node. */
export function secureWebPreferences(options: { preload: string; devTools: boolean }): WebPreferences {
  return {
    preload: options.preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: options.devTools,
  };
}

interface Preventable {
  preventDefault(): void;
}

/** The part of a WebContents the lock-down touches. */
export interface LockableContents {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (attempt: Preventable & { url: string }) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (attempt: Preventable) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Our pages stay our pages: no navigation or redirect anywhere else, no new windows, no <webview>. Applied
 * to every WebContents as it is created (app 'web-contents-created'), so nothing escapes it.
 */
export function lockDownContents(contents: LockableContents, log: CoreLogger): void {
  const keepOnOurPage = (kind: string) => (attempt: Preventable & { url: string }) => {
    if (isAppPage(attempt.url)) return;
    attempt.preventDefault();
    log.warn({ kind, url: originOf(attempt.url) }, 'blocked a window from leaving Timebox');
  };
  contents.on('will-navigate', keepOnOurPage('navigation'));
  contents.on('will-redirect', keepOnOurPage('redirect'));
  contents.on('will-attach-webview', (attempt) => {
    attempt.preventDefault();
    log.warn({}, 'blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    log.warn({ url: originOf(url) }, 'blocked a new window; links open through openExternal only');
    return { action: 'deny' };
  });
}

type ResponseHeaders = Record<string, string | string[]>;

/** The part of a Session the lock-down touches. */
export interface LockableSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: () => boolean): void;
  readonly webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders: ResponseHeaders }) => void,
      ) => void,
    ): void;
  };
}

/**
 * The session every window uses: each permission (camera, notifications from the page, clipboard reads,
 * geolocation…) refused, and our CSP on every response, replacing whatever CSP a response carried. Our
 * own pages also get it from the app:// handler itself, so it never depends on webRequest seeing
 * custom-protocol responses.
 */
export function lockDownSession(session: LockableSession, log: CoreLogger): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log.warn({ permission }, 'refused a permission request from a window');
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders: ResponseHeaders = Object.fromEntries(
      Object.entries(details.responseHeaders ?? {}).filter(
        ([name]) => name.toLowerCase() !== 'content-security-policy',
      ),
    );
    responseHeaders['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
    callback({ responseHeaders });
  });
}

/** Where a refused URL pointed: scheme and host, without the path or query (which may carry tokens). */
export function originOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'not a URL';
  }
}
