import type { DesktopClock } from '../../main/core/clock.js';
import { createHandlers, type Clipboard, type Handlers } from '../../main/core/ipc-handlers.js';
import type { Keychain } from '../../keychain/keychain.js';
import type { KeychainUnlocker } from '../../main/core/keychain-unlock.js';
import type { Notice } from '../../main/core/notifications.js';
import { readStoredSettings, type SettingsStore, type StoredSettings } from '../../main/core/settings.js';
import { TimeboxCore, type CoreLogger } from '../../main/core/timebox.js';
import type { NavigationTarget } from '../../preload/contract.js';
import type { ManualClock } from './manual-clock.js';

/** A keychain in memory, for tests and the bench that are not about the OS keychain. */
export function memoryKeychain(): Keychain & { readonly size: () => number; readonly writes: () => number } {
  const entries = new Map<string, string>();
  let writes = 0;
  return {
    get: (account) => Promise.resolve(entries.get(account) ?? null),
    set: (account, secret) => {
      entries.set(account, secret);
      writes += 1;
      return Promise.resolve();
    },
    writes: () => writes,
    delete: (account) => Promise.resolve(entries.delete(account)),
    accounts: () => Promise.resolve([...entries.keys()]),
    size: () => entries.size,
  };
}

/**
 * Main's IPC handlers over a core with no desktop behind them: no browser to open, no hosts beside the
 * service's, and a clipboard that keeps nothing unless the caller brings one. Tests and the bench call
 * them the way a window does.
 */
export function headlessHandlers<Caller>(deps: {
  readonly core: TimeboxCore;
  readonly clock: DesktopClock;
  readonly log: CoreLogger;
  readonly rendererReady?: (caller: Caller) => void;
  readonly clipboard?: Clipboard;
}): Handlers<Caller> {
  return createHandlers<Caller>({
    core: deps.core,
    clipboard: deps.clipboard ?? { readText: () => Promise.resolve(''), writeText: () => Promise.resolve() },
    clock: deps.clock,
    log: deps.log,
    openExternal: () => Promise.resolve(),
    externalHosts: [],
    rendererReady: deps.rendererReady ?? (() => undefined),
  });
}

export interface TestDesktop {
  readonly core: TimeboxCore;
  /** Every notification the desktop showed, in order. */
  readonly shown: Notice[];
  /** Where each click on a shown notification would lead. */
  click(notice: Notice): void;
  readonly navigations: NavigationTarget[];
  readonly settings: SettingsStore & { readonly current: StoredSettings };
  readonly warnings: string[];
  stop(): Promise<void>;
}

/**
 * The desktop core as the app runs it, minus Electron: real fetch against the service at `serviceUrl`,
 * the given keychain, settings in memory (the electron-store adapter has its own tests), and a notifier
 * that records what it shows.
 */
export async function startDesktop(options: {
  readonly serviceUrl: string | null;
  readonly clock: ManualClock;
  readonly keychain: Keychain;
  readonly settings?: Partial<StoredSettings>;
  readonly fetch?: typeof fetch;
  readonly pollEveryMs?: number;
  readonly unlocker?: KeychainUnlocker;
  /** The system browser single sign-on opens (a tab of the test's Chromium). */
  readonly openBrowser?: (url: string) => Promise<void>;
}): Promise<TestDesktop> {
  let current = readStoredSettings({ serviceUrl: options.serviceUrl, ...options.settings });
  const settings = {
    read: () => current,
    write: (next: StoredSettings) => {
      current = next;
    },
    get current() {
      return current;
    },
  };
  const shown: Notice[] = [];
  const clicks = new Map<Notice, (target: NavigationTarget) => void>();
  const warnings: string[] = [];
  const navigations: NavigationTarget[] = [];
  const core = new TimeboxCore({
    clock: options.clock,
    fetch: options.fetch ?? fetch,
    keychain: options.keychain,
    ...(options.unlocker ? { unlocker: options.unlocker } : {}),
    ...(options.openBrowser ? { openBrowser: options.openBrowser } : {}),
    settings,
    notifier: {
      show: (notice, onClick) => {
        shown.push(notice);
        clicks.set(notice, onClick);
      },
    },
    log: {
      info: () => undefined,
      warn: (_details, message) => {
        warnings.push(message);
      },
    },
    random: () => 0.5,
    coalesceMs: 50,
    ...(options.pollEveryMs === undefined ? {} : { pollEveryMs: options.pollEveryMs }),
  });
  core.onNavigate((target) => navigations.push(target));
  await core.start();
  return {
    core,
    shown,
    navigations,
    settings,
    warnings,
    click(notice) {
      clicks.get(notice)?.(notice.target);
    },
    stop: () => core.stop(),
  };
}
