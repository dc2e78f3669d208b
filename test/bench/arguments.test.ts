import { describe, expect, it } from 'vitest';
import { BENCH_USAGE, parseBenchArguments } from '../../bench/lib/arguments.js';

describe("the bench's arguments", () => {
  it('accepts --quick, the default, and --full', () => {
    expect(parseBenchArguments([])).toEqual({ help: false, full: false, only: [] });
    expect(parseBenchArguments(['--quick'])).toEqual({ help: false, full: false, only: [] });
    expect(parseBenchArguments(['--full', '--only', 'crash', '--only', 'expiry'])).toEqual({
      help: false,
      full: true,
      only: ['crash', 'expiry'],
    });
  });

  it('answers --help with what each mode runs', () => {
    expect(parseBenchArguments(['--help'])).toEqual({ help: true });
    expect(BENCH_USAGE).toMatch(/--quick +the default: each scenario at its smaller size/);
    expect(BENCH_USAGE).toMatch(/--full +each scenario at its full size/);
  });

  it.each([
    [['--fast'], "Unknown option '--fast'"],
    [['--quick', '--full'], 'Choose --quick or --full, not both.'],
    [['lifecycle'], "Unexpected argument 'lifecycle'"],
    [['--only'], "Option '--only <value>' argument missing"],
  ])('refuses %j, saying why and how to call it', (args, message) => {
    expect(() => parseBenchArguments(args)).toThrow(message);
    expect(() => parseBenchArguments(args)).toThrow('npm run bench -- [--quick | --full]');
  });
});
