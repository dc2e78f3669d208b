import type { SeatPoolPeriod } from '../../preload/contract.js';

const HOUR_MS = 3_600_000;
const PERIOD_MS: Readonly<Record<SeatPoolPeriod, number>> = {
  '24h': 24 * HOUR_MS,
  '7d': 7 * 24 * HOUR_MS,
  '30d': 30 * 24 * HOUR_MS,
};

/** The report's period, ending at `serviceNow` (the service's clock, as far as it is known). */
export function periodEnding(period: SeatPoolPeriod, serviceNow: number): { from: string; to: string } {
  return {
    from: new Date(serviceNow - PERIOD_MS[period]).toISOString(),
    to: new Date(serviceNow).toISOString(),
  };
}
