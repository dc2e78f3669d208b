import { createContext, useContext, useSyncExternalStore } from 'react';
import { useStore } from 'zustand';
import type { AppState } from '../../preload/contract.js';
import type { Runtime } from './runtime.js';
import type { TimeboxState } from './store.js';

export const RuntimeContext = createContext<Runtime | null>(null);

export function useRuntime(): Runtime {
  const runtime = useContext(RuntimeContext);
  if (!runtime) throw new Error('useRuntime needs a RuntimeContext provider');
  return runtime;
}

/** A slice of the store; the selector must return something stable (a value or an existing object). */
export function useTimebox<Slice>(selector: (state: TimeboxState) => Slice): Slice {
  return useStore(useRuntime().store, selector);
}

/** A slice of main's state, for views that only render once the snapshot is in. */
export function useApp<Slice>(selector: (app: AppState) => Slice): Slice {
  return useTimebox((state) => {
    if (!state.app) throw new Error('useApp before the first snapshot');
    return selector(state.app);
  });
}

/** The service's now at the shared ticker's latest tick; re-renders on every tick. */
export function useServiceNow(): number {
  const { ticker } = useRuntime();
  return useSyncExternalStore(ticker.subscribe, ticker.serviceNow);
}

/**
 * Something derived from the shared ticker's time: the component re-renders only when the derived value
 * changes (a grant's urgency, the day), not at every tick, so 500 cards cost 500 comparisons a tick
 * rather than 500 renders. `derive` must return a primitive.
 */
export function useFromServiceNow<T extends string | number | boolean>(
  derive: (serviceNow: number) => T,
  /** False holds the value where it is (for what is out of view); it catches up when true again. */
  following = true,
): T {
  const { ticker } = useRuntime();
  return useSyncExternalStore(following ? ticker.subscribe : holdStill, () => derive(ticker.serviceNow()));
}

const holdStill = (): (() => void) => () => undefined;
