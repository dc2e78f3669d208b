import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../api/duration.js';

describe('parseDuration', () => {
  it.each<[string | number, number]>([
    ['90s', 90],
    ['15m', 900],
    ['1h30m', 5400],
    ['7d', 7 * 86_400],
    ['1d2h3m4s', 86_400 + 2 * 3600 + 3 * 60 + 4],
    ['90m', 5400],
    ['0s', 0],
    ['  10m  ', 600],
    [3600, 3600],
    [0, 0],
  ])('reads %j as %i seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each<[string | number, string]>([
    ['', 'empty'],
    ['   ', 'blank'],
    ['5', 'a number without a unit, as text'],
    ['1h30', 'a trailing number without a unit'],
    ['-1m', 'negative'],
    ['1.5h', 'a fraction'],
    ['ten minutes', 'words'],
    ['1m1h', 'units out of order'],
    ['1h1h', 'a unit twice'],
    ['1H', 'a capital unit'],
    ['1w', 'an unknown unit'],
    ['h', 'a unit without a number'],
    [-1, 'a negative number'],
    [1.5, 'a fractional number'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'infinity'],
  ])('refuses %j (%s)', (input) => {
    expect(parseDuration(input)).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [1, '1s'],
    [45, '45s'],
    [60, '1m'],
    [90, '1m30s'],
    [3600, '1h'],
    [5400, '1h30m'],
    [3601, '1h1s'],
    [2 * 86_400, '2d'],
    [86_400 + 2 * 3600 + 3 * 60 + 4, '1d2h'],
    [59.6, '1m'],
    [-5, '0s'],
  ])('prints %d seconds as %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('parseDuration and formatDuration together', () => {
  it.each(['45s', '15m', '4h', '7d', '1h30m', '1d2h'])('read back %j as printed', (text) => {
    const seconds = parseDuration(text);
    expect(seconds).not.toBeNull();
    expect(formatDuration(seconds ?? -1)).toBe(text);
  });
});
