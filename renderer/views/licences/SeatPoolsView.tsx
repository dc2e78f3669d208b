import { useCallback } from 'react';
import type { SeatPoolPeriod } from '../../../preload/contract.js';
import { EmptyState } from '../../components/EmptyState.js';
import { PeriodPicker, periodLabel } from '../../components/PeriodPicker.js';
import { usePeriodReport } from '../../state/period-report.js';
import { useApp, useRuntime, useServiceNow } from '../../state/hooks.js';
import { clockTime } from '../../time/format.js';
import { PoolCard } from './PoolCard.js';

/**
 * Licences (administrators): how each seat pool was used over the last 24 hours, 7 days or 30 days, and
 * what named seats for everyone who used it would have left idle. The report is read when the view
 * opens and when the period changes or the user asks again; while a new one loads, the last one stays.
 */
export function SeatPoolsView() {
  const runtime = useRuntime();
  const offset = useApp((app) => app.clockOffsetMs);
  const localNow = useServiceNow() - offset;
  const read = useCallback(
    (period: SeatPoolPeriod) => runtime.api.seatPoolUtilization({ period }),
    [runtime],
  );
  const { period, setPeriod, answer, loading, again } = usePeriodReport(read, '7d');
  const report = answer?.result.ok === true ? answer.result.value : null;

  return (
    <section className="view licences" aria-labelledby="licences-heading" aria-busy={loading}>
      <header className="view-header">
        <h1 id="licences-heading">Licences</h1>
        <PeriodPicker period={period} onChange={setPeriod} />
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
              The last {periodLabel(answer.period)}, since {clockTime(report.from, offset, localNow)}
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
