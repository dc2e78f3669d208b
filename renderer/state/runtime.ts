import type { GrantState, IpcResult, TimeboxApi } from '../../preload/contract.js';
import { createTicker, type Ticker } from '../time/ticker.js';
import { createTimeboxStore, type TimeboxStore, type WindowKind } from './store.js';

/** Everything the views need: the store, the shared ticker and the bridge to main. */
export interface Runtime {
  readonly store: TimeboxStore;
  readonly ticker: Ticker;
  readonly api: TimeboxApi;
  /** Subscribes to main, says the renderer is ready and starts the ticker; returns the disconnect. */
  readonly connect: () => () => void;
}

export function createRuntime(
  api: TimeboxApi,
  windowKind: WindowKind,
  localNow: () => number = Date.now,
): Runtime {
  const store = createTimeboxStore(windowKind);
  // Parsed once per list of grants, not at every tick.
  let parsed: { readonly grants: readonly GrantState[]; readonly expiries: readonly number[] } | null = null;
  const ticker = createTicker({
    localNow,
    clockOffsetMs: () => store.getState().app?.clockOffsetMs ?? 0,
    expiries: () => {
      const grants = store.getState().app?.grants ?? [];
      if (parsed?.grants !== grants) {
        const expiries = grants
          .filter((grant) => grant.status === 'active')
          .map((grant) => Date.parse(grant.expiresAt));
        parsed = { grants, expiries };
      }
      return parsed.expiries;
    },
    subscribe: (onChange) =>
      store.subscribe((next, previous) => {
        if (
          next.app?.grants !== previous.app?.grants ||
          next.app?.clockOffsetMs !== previous.app?.clockOffsetMs
        )
          onChange();
      }),
  });

  return {
    store,
    ticker,
    api,
    connect() {
      // Subscribe first: main sends the snapshot in answer to rendererReady, and changes after it.
      const stopState = api.onState((update) => {
        store.getState().applyUpdate(update);
      });
      const stopNavigate = api.onNavigate((target) => {
        store.getState().navigate(target);
      });
      const stopTicker = ticker.start();
      void api.rendererReady({}).then((result) => {
        if (!result.ok) store.getState().showBanner({ tone: 'error', text: result.error.message });
      });
      return () => {
        stopState();
        stopNavigate();
        stopTicker();
      };
    },
  };
}

export interface CommandOptions<Value> {
  /** What to say when it worked; null says nothing. */
  readonly success?: (value: Value) => string | null;
  /** Whether a failure offers "Try again" (not for calls that would repeat a side effect blindly). */
  readonly retry?: boolean;
}

/**
 * Runs a call to main and shows its outcome in the banner: the error's sentence with "Try again", or the
 * success message. Returns the value, or null when it failed.
 */
export async function runCommand<Value>(
  runtime: Runtime,
  call: () => Promise<IpcResult<Value>>,
  options: CommandOptions<Value> = {},
): Promise<Value | null> {
  const result = await call();
  const state = runtime.store.getState();
  if (!result.ok) {
    state.showBanner({
      tone: 'error',
      text: result.error.message,
      ...(options.retry === false
        ? {}
        : {
            action: {
              label: 'Try again',
              run: () => {
                void runCommand(runtime, call, options);
              },
            },
          }),
    });
    return null;
  }
  const message = options.success?.(result.value) ?? null;
  if (message !== null) state.showBanner({ tone: 'success', text: message });
  else if (state.banner?.tone === 'error') state.dismissBanner();
  return result.value;
}
