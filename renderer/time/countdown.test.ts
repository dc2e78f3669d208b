import { describe, expect, it } from 'vitest';
import {
  countdownText,
  countdownWords,
  fractionLeft,
  isLive,
  nextTickDelay,
  remainingMs,
} from './countdown.js';

const NOW = Date.parse('2030-01-07T09:00:00.000Z');
const at = (ms: number): string => new Date(ms).toISOString();

describe('the countdown maths', () => {
  it('never counts below zero', () => {
    expect(remainingMs(at(NOW + 1500), NOW)).toBe(1500);
    expect(remainingMs(at(NOW), NOW)).toBe(0);
    expect(remainingMs(at(NOW - 60_000), NOW)).toBe(0);
    expect(countdownText(-5000)).toBe('0:00');
    expect(countdownWords(-5000)).toBe('ended');
  });

  it('shows minutes while there is time, and minutes and seconds in the last ten minutes', () => {
    expect(countdownText(2 * 3600_000 + 5 * 60_000)).toBe('2 h 05 min');
    expect(countdownText(42 * 60_000)).toBe('42 min');
    expect(countdownText(10 * 60_000 + 1)).toBe('11 min');
    expect(countdownText(10 * 60_000)).toBe('10:00');
    expect(countdownText(9 * 60_000 + 59_500)).toBe('10:00'); // a part of a second still counts as one
    expect(countdownText(61_000)).toBe('1:01');
    expect(countdownText(1)).toBe('0:01');
    expect(countdownWords(61_000)).toBe('1 min 1 s left');
    expect(countdownWords(60_000)).toBe('1 min left');
    expect(countdownWords(42 * 60_000)).toBe('42 min left');
  });

  it('ends a grant exactly at its expiry, not a moment later', () => {
    const grant = { status: 'active' as const, expiresAt: at(NOW) };
    expect(isLive(grant, NOW - 1)).toBe(true);
    expect(isLive(grant, NOW)).toBe(false);
    expect(isLive({ ...grant, status: 'revoked' }, NOW - 60_000)).toBe(false);
  });

  it('fills the bar with the share of time left', () => {
    const grant = { startsAt: at(NOW), expiresAt: at(NOW + 100_000) };
    expect(fractionLeft(grant, NOW)).toBe(1);
    expect(fractionLeft(grant, NOW + 25_000)).toBe(0.75);
    expect(fractionLeft(grant, NOW + 200_000)).toBe(0);
    expect(fractionLeft({ startsAt: at(NOW), expiresAt: at(NOW) }, NOW)).toBe(0);
  });

  describe('the ticker cadence', () => {
    it('ticks every 15 s with nothing to count down, or plenty of time left', () => {
      expect(nextTickDelay(NOW, [])).toBe(15_000);
      expect(nextTickDelay(NOW, [NOW - 1000])).toBe(15_000);
      expect(nextTickDelay(NOW, [NOW + 3600_000])).toBe(15_000);
    });

    it('lands a tick on the ten-minute mark, then ticks every second', () => {
      expect(nextTickDelay(NOW, [NOW + 10 * 60_000 + 4000])).toBe(4000);
      expect(nextTickDelay(NOW, [NOW + 10 * 60_000])).toBe(1000);
      expect(nextTickDelay(NOW, [NOW + 5 * 60_000])).toBe(1000);
    });

    it('keeps to whole seconds of time left, the last tick exactly at the expiry', () => {
      expect(nextTickDelay(NOW, [NOW + 5500])).toBe(500);
      expect(nextTickDelay(NOW, [NOW + 400])).toBe(400);
    });

    it('follows the nearest of several grants', () => {
      expect(nextTickDelay(NOW, [NOW + 3600_000, NOW + 30_000, NOW - 5])).toBe(1000);
    });
  });
});
