import { useId } from 'react';
import type { SeatPoolReportView } from '../../../api/admin-schemas.js';
import { useApp } from '../../state/hooks.js';
import { resourceName } from '../../state/selectors.js';
import { formatDuration } from '../../time/format.js';

const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** "12.5", "0", or "< 0.1" for a sliver that would otherwise read as nothing at all. */
function hours(value: number): string {
  if (value > 0 && value < 0.05) return '< 0.1';
  return oneDecimal.format(value);
}

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

/**
 * One seat pool over the period: the headline (what named seats for everyone who used it would have
 * held idle), its use (peak, average, seat-hours, grants) and the time people spent queued for a seat.
 */
export function PoolCard({ pool }: { readonly pool: SeatPoolReportView }) {
  const id = useId();
  const name = useApp((app) => resourceName(app.catalog, pool.resourceId));
  const { queue, alwaysAssigned } = pool;
  const averageShare = pool.seats === 0 ? 0 : Math.min(1, pool.averageInUse / pool.seats);
  const peakShare = pool.seats === 0 ? 0 : Math.min(1, pool.peakInUse / pool.seats);

  return (
    <article className="pool" aria-labelledby={`${id}-name`}>
      <header className="pool-head">
        <h2 id={`${id}-name`} className="pool-name">
          {name}
        </h2>
        <span className="role-tag">{pool.role}</span>
        <span className="pool-seats">{plural(pool.seats, 'seat', 'seats')}</span>
      </header>

      {pool.people === 0 ? (
        <p className="pool-headline">Nobody used it in this period.</p>
      ) : (
        <div className="pool-headline">
          <p>
            Named seats would have held <strong>{hours(alwaysAssigned.idleSeatHours)} seat-hours</strong> idle
          </p>
          <p className="pool-headline-detail">
            One seat for each of the {plural(alwaysAssigned.seats, 'person', 'people')} who used it, held the
            whole period, is {hours(alwaysAssigned.seatHours)} seat-hours for {hours(pool.seatHoursUsed)}{' '}
            used; the pool shared {plural(pool.seats, 'seat', 'seats')} instead.
          </p>
        </div>
      )}

      <div
        className="pool-meter"
        role="img"
        aria-label={`On average ${hours(pool.averageInUse)} of ${plural(pool.seats, 'seat', 'seats')} in use, at peak ${pool.peakInUse}`}
      >
        <div className="pool-meter-average" style={{ transform: `scaleX(${averageShare})` }} />
        <div className="pool-meter-peak" style={{ left: `${peakShare * 100}%` }} />
      </div>

      <dl className="pool-stats">
        <div>
          <dt>Peak in use</dt>
          <dd>
            {pool.peakInUse} of {pool.seats}
          </dd>
        </div>
        <div>
          <dt>Average in use</dt>
          <dd>{hours(pool.averageInUse)}</dd>
        </div>
        <div>
          <dt>Seat-hours used</dt>
          <dd>{hours(pool.seatHoursUsed)}</dd>
        </div>
        <div>
          <dt>Grants</dt>
          <dd>
            {pool.grants} <span className="muted">by {plural(pool.people, 'person', 'people')}</span>
          </dd>
        </div>
      </dl>

      <section className="pool-queue" aria-labelledby={`${id}-queue`}>
        <h3 id={`${id}-queue`} className="section-label">
          Time queued
        </h3>
        {queue.requests === 0 ? (
          <p className="muted">Nobody waited for a seat.</p>
        ) : (
          <dl className="pool-stats">
            <div>
              <dt>Requests queued</dt>
              <dd>{queue.requests}</dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd>{formatDuration(queue.totalWaitSeconds)}</dd>
            </div>
            <div>
              <dt>Average</dt>
              <dd>{formatDuration(queue.averageWaitSeconds)}</dd>
            </div>
            <div>
              <dt>Longest</dt>
              <dd>{formatDuration(queue.longestWaitSeconds)}</dd>
            </div>
          </dl>
        )}
      </section>
    </article>
  );
}
