import { useCallback } from 'react';
import type { SeatPoolPeriod } from '../../../preload/contract.js';
import { EmptyState } from '../../components/EmptyState.js';
import { PeriodPicker, periodLabel } from '../../components/PeriodPicker.js';
import { usePeriodReport } from '../../state/period-report.js';
import { useApp, useRuntime } from '../../state/hooks.js';
import { resourceName } from '../../state/selectors.js';
import { RecommendationList } from './RecommendationList.js';
import { RoleTable } from './RoleTable.js';
import { SeatChart } from './SeatChart.js';

/**
 * Insights (administrators): what to change in the policy, with its evidence; each seat pool over time;
 * and every role's figures in a table sorted by any column. Read when the view opens, when the period
 * changes and when asked again; while a new answer loads, the last one stays.
 */
export function InsightsView() {
  const runtime = useRuntime();
  const catalog = useApp((app) => app.catalog);
  const read = useCallback((period: SeatPoolPeriod) => runtime.api.insights({ period }), [runtime]);
  const { period, setPeriod, answer, loading, again } = usePeriodReport(read, '30d');
  const report = answer?.result.ok === true ? answer.result.value : null;

  return (
    <section className="view insights" aria-labelledby="insights-heading" aria-busy={loading}>
      <header className="view-header">
        <h1 id="insights-heading">Insights</h1>
        <PeriodPicker period={period} onChange={setPeriod} />
      </header>
      {answer === null || (report === null && loading) ? (
        <EmptyState tone="loading" title="Reading how access was used…" />
      ) : !answer.result.ok ? (
        <EmptyState
          tone="warning"
          title="Insights could not be read"
          action={
            <button type="button" className="button" onClick={again}>
              Try again
            </button>
          }
        >
          {answer.result.error.message}
        </EmptyState>
      ) : report === null ? null : (
        <>
          <p className="view-intro">
            <span>
              The last {periodLabel(answer.period)}
              {loading ? ' · updating…' : '.'}
            </span>
            <button type="button" className="link-button" onClick={again} disabled={loading}>
              Refresh
            </button>
          </p>
          <h2 className="insight-heading">Recommendations</h2>
          <RecommendationList items={report.recommendations} />
          {report.seats.length > 0 ? (
            <>
              <h2 className="insight-heading">Seat pools over time</h2>
              <div className="seat-charts">
                {report.seats.map((series) => (
                  <div
                    key={`${series.resourceId}/${series.role}`}
                    id={`seats-${series.resourceId}-${series.role}`}
                    tabIndex={-1}
                  >
                    <SeatChart
                      series={series}
                      name={`${resourceName(catalog, series.resourceId)} · ${series.role}`}
                    />
                  </div>
                ))}
              </div>
            </>
          ) : null}
          <h2 className="insight-heading">Roles</h2>
          {report.roles.length === 0 ? (
            <EmptyState title="No requests in this period">
              Roles show here once someone asks for them.
            </EmptyState>
          ) : (
            <RoleTable rows={report.roles} />
          )}
        </>
      )}
    </section>
  );
}
