import { describe, expect, it } from 'vitest';
import { grant, NOW } from '../test-support/fixtures.js';
import { isLive } from '../time/countdown.js';
import { byExpiry, expiredCount } from './selectors.js';

const endingIn = (id: string, ms: number) => grant({ id, expiresAt: new Date(NOW + ms).toISOString() });

describe('expiredCount', () => {
  const active = byExpiry([
    endingIn('c', 3000),
    endingIn('a', 1000),
    endingIn('b', 2000),
    endingIn('d', 3000),
  ]);

  it('counts the grants whose expiry has passed, agreeing with isLive at every instant', () => {
    expect(active.map((each) => each.id)).toEqual(['a', 'b', 'c', 'd']);
    for (let offset = -500; offset <= 4000; offset += 250) {
      const at = NOW + offset;
      expect(expiredCount(active, at)).toBe(active.filter((each) => !isLive(each, at)).length);
    }
  });

  it('counts a grant as ended at its expiry exactly, and grants sharing an expiry together', () => {
    expect(expiredCount(active, NOW + 999)).toBe(0);
    expect(expiredCount(active, NOW + 1000)).toBe(1);
    expect(expiredCount(active, NOW + 3000)).toBe(4);
  });

  it('is 0 for no grants, and every grant once all have ended', () => {
    expect(expiredCount([], NOW)).toBe(0);
    expect(expiredCount(active, NOW + 60_000)).toBe(active.length);
  });
});
