import { nextTickDelay } from './countdown.js';

/** What the ticker reads: the local clock, the service's offset and the expiries that count down. */
export interface TickerSource {
  readonly localNow: () => number;
  readonly clockOffsetMs: () => number;
  /** Expiries (service time, ms) of the grants that count down. */
  readonly expiries: () => readonly number[];
  /** Calls back when the offset or the expiries may have changed; returns the unsubscribe. */
  readonly subscribe: (onChange: () => void) => () => void;
}

export interface Ticker {
  /** The service's now at the latest tick. */
  readonly serviceNow: () => number;
  /** For useSyncExternalStore: called on every tick. */
  readonly subscribe: (listener: () => void) => () => void;
  /** Starts ticking; returns the stop. */
  readonly start: () => () => void;
}

/**
 * The one clock every countdown reads, so they all move together and no component runs its own interval.
 * While started it keeps a single timeout, re-armed after each tick at the pace `nextTickDelay` asks for,
 * and ticks at once when the grants or the clock offset change.
 */
export function createTicker(source: TickerSource): Ticker {
  const listeners = new Set<() => void>();
  let now = source.localNow() + source.clockOffsetMs();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const tick = (): void => {
    now = source.localNow() + source.clockOffsetMs();
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(tick, nextTickDelay(now, source.expiries()));
    for (const listener of listeners) listener();
  };

  return {
    serviceNow: () => now,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    start() {
      const unsubscribeSource = source.subscribe(tick);
      tick();
      return () => {
        unsubscribeSource();
        if (timer !== null) clearTimeout(timer);
        timer = null;
      };
    },
  };
}
