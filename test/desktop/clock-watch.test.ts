import { describe, expect, it } from 'vitest';
import { CLOCK_CHECK_EVERY_MS, CLOCK_JUMP_MS, ClockWatch } from '../../main/core/clock-watch.js';
import { ManualClock } from '../support/manual-clock.js';

function setup() {
  const clock = new ManualClock();
  const jumps: number[] = [];
  const watch = new ClockWatch(clock, (jumpMs) => jumps.push(jumpMs));
  return { clock, jumps, watch };
}

describe('the clock watch', () => {
  it('notices the wall clock set forward or back on its own timer, with no stream and no other caller', () => {
    const { clock, jumps, watch } = setup();
    watch.start();
    clock.jumpWall(3600_000);
    expect(jumps).toEqual([]); // nothing looks until the next tick
    clock.advance(CLOCK_CHECK_EVERY_MS);
    expect(jumps).toEqual([3600_000]);
    clock.jumpWall(-2 * 3600_000);
    clock.advance(CLOCK_CHECK_EVERY_MS);
    expect(jumps).toEqual([3600_000, -2 * 3600_000]);
    // Reported once each: the next looks find nothing new.
    clock.advance(10 * CLOCK_CHECK_EVERY_MS);
    expect(jumps).toHaveLength(2);
    expect(clock.pendingTimers).toBe(1);
    watch.stop();
  });

  it('reports nothing while time just passes, however long', () => {
    const { clock, jumps, watch } = setup();
    watch.start();
    clock.advance(24 * 3600_000);
    expect(jumps).toEqual([]);
    watch.stop();
  });

  it('lets small corrections pass (a time-synchronised clock is slewed, not set)', () => {
    const { clock, jumps, watch } = setup();
    watch.start();
    for (let step = 0; step < 20; step++) {
      clock.jumpWall(CLOCK_JUMP_MS / 2); // over 20 looks this adds up to 20 s, never in one
      clock.advance(CLOCK_CHECK_EVERY_MS);
    }
    expect(jumps).toEqual([]);
    clock.jumpWall(CLOCK_JUMP_MS + 1);
    clock.advance(CLOCK_CHECK_EVERY_MS);
    expect(jumps).toEqual([CLOCK_JUMP_MS + 1]);
    watch.stop();
  });

  it('looks at once when asked (the stream showed life), and a change already accepted is not news', () => {
    const { clock, jumps, watch } = setup();
    clock.jumpWall(-5000);
    watch.check();
    expect(jumps).toEqual([-5000]);
    clock.jumpWall(7000);
    watch.accept(); // a resume, already handled
    watch.check();
    expect(jumps).toEqual([-5000]);
  });

  it('stop() leaves no timer, and start() twice keeps one', () => {
    const { clock, jumps, watch } = setup();
    watch.start();
    watch.start();
    expect(clock.pendingTimers).toBe(1);
    watch.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.jumpWall(3600_000);
    clock.advance(10 * CLOCK_CHECK_EVERY_MS);
    expect(jumps).toEqual([]);
  });
});
