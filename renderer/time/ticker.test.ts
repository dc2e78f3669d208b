// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTicker, type TickerSource } from './ticker.js';

const NOW = Date.parse('2030-01-07T09:00:00.000Z');

function source(expiries: number[], offsetMs = 0) {
  const changes = new Set<() => void>();
  const state = { expiries, offsetMs };
  const tickerSource: TickerSource = {
    localNow: () => Date.now(),
    clockOffsetMs: () => state.offsetMs,
    expiries: () => state.expiries,
    subscribe: (onChange) => {
      changes.add(onChange);
      return () => changes.delete(onChange);
    },
  };
  return {
    tickerSource,
    state,
    change: () => {
      for (const onChange of changes) onChange();
    },
    subscribers: () => changes.size,
  };
}

describe('the shared ticker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks every 15 s while the nearest grant has more than ten minutes, then every second', () => {
    const expiry = NOW + 11 * 60_000;
    const { tickerSource } = source([expiry]);
    const ticker = createTicker(tickerSource);
    const ticks: number[] = [];
    ticker.subscribe(() => ticks.push(ticker.serviceNow() - NOW));
    const stop = ticker.start();
    expect(ticks).toEqual([0]);
    vi.advanceTimersByTime(60_000);
    expect(ticks).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
    ticks.length = 0;
    vi.advanceTimersByTime(3000); // now 10 min left: fine-grained from here
    expect(ticks).toEqual([61_000, 62_000, 63_000]);
    stop();
  });

  it('flips at the expiry itself, and never reads past it between ticks', () => {
    const expiry = NOW + 2500;
    const { tickerSource } = source([expiry]);
    const ticker = createTicker(tickerSource);
    const seen: number[] = [];
    ticker.subscribe(() => seen.push(ticker.serviceNow()));
    const stop = ticker.start();
    vi.advanceTimersByTime(2499);
    expect(seen.at(-1)).toBeLessThan(expiry);
    vi.advanceTimersByTime(1);
    expect(seen.at(-1)).toBe(expiry);
    stop();
  });

  it('reads the service clock: local time plus the offset', () => {
    const { tickerSource } = source([], 90_000);
    const ticker = createTicker(tickerSource);
    const stop = ticker.start();
    expect(ticker.serviceNow()).toBe(NOW + 90_000);
    stop();
  });

  it('ticks at once when the grants or the offset change, and rearms its one timer', () => {
    const { tickerSource, state, change } = source([]);
    const ticker = createTicker(tickerSource);
    const listener = vi.fn();
    ticker.subscribe(listener);
    const stop = ticker.start();
    vi.advanceTimersByTime(5000);
    state.expiries = [NOW + 5000 + 1500];
    change();
    expect(listener).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    expect(listener).toHaveBeenCalledTimes(3);
    stop();
  });

  it('stops ticking and lets go of its source when stopped', () => {
    const { tickerSource, subscribers } = source([NOW + 60_000]);
    const ticker = createTicker(tickerSource);
    const listener = vi.fn();
    ticker.subscribe(listener);
    const stop = ticker.start();
    expect(subscribers()).toBe(1);
    stop();
    expect(subscribers()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(listener).toHaveBeenCalledTimes(1);
  });
});
