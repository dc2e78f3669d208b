import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StateUpdate, TimeboxApi } from '../../preload/contract.js';
import { buildApp, lockBuildOutput, ROOT } from './build.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

/**
 * Where the Electron binary is, found the way node_modules/electron finds it but without its fallback
 * (which downloads the binary): a reason instead when it is not there.
 */
function findElectron(): { readonly path: string } | { readonly missing: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const path = override
    ? join(override, relative ?? 'electron')
    : relative
      ? join(packageDir, 'dist', relative)
      : null;
  if (path === null || !existsSync(path))
    return {
      missing:
        'the Electron binary is not installed (node_modules/electron was installed without its download, as ' +
        'ELECTRON_SKIP_BINARY_DOWNLOAD or a machine without network leaves it); install it with ' +
        '`npx install-electron` or point ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron',
    };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return { missing: 'Electron needs a display on Linux and none is set (run under xvfb-run)' };
  return { path };
}

const electron = findElectron();
if ('missing' in electron) console.warn(`Skipping the Electron end-to-end tests: ${electron.missing}.`);

/** What the page's global scope holds, as these tests look at it (the test compiles without the DOM). */
interface PageGlobals {
  readonly timebox?: TimeboxApi;
  readonly require?: unknown;
  readonly process?: unknown;
  readonly ipcRenderer?: unknown;
  readonly location: { href: string };
  open(url: string): unknown;
}

const OUR_PAGE = 'app://timebox/index.html?window=main';

describe.skipIf('missing' in electron)('Timebox in Electron', () => {
  let userData = '';
  const log: string[] = [];
  let release: () => void = () => undefined;
  let app: ElectronApplication;
  let page: Page;

  const logged = (message: string): Promise<void> =>
    vi.waitFor(
      () => {
        expect(log.join('')).toContain(message);
      },
      { timeout: 10_000, interval: 100 },
    );

  beforeAll(async () => {
    if (!('path' in electron)) return;
    release = await lockBuildOutput();
    buildApp();
    userData = mkdtempSync(join(tmpdir(), 'timebox-e2e-'));
    app = await _electron.launch({
      executablePath: electron.path,
      // Chromium refuses to run as root with its OS sandbox (CI containers); our windows' `sandbox`
      // preference, which these tests check, is separate and stays on.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ROOT],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        TIMEBOX_USER_DATA_DIR: userData,
        TIMEBOX_KEYCHAIN_SERVICE: `Timebox-e2e-${process.pid}`,
        TIMEBOX_DEMO_PASSWORD: 'demo',
      },
    });
    app.process().stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    app.process().stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 180_000);

  afterAll(async () => {
    await app.close();
    release();
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  it('opens the main window on our page: no Node, only the bridge, sandboxed where the OS says', async () => {
    expect(page.url()).toBe(OUR_PAGE);
    const globals = await page.evaluate(() => {
      const scope = globalThis as unknown as PageGlobals;
      return {
        require: typeof scope.require,
        process: typeof scope.process,
        ipcRenderer: typeof scope.ipcRenderer,
        timebox: typeof scope.timebox,
      };
    });
    expect(globals).toEqual({
      require: 'undefined',
      process: 'undefined',
      ipcRenderer: 'undefined',
      timebox: 'object',
    });
    // Electron reports the OS-level sandbox of each process on macOS and Windows only.
    if (process.platform === 'darwin' || process.platform === 'win32') {
      const renderers = await app.evaluate(({ app: electronApp }) =>
        electronApp
          .getAppMetrics()
          .filter((metric) => metric.type === 'Tab')
          .map((metric) => metric.sandboxed),
      );
      expect(renderers.length).toBeGreaterThan(0);
      expect(renderers.every((sandboxed) => sandboxed === true)).toBe(true);
    }
  });

  it('serves the page with the strict CSP', async () => {
    const csp = await app.evaluate(async ({ session }) => {
      const response = await session.defaultSession.fetch('app://timebox/index.html');
      return response.headers.get('content-security-policy');
    });
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'none'");
  });

  it('runs the demo service inside and signs in as alice', async () => {
    const user = await page.evaluate(
      () =>
        new Promise<string | undefined>((resolve) => {
          const timebox = (globalThis as unknown as PageGlobals).timebox;
          const stop = timebox?.onState((update: StateUpdate) => {
            const session = update.kind === 'snapshot' ? update.state.session : update.changes.session;
            if (session?.status === 'signed-in') {
              stop?.();
              resolve(session.user?.username);
            }
          });
          void timebox?.rendererReady({});
        }),
    );
    expect(user).toBe('alice');
  }, 120_000);

  it('refuses a forged call with bad arguments, and logs it', async () => {
    const result = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).timebox?.approve({ requestId: "req_'; DROP TABLE grants; --" }),
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    await logged('refused an IPC call with invalid arguments');
  });

  it('blocks navigation away and new windows', async () => {
    const opened = await page.evaluate(() => {
      const scope = globalThis as unknown as PageGlobals;
      const popup = scope.open('https://example.com/');
      scope.location.href = 'https://example.com/';
      return popup === null;
    });
    expect(opened).toBe(true);
    await logged('blocked a window from leaving Timebox');
    expect(page.url()).toBe(OUR_PAGE);
    expect(app.windows()).toHaveLength(1);
  });
});
