import { useEffect, useState } from 'react';
import type { IpcResult, SeatPoolPeriod } from '../../preload/contract.js';

/** One answer from main, and which ask it answers (a period, and how many times it was asked for). */
interface Answer<T> {
  readonly period: SeatPoolPeriod;
  readonly attempt: number;
  readonly result: IpcResult<T>;
}

/**
 * A report main reads for a period: read when the view opens, when the period changes and when the person
 * asks again. While a new answer loads the last one stays, and an answer to an earlier ask is never shown
 * as the current one.
 */
export function usePeriodReport<T>(
  read: (period: SeatPoolPeriod) => Promise<IpcResult<T>>,
  initialPeriod: SeatPoolPeriod,
): {
  readonly period: SeatPoolPeriod;
  readonly setPeriod: (period: SeatPoolPeriod) => void;
  readonly answer: Answer<T> | null;
  readonly loading: boolean;
  readonly again: () => void;
} {
  const [period, setPeriod] = useState<SeatPoolPeriod>(initialPeriod);
  const [attempt, setAttempt] = useState(0);
  const [answer, setAnswer] = useState<Answer<T> | null>(null);

  useEffect(() => {
    let current = true;
    void read(period).then((result) => {
      if (current) setAnswer({ period, attempt, result });
    });
    return () => {
      current = false;
    };
  }, [read, period, attempt]);

  return {
    period,
    setPeriod,
    answer,
    loading: answer?.period !== period || answer.attempt !== attempt,
    again: () => {
      setAttempt((count) => count + 1);
    },
  };
}
