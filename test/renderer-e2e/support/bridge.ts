import type { Page } from 'playwright-core';
import { INVOKE_METHODS } from '../../../preload/channels.js';
import { dispatch } from '../../../main/core/ipc-handlers.js';
import type { CoreLogger, TimeboxCore } from '../../../main/core/timebox.js';
import type { ManualClock } from '../../support/manual-clock.js';
import { headlessHandlers } from '../../support/desktop.js';

/** What the page pushes arrive on, and the binding its calls go through. */
export const PUSH_FUNCTION = '__timeboxPush';
export const INVOKE_BINDING = '__timeboxInvoke';

export interface WiredPage {
  /** What the renderer copied, as the clipboard saw it. */
  readonly clipboard: { text: string };
  /** Warnings main logged (refused calls among them). */
  readonly warnings: string[];
  /** Every call the renderer made, by method name. */
  readonly calls: string[];
  /** Resolves when every push so far has reached the page. */
  flushed(): Promise<void>;
  /** Sends the snapshot held back by `holdSnapshot` (at once if the renderer already asked for it). */
  releaseSnapshot(): void;
}

/**
 * Runs in the page before any of its scripts: `window.timebox` as the preload exposes it, each method a
 * call through one binding, and a function the test side calls to push state and navigation.
 */
export function installBridge(names: { methods: readonly string[]; push: string; invoke: string }): void {
  const scope = globalThis as unknown as Record<string, unknown>;
  // Looked up at call time: Playwright installs the binding itself.
  const invoke = (method: string, args: unknown): Promise<unknown> =>
    (scope[names.invoke] as (method: string, args: unknown) => Promise<unknown>)(method, args);
  const listeners = {
    state: new Set<(payload: unknown) => void>(),
    navigate: new Set<(payload: unknown) => void>(),
  };
  const subscribe = (channel: keyof typeof listeners) => (listener: (payload: unknown) => void) => {
    listeners[channel].add(listener);
    return () => {
      listeners[channel].delete(listener);
    };
  };
  const api: Record<string, unknown> = { onState: subscribe('state'), onNavigate: subscribe('navigate') };
  for (const method of names.methods) api[method] = (args: unknown) => invoke(method, args);
  Object.defineProperty(scope, 'timebox', { value: Object.freeze(api) });
  Object.defineProperty(scope, names.push, {
    value: (channel: keyof typeof listeners, payload: unknown) => {
      for (const listener of listeners[channel]) listener(payload);
    },
  });
}

/**
 * Wires a page to a real TimeboxCore the way Electron's main and preload do: calls go through the same
 * handlers and the same `dispatch` validation; the snapshot is pushed when the renderer says it is ready,
 * then every change, and the core's navigation requests.
 */
export async function wirePage(
  page: Page,
  core: TimeboxCore,
  clock: ManualClock,
  options: { readonly holdSnapshot?: boolean } = {},
): Promise<WiredPage> {
  const clipboard = { text: '' };
  const warnings: string[] = [];
  const calls: string[] = [];
  const log: CoreLogger = {
    info: () => undefined,
    warn: (_details, message) => {
      warnings.push(message);
    },
  };
  let ready = false;
  // A held snapshot keeps the window in its loading state, as a main that is slow to answer would.
  let held = options.holdSnapshot === true;
  let asked = false;
  // Pushes reach the page in the order they happened, as IPC messages do.
  let pushes: Promise<void> = Promise.resolve();
  const push = (channel: 'state' | 'navigate', payload: unknown): void => {
    pushes = pushes.then(async () => {
      await page
        .evaluate(
          ([name, pushedChannel, pushed]) => {
            const deliver = (
              globalThis as unknown as Record<string, (channel: string, payload: unknown) => void>
            )[name];
            deliver?.(pushedChannel, pushed);
          },
          [PUSH_FUNCTION, channel, payload] as const,
        )
        .catch(() => undefined); // the page closed or is navigating: it asks again when it is ready
    });
  };

  const sendSnapshot = (): void => {
    ready = true;
    push('state', core.store.snapshot());
  };

  const handlers = headlessHandlers({
    core,
    clipboard: {
      readText: () => Promise.resolve(clipboard.text),
      writeText: (text) => {
        clipboard.text = text;
        return Promise.resolve();
      },
    },
    clock,
    log,
    rendererReady: () => {
      asked = true;
      if (!held) sendSnapshot();
    },
  });
  core.store.subscribe((update) => {
    if (ready) push('state', update);
  });
  core.onNavigate((target) => {
    push('navigate', target);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) {
      ready = false;
      asked = false;
    }
  });
  await page.exposeBinding(INVOKE_BINDING, (_source, method: string, args: unknown) => {
    calls.push(method);
    return dispatch(handlers, method, args, log, page);
  });
  await page.addInitScript(installBridge, {
    methods: INVOKE_METHODS,
    push: PUSH_FUNCTION,
    invoke: INVOKE_BINDING,
  });
  return {
    clipboard,
    warnings,
    calls,
    flushed: () => pushes,
    releaseSnapshot() {
      held = false;
      if (asked) sendSnapshot();
    },
  };
}
