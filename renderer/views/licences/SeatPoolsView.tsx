import { useEffect, useState } from 'react';
import type { IpcResult, SeatPoolPeriod, SeatPoolUtilization } from '../../../preload/contract.js';
import { EmptyState } from '../../components/EmptyState.js';
import { useApp, useRuntime, useServiceNow } from '../../state/hooks.js';
import { clockTime } from '../../time/format.js';
import { PoolCard } from './PoolCard.js';

const PERIODS: readonly { readonly period: SeatPoolPeriod; readonly label: string }[] = [
  { period: '24h', label: '24 hours' },
  { period: '7d', label: '7 days' },
  { period: '30d', label: '30 days' },
];

/** One answer from main, and which ask it answers (a period, and how many times it was asked for). */
interface Answer {
  readonly period: SeatPoolPeriod;
  readonly attempt: number;
  readonly result: IpcResult<SeatPoolUtilization>;
}

/**
 * Licences (administrators): how each seat pool was used over the last 24 hours, 7 days or 30 days, and
 * what named seats for everyone who used it would have left idle. The report is read when the view
 * opens and when the period changes or the user asks again; while a new one loads, the last one stays.
 */
export function SeatPoolsView() {
  const runtime = useRuntime();
  const offset = useApp((app) => app.clockOffsetMs);
  const localNow = useServiceNow() - offset;
  const [period, setPeriod] = useState<SeatPoolPeriod>('7d');
  const [attempt, setAttempt] = useState(0);
  const [answer, setAnswer] = useState<Answer | null>(null);

  useEffect(() => {
    let current = true;
    void runtime.api.seatPoolUtilization({ period }).then((result) => {
      if (current) setAnswer({ period, attempt, result });
    });
    return () => {
      current = false;
    };
  }, [runtime, period, attempt]);

  const loading = answer?.period !== period || answer.attempt !== attempt;
  const report = answer?.result.ok === true ? answer.result.value : null;
  const again = (): void => {
    setAttempt((count) => count + 1);
  };

  return (
    <section className="view licences" aria-labelledby="licences-heading" aria-busy={loading}>
      <header className="view-header">
        <h1 id="licences-heading">Licences</h1>
        <div className="period-picker" role="group" aria-label="Period">
          {PERIODS.map((choice) => (
            <button
              key={choice.period}
              type="button"
              className="chip"
              aria-pressed={choice.period === period}
              onClick={() => {
                setPeriod(choice.period);
              }}
            >
              {choice.label}
            </button>
          ))}
        </div>
      </header>
      {answer === null ? (
        <EmptyState tone="loading" title="Reading seat use…" />
      ) : !answer.result.ok && !loading ? (
        <EmptyState
          tone="warning"
          title="Seat use could not be read"
          action={
            <button type="button" className="button" onClick={again}>
              Try again
            </button>
          }
        >
          {answer.result.error.message}
        </EmptyState>
      ) : report === null ? (
        <EmptyState tone="loading" title="Reading seat use…" />
      ) : (
        <>
          <p className="view-intro">
            <span>
              The last {PERIODS.find((choice) => choice.period === answer.period)?.label}, since{' '}
              {clockTime(report.from, offset, localNow)}
              {loading ? ' · updating…' : '.'}
            </span>
            <button type="button" className="link-button" onClick={again} disabled={loading}>
              Refresh
            </button>
          </p>
          {report.items.length === 0 ? (
            <EmptyState title="No seat pools">
              No role in the policy limits its seats. Roles with seats show here, with how their seats were
              used.
            </EmptyState>
          ) : (
            <ul className="pool-list">
              {report.items.map((pool) => (
                <li key={`${pool.resourceId}/${pool.role}`}>
                  <PoolCard pool={pool} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
