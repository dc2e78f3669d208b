import { describe, expect, it } from 'vitest';
import { ClockOffsetEstimator } from '../../api/clock-offset.js';
import { SERVICE_TIME_HEADER } from '../../api/service-time.js';

const T0 = Date.parse('2030-01-07T09:00:00.000Z');

/** The headers a service whose clock reads `serviceNow` sends. */
function dated(serviceNow: number): Headers {
  return new Headers({ date: new Date(serviceNow).toUTCString() });
}
function precise(serviceNow: number): Headers {
  return new Headers({ date: new Date(serviceNow).toUTCString(), [SERVICE_TIME_HEADER]: String(serviceNow) });
}

describe('the clock-offset estimator', () => {
  it('is 0 before any answer', () => {
    expect(new ClockOffsetEstimator().offsetMs).toBe(0);
  });

  it('takes X-Timebox-Time to the millisecond: the offset lies within the round trip', () => {
    const estimator = new ClockOffsetEstimator();
    // Sent at T0, received 100 ms later; the service stamped its answer 90 s ahead of our middle.
    estimator.observe(T0, T0 + 100, precise(T0 + 50 + 90_000));
    expect(estimator.offsetMs).toBe(90_000);
    // A zero-length round trip pins it exactly, even off the middle of the earlier bounds.
    estimator.observe(T0 + 1000, T0 + 1000, precise(T0 + 1000 + 90_030));
    expect(estimator.offsetMs).toBe(90_030);
  });

  it('bounds the offset by a whole second from a Date header alone', () => {
    const estimator = new ClockOffsetEstimator();
    // The service's clock read T0 + 90.4 s when it answered; Date says 09:01:30, i.e. T0 + 90 s.
    estimator.observe(T0, T0, dated(T0 + 90_400));
    // The service's time lay in [90 s, 91 s): the middle is 90.5 s, wrong by at most half a second.
    expect(estimator.offsetMs).toBe(90_500);
    expect(Math.abs(estimator.offsetMs - 90_400)).toBeLessThanOrEqual(500);
  });

  it('converges on the true offset over several Date-only answers at different sub-second phases', () => {
    const trueOffset = 90_337;
    const estimator = new ClockOffsetEstimator();
    const errors: number[] = [];
    for (let sample = 0; sample < 25; sample++) {
      const sentAt = T0 + sample * 10_000 + ((sample * 97) % 1000);
      const receivedAt = sentAt + 20;
      estimator.observe(sentAt, receivedAt, dated(sentAt + 10 + trueOffset));
      errors.push(Math.abs(estimator.offsetMs - trueOffset));
    }
    expect(errors[0]).toBeGreaterThan(100); // one Date header leaves most of a second open
    expect(errors.at(-1)).toBeLessThanOrEqual(40); // the intersection narrows towards the round trip
  });

  it('starts over from the latest answer when it is disjoint with what it knew (a clock was set)', () => {
    const estimator = new ClockOffsetEstimator();
    for (let sample = 0; sample < 5; sample++) {
      const at = T0 + sample * 1000;
      estimator.observe(at, at + 10, precise(at + 5 + 2_000));
    }
    expect(estimator.offsetMs).toBe(2_000);
    // Our clock was set back an hour: the service now reads an hour more than we do.
    const at = T0 + 10_000;
    estimator.observe(at, at + 10, precise(at + 5 + 3_600_000 + 2_000));
    expect(estimator.offsetMs).toBe(3_602_000);
    // And it narrows again from there, without the old samples dragging it back.
    estimator.observe(at + 1000, at + 1000, precise(at + 1000 + 3_602_003));
    expect(estimator.offsetMs).toBe(3_602_003);
  });

  it('forgets everything on reset', () => {
    const estimator = new ClockOffsetEstimator();
    estimator.observe(T0, T0, precise(T0 + 5000));
    estimator.reset();
    expect(estimator.offsetMs).toBe(0);
    estimator.observe(T0, T0, precise(T0 - 7000));
    expect(estimator.offsetMs).toBe(-7000);
  });

  describe('answers it cannot read change nothing', () => {
    it.each([
      ['no headers', new Headers()],
      ['a Date that is not a date', new Headers({ date: 'yesterday-ish' })],
      ['an empty Date', new Headers({ date: '' })],
    ])('%s', (_name, headers) => {
      const estimator = new ClockOffsetEstimator();
      estimator.observe(T0, T0 + 10, precise(T0 + 5 + 1234));
      estimator.observe(T0 + 100, T0 + 110, headers);
      expect(estimator.offsetMs).toBe(1234);
    });

    it.each([
      ['not a number', 'soon'],
      ['empty', ''],
      ['blank', '   '],
    ])('an X-Timebox-Time that is %s falls back to the Date header', (_name, value) => {
      const estimator = new ClockOffsetEstimator();
      estimator.observe(
        T0,
        T0,
        new Headers({ date: new Date(T0 + 60_000).toUTCString(), [SERVICE_TIME_HEADER]: value }),
      );
      expect(estimator.offsetMs).toBe(60_500);
    });
  });
});
