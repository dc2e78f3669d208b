import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { appPageUrl, appScheme, isAppPage, serveAppFiles } from '../../main/electron/app-protocol.js';
import {
  CONTENT_SECURITY_POLICY,
  lockDownContents,
  lockDownSession,
  secureWebPreferences,
  type LockableSession,
} from '../../main/electron/security.js';
import { FakeWebContents } from './mocks/electron.js';
import { recordingLog } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

const attempt = (url: string) => ({ url, preventDefault: vi.fn<() => void>() });

describe('every window’s web preferences', () => {
  it('isolate the page from Node and from the preload', () => {
    expect(secureWebPreferences({ preload: '/app/out/preload/index.cjs', devTools: false })).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      devTools: false,
    });
  });
});

describe('the content security policy', () => {
  it('allows our own scripts, styles and images, and nothing else', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((directive): [string, string] => {
        const [name = '', ...sources] = directive.split(' ');
        return [name, sources.join(' ')];
      }),
    );
    expect(directives).toEqual({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'connect-src': "'none'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'frame-ancestors': "'none'",
      'form-action': "'none'",
    });
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('replaces whatever CSP a response carried, on every response of the session', () => {
    const onHeadersReceived = vi.fn<LockableSession['webRequest']['onHeadersReceived']>();
    lockDownSession(
      {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        webRequest: { onHeadersReceived },
      },
      recordingLog(),
    );
    const listener = onHeadersReceived.mock.calls[0]?.[0];
    const callback = vi.fn();
    listener?.(
      { responseHeaders: { 'content-security-policy': ["script-src 'unsafe-inline'"], 'x-other': ['kept'] } },
      callback,
    );
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: { 'x-other': ['kept'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
});

describe('navigation lock-down', () => {
  function locked() {
    const contents = new FakeWebContents();
    const log = recordingLog();
    lockDownContents(contents, log);
    return { contents, log };
  }

  const kinds = { 'will-navigate': 'navigation', 'will-redirect': 'redirect' } as const;
  for (const event of ['will-navigate', 'will-redirect'] as const) {
    it(`${event}: away from our page is prevented and logged, without the path`, () => {
      const { contents, log } = locked();
      const away = attempt('https://evil.example/steal?token=secret');
      contents.emit(event, away);
      expect(away.preventDefault).toHaveBeenCalled();
      expect(log.entries).toEqual([
        {
          level: 'warn',
          message: 'blocked a window from leaving Timebox',
          details: { kind: kinds[event], url: 'https://evil.example' },
        },
      ]);
      expect(JSON.stringify(log.entries)).not.toContain('secret');
    });

    it(`${event}: to our own page (a reload, another window kind) is let through`, () => {
      const { contents, log } = locked();
      const reload = attempt(appPageUrl('main'));
      contents.emit(event, reload);
      expect(reload.preventDefault).not.toHaveBeenCalled();
      expect(log.entries).toEqual([]);
    });
  }

  it('denies every new window', () => {
    const { contents, log } = locked();
    const handler = contents.setWindowOpenHandler.mock.calls[0]?.[0];
    expect(handler?.({ url: 'https://timebox.example.com/docs' })).toEqual({ action: 'deny' });
    expect(handler?.({ url: appPageUrl('main') })).toEqual({ action: 'deny' });
    expect(log.warnings()).toHaveLength(2);
  });

  it('refuses <webview>', () => {
    const { contents } = locked();
    const webview = attempt('');
    contents.emit('will-attach-webview', webview);
    expect(webview.preventDefault).toHaveBeenCalled();
  });
});

describe('permissions', () => {
  it('refuses every request and every check', () => {
    const setPermissionRequestHandler = vi.fn<LockableSession['setPermissionRequestHandler']>();
    const setPermissionCheckHandler = vi.fn<LockableSession['setPermissionCheckHandler']>();
    const log = recordingLog();
    lockDownSession(
      { setPermissionRequestHandler, setPermissionCheckHandler, webRequest: { onHeadersReceived: vi.fn() } },
      log,
    );
    const request = setPermissionRequestHandler.mock.calls[0]?.[0];
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
      const callback = vi.fn();
      request?.({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
    }
    expect(log.warnings()).toHaveLength(5);
    expect(setPermissionCheckHandler.mock.calls[0]?.[0]()).toBe(false);
  });
});

describe('our pages', () => {
  it('live at app://timebox/index.html, and nothing else is ours', () => {
    expect(appPageUrl('popover')).toBe('app://timebox/index.html?window=popover');
    const cases: readonly [string, boolean][] = [
      ['app://timebox/index.html?window=main', true],
      ['app://timebox/index.html#/settings', true],
      ['app://timebox/assets/index.js', false],
      ['app://elsewhere/index.html', false],
      ['app://user:pw@timebox/index.html', false],
      ['file:///work/out/renderer/index.html', false],
      ['https://timebox/index.html', false],
      ['not a url', false],
    ];
    for (const [url, ours] of cases) expect([url, isAppPage(url)]).toEqual([url, ours]);
  });

  it('come from a standard, secure scheme', () => {
    expect(appScheme.privileges).toMatchObject({ standard: true, secure: true });
  });

  describe('are served from out/renderer only', () => {
    const base = mkdtempSync(join(tmpdir(), 'timebox-renderer-'));
    const root = join(base, 'renderer');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Timebox</title>');
    writeFileSync(join(root, 'assets', 'index.js'), 'console.log(1)');
    writeFileSync(join(base, 'secret.txt'), 'secret');
    const serve = serveAppFiles({ rootDir: root, contentSecurityPolicy: CONTENT_SECURITY_POLICY });
    const get = (url: string, method = 'GET') => serve({ url, method });

    it('with the CSP and a content type on every answer', async () => {
      const page = await get('app://timebox/index.html?window=main');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await page.text()).toContain('<title>Timebox</title>');
      const script = await get('app://timebox/assets/index.js');
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    });

    it('refusing everything else', async () => {
      const refusals: readonly [string, string, number][] = [
        ['app://timebox/%2e%2e/secret.txt', 'GET', 404],
        ['app://timebox/..%2fsecret.txt', 'GET', 404],
        ['app://timebox/missing.js', 'GET', 404],
        ['app://timebox/index.html', 'POST', 405],
        ['app://elsewhere/index.html', 'GET', 404],
        ['app://timebox/%E0%A4%A', 'GET', 400],
        ['app://timebox/assets', 'GET', 404],
      ];
      for (const [url, method, status] of refusals) {
        const answer = await get(url, method);
        expect([url, answer.status]).toEqual([url, status]);
      }
    });
  });
});
