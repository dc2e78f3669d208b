import type { SeatPoolPeriod } from '../../preload/contract.js';

const PERIODS: readonly { readonly period: SeatPoolPeriod; readonly label: string }[] = [
  { period: '24h', label: '24 hours' },
  { period: '7d', label: '7 days' },
  { period: '30d', label: '30 days' },
];

/** How a period is said: "24 hours", "7 days", "30 days". */
export function periodLabel(period: SeatPoolPeriod): string {
  return PERIODS.find((choice) => choice.period === period)?.label ?? period;
}

/** The period an administrator's report covers: 24 hours, 7 days or 30 days, one pressed at a time. */
export function PeriodPicker({
  period,
  onChange,
}: {
  readonly period: SeatPoolPeriod;
  readonly onChange: (period: SeatPoolPeriod) => void;
}) {
  return (
    <div className="period-picker" role="group" aria-label="Period">
      {PERIODS.map((choice) => (
        <button
          key={choice.period}
          type="button"
          className="chip"
          aria-pressed={choice.period === period}
          onClick={() => {
            onChange(choice.period);
          }}
        >
          {choice.label}
        </button>
      ))}
    </div>
  );
}
