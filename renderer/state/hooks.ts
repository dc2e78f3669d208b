import {
  createContext,
  useContext,
  useLayoutEffect,
  useRef,
  useSyncExternalStore,
  type RefObject,
} from 'react';
import { useStore } from 'zustand';
import type { AppState } from '../../preload/contract.js';
import type { Runtime } from './runtime.js';
import type { TimeboxState } from './store.js';
import { localDay, noonOf } from '../time/format.js';

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
 * changes (a grant's urgency, the day), not at every tick. `derive` must return a primitive.
 */
export function useFromServiceNow<T extends string | number | boolean>(derive: (serviceNow: number) => T): T {
  const { ticker } = useRuntime();
  return useSyncExternalStore(ticker.subscribe, () => derive(ticker.serviceNow()));
}

/**
 * Noon today on the user's clock, for `clockTime` to tell today from another day: it changes at midnight
 * or with the clock offset, so what shows it does not re-render at every tick.
 */
export function useLocalToday(): number {
  const offset = useApp((app) => app.clockOffsetMs);
  return noonOf(useFromServiceNow((serviceNow) => localDay(serviceNow - offset)));
}

/**
 * Draws an element straight from the shared ticker, with no React render: a countdown's text and bar
 * change every second, and a tick that re-rendered each visible card's countdown cost more than the
 * whole tick's budget. `draw` runs before the first paint and at every tick while `following`; it should
 * write only what changed (see `setText`, `setAttributeIfChanged`).
 */
export function useTickerDrawing<E extends Element>(
  draw: (element: E, serviceNow: number) => void,
  following = true,
): RefObject<E | null> {
  const { ticker } = useRuntime();
  const ref = useRef<E>(null);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    const redraw = () => {
      draw(element, ticker.serviceNow());
    };
    redraw();
    return following ? ticker.subscribe(redraw) : undefined;
  }, [ticker, draw, following]);
  return ref;
}

/** Sets an element's text when it differs, so an unchanged countdown costs no style or layout. */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

export function setAttributeIfChanged(element: Element, name: string, value: string): void {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}
