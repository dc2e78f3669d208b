import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INVOKE_METHODS, invokeChannel } from '../../preload/channels.js';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/security.js';
import { buildApp, lockBuildOutput, ROOT } from './build.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

interface Report {
  readonly channels: string[];
  readonly schemes: unknown;
  readonly window: { url: string; visible: boolean; webPreferences: Record<string, unknown> };
  readonly rendererReady: unknown;
  readonly firstPush: string;
  readonly signedIn: boolean;
  readonly badArguments: unknown;
  readonly foreignSender: unknown;
  readonly strayAnswer: unknown;
  readonly requested: boolean;
  readonly trayImage: string;
  readonly trayTooltip: string;
  readonly notifications: string[];
  readonly page: { scheme: string; status: number; csp: string };
  readonly navigationPrevented: boolean;
  readonly quit: { deferred: boolean; quits: number };
}

/**
 * The entry point itself, out/main/main.js as built, in a Node child process where every import of
 * 'electron' is a stub (test/electron/main-process/). It shows the wiring the unit tests cannot: the
 * embedded demo service starts, the app signs in as alice, IPC is registered and guarded, a grant reaches
 * the tray and a notification, our page is served with the CSP, and quitting waits for shutdown.
 */
describe('the main process, wired, against a stub Electron', () => {
  const userData = mkdtempSync(join(tmpdir(), 'timebox-main-'));
  const keychainService = `Timebox-main-test-${process.pid}`;
  let release: () => void = () => undefined;
  let report: Report;
  let output: string;

  beforeAll(async () => {
    release = await lockBuildOutput();
    buildApp();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(ROOT, 'test/electron/main-process/register.mjs')).href,
        join(ROOT, 'test/electron/main-process/drive.mjs'),
        pathToFileURL(join(ROOT, 'out/main/main.js')).href,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          ...process.env,
          STUB_USER_DATA: userData,
          NODE_ENV: 'test',
          TIMEBOX_KEYCHAIN_SERVICE: keychainService,
          TIMEBOX_DEMO_PASSWORD: '',
        },
      },
    );
    output = `${child.stdout}${child.stderr}`;
    const line = child.stdout.split('\n').find((candidate) => candidate.startsWith('REPORT '));
    if (!line)
      throw new Error(`the main process did not finish (${child.status ?? child.signal}):\n${output}`);
    report = JSON.parse(line.slice('REPORT '.length)) as Report;
  }, 180_000);

  afterAll(async () => {
    release();
    rmSync(userData, { recursive: true, force: true });
    // Where a keychain answers, leave nothing of this run in it.
    const entries = await keytar.findCredentials(keychainService).catch(() => []);
    for (const { account } of entries) await keytar.deletePassword(keychainService, account);
  });

  it('registers the app:// scheme and exactly the contract’s channels', () => {
    expect(report.schemes).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, corsEnabled: true } },
    ]);
    expect(report.channels).toEqual(INVOKE_METHODS.map(invokeChannel).sort());
  });

  it('opens the main window on our page with the secure preferences', () => {
    expect(report.window.url).toBe('app://timebox/index.html?window=main');
    expect(report.window.visible).toBe(true);
    expect(report.window.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: join(ROOT, 'out/preload/index.cjs'),
    });
  });

  it('starts the demo service inside, and signs in as alice', () => {
    expect(output).toContain('no service configured: running the demo service inside the app');
    expect(report.rendererReady).toEqual({ ok: true, value: null });
    expect(report.firstPush).toBe('snapshot');
    expect(report.signedIn).toBe(true);
    expect(output).toContain('"message":"signed in to the embedded demo service","username":"alice"');
  });

  it('refuses bad arguments and foreign senders, and logs both', () => {
    expect(report.badArguments).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    expect(report.foreignSender).toMatchObject({ ok: false, error: { code: 'forbidden_sender' } });
    expect(output).toContain('refused an IPC call with invalid arguments');
    expect(output).toContain('refused an IPC call from outside a Timebox window');
  });

  it('logs messages sent outside the contract on any of its windows, and answers a sendSync with a refusal', () => {
    expect(report.strayAnswer).toEqual({
      ok: false,
      error: { code: 'unknown_channel', message: 'Timebox answers its own calls only.' },
    });
    const stray = output
      .split('\n')
      .filter((line) => line.includes('refused an IPC message on a channel outside the contract'));
    expect(stray.map((line) => (JSON.parse(line) as { kind: string; channel: string }).channel)).toEqual([
      'timebox:stray',
      'electron-store-get-data',
    ]);
    expect(output).not.toContain('STRAY-ARGUMENT');
  });

  it('shows a granted request in the tray and as a notification', () => {
    expect(report.requested).toBe(true);
    expect(['active.png', 'attention.png']).toContain(report.trayImage);
    // The catalog gives the resource its name once loaded; until then the tray shows its id.
    expect(report.trayTooltip).toMatch(/^Timebox: sandbox( cluster)? · operator ends in/i);
    expect(report.notifications.some((title) => title.startsWith('Access granted'))).toBe(true);
  });

  it('serves our page with the CSP and keeps the window on it', () => {
    expect(report.page).toEqual({ scheme: 'app', status: 200, csp: CONTENT_SECURITY_POLICY });
    expect(report.navigationPrevented).toBe(true);
  });

  it('quits only after shutting down', () => {
    expect(report.quit).toEqual({ deferred: true, quits: 1 });
  });
});
