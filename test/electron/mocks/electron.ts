import { EventEmitter } from 'node:events';
import { createRequire, Module } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { InvokeEvent } from '../../../main/electron/ipc.js';

/**
 * A small stand-in for the `electron` module, enough for the adapters under test (in the spirit of
 * Electron Fiddle's tests/mocks/electron.ts). The real module cannot load here: in plain Node,
 * require('electron') looks for the Electron binary and, finding none, tries to download it.
 *
 * Tests use it with
 *   vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));
 * and `useElectronMockForPackages()` makes packages that import electron themselves (electron-store)
 * see the same object.
 */

export class FakeWebContents extends EventEmitter {
  private static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  readonly send = vi.fn<(channel: string, ...args: unknown[]) => void>();
  readonly setWindowOpenHandler =
    vi.fn<(handler: (details: { url: string }) => { action: 'deny' }) => void>();
  destroyed = false;

  isDestroyed(): boolean {
    return this.destroyed;
  }

  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static readonly created: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loadURL = vi.fn<(url: string) => Promise<void>>(() => Promise.resolve());
  readonly setPosition = vi.fn<(x: number, y: number) => void>();
  readonly focus = vi.fn<() => void>();
  private visible = false;
  private destroyed = false;

  constructor(readonly options: Electron.BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.created.push(this);
  }

  show(): void {
    const wasVisible = this.visible;
    this.visible = true;
    if (!wasVisible) this.emit('show');
  }

  hide(): void {
    const wasVisible = this.visible;
    this.visible = false;
    if (wasVisible) this.emit('hide');
  }

  isVisible(): boolean {
    return this.visible;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  destroy(): void {
    this.destroyed = true;
    this.visible = false;
    this.webContents.destroy();
    this.emit('closed');
  }
}

/** ipcMain that keeps each handler, so a test can invoke a channel as a renderer would. */
export class FakeIpcMain extends EventEmitter {
  readonly handlers = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>>();

  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void {
    if (this.handlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** What Electron does on ipcRenderer.invoke: the handler's answer, or a rejection when there is none. */
  async invoke(channel: string, event: InvokeEvent, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, ...args);
  }
}

export class FakeIpcRenderer extends EventEmitter {
  readonly invoke = vi.fn<(channel: string, ...args: unknown[]) => Promise<unknown>>(() =>
    Promise.resolve({ ok: true, value: null }),
  );
}

export class FakeNotification extends EventEmitter {
  static readonly created: FakeNotification[] = [];
  static supported = true;
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  readonly show = vi.fn<() => void>();

  constructor(readonly options: Electron.NotificationConstructorOptions) {
    super();
    FakeNotification.created.push(this);
  }
}

export class FakeTray extends EventEmitter {
  readonly setImage = vi.fn<(image: unknown) => void>();
  readonly setToolTip = vi.fn<(text: string) => void>();
  readonly setContextMenu = vi.fn<(menu: unknown) => void>();
  readonly popUpContextMenu = vi.fn<(menu?: unknown) => void>();
  readonly destroy = vi.fn<() => void>();
  bounds = { x: 0, y: 0, width: 0, height: 0 };

  getBounds(): { x: number; y: number; width: number; height: number } {
    return this.bounds;
  }
}

/** A NativeImage stand-in: where it came from, and whether it was made a template. */
export class FakeImage {
  template = false;
  constructor(readonly path: string) {}
  setTemplateImage(template: boolean): void {
    this.template = template;
  }
}

/** A clipboard as this Electron declares it: asynchronous reads and writes. */
export class FakeClipboard {
  text = '';
  readText(): Promise<string> {
    return Promise.resolve(this.text);
  }
  writeText(text: string): Promise<void> {
    this.text = text;
    return Promise.resolve();
  }
}

export const userDataDir = join(tmpdir(), `timebox-electron-test-${process.pid}`);

const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  getPath: vi.fn((name: string) => (name === 'userData' ? userDataDir : join(userDataDir, name))),
  getVersion: vi.fn(() => '0.1.0'),
  setPath: vi.fn(),
  quit: vi.fn(),
  exit: vi.fn(),
  whenReady: vi.fn(() => Promise.resolve()),
  requestSingleInstanceLock: vi.fn(() => true),
  setAsDefaultProtocolClient: vi.fn<(protocol: string, path?: string, args?: string[]) => boolean>(
    () => true,
  ),
  setLoginItemSettings: vi.fn<(settings: { openAtLogin: boolean; args?: string[] }) => void>(),
  getLoginItemSettings: vi.fn(() => ({ openAtLogin: false, wasOpenedAtLogin: false })),
  setAppUserModelId: vi.fn(),
});

export const electronMock = {
  app,
  BrowserWindow: FakeBrowserWindow,
  clipboard: new FakeClipboard(),
  contextBridge: { exposeInMainWorld: vi.fn<(key: string, api: unknown) => void>() },
  dialog: { showErrorBox: vi.fn() },
  ipcMain: new FakeIpcMain(),
  ipcRenderer: new FakeIpcRenderer(),
  Menu: {
    buildFromTemplate: vi.fn((template: Electron.MenuItemConstructorOptions[]) => ({ template })),
    setApplicationMenu: vi.fn(),
  },
  nativeImage: { createFromPath: (path: string) => new FakeImage(path) },
  Notification: FakeNotification,
  powerMonitor: new EventEmitter(),
  protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
  screen: {
    getDisplayNearestPoint: vi.fn(() => ({ workArea: { x: 0, y: 0, width: 1440, height: 900 } })),
    getCursorScreenPoint: vi.fn(() => ({ x: 1200, y: 10 })),
  },
  session: { defaultSession: {} },
  shell: { openExternal: vi.fn(() => Promise.resolve()) },
  Tray: FakeTray,
};

/** The module as `vi.mock('electron', …)` returns it: named exports and the default export alike. */
export function electronModule(): typeof electronMock & { default: typeof electronMock } {
  return { ...electronMock, default: electronMock };
}

/**
 * vi.mock reaches the modules Vitest transforms, not packages Node loads itself. electron-store imports
 * electron natively; putting the mock in Node's module cache under electron's own path makes that import
 * find it too.
 */
export function useElectronMockForPackages(): void {
  const require = createRequire(import.meta.url);
  const path = require.resolve('electron');
  const cached = new Module(path);
  cached.filename = path;
  cached.loaded = true;
  cached.exports = electronMock;
  require.cache[path] = cached;
}
