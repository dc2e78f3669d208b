import { useId, useState } from 'react';
import { formatDuration } from '../../time/format.js';
import { durationProblem } from './policy.js';

type Unit = 'seconds' | 'minutes' | 'hours';
const UNIT_SECONDS: Readonly<Record<Unit, number>> = { seconds: 1, minutes: 60, hours: 3600 };

function bestUnit(seconds: number): Unit {
  if (seconds % 3600 === 0) return 'hours';
  if (seconds % 60 === 0) return 'minutes';
  return 'seconds';
}

/**
 * How long: preset buttons within the policy's bounds, and an exact amount with its unit, bounded by the
 * same min and max. `value` is in seconds; NaN while the typed amount is not a number.
 */
export function DurationField({
  legend,
  presets,
  min,
  max,
  value,
  onChange,
}: {
  readonly legend: string;
  readonly presets: readonly number[];
  readonly min: number;
  readonly max: number;
  readonly value: number;
  readonly onChange: (seconds: number) => void;
}) {
  const id = useId();
  const [unit, setUnit] = useState<Unit>(() => bestUnit(Number.isFinite(value) ? value : min));
  const [amount, setAmount] = useState(() => String(value / UNIT_SECONDS[unit]));
  const problem = durationProblem(value, min, max);
  const units = (['seconds', 'minutes', 'hours'] as const).filter(
    (candidate) => UNIT_SECONDS[candidate] <= max && (candidate !== 'seconds' || min < 60),
  );

  const pick = (seconds: number): void => {
    const nextUnit = bestUnit(seconds);
    setUnit(nextUnit);
    setAmount(String(seconds / UNIT_SECONDS[nextUnit]));
    onChange(seconds);
  };

  return (
    <fieldset className="field duration-field">
      <legend className="field-label">{legend}</legend>
      <div className="presets" role="group" aria-label="Common durations">
        {presets.map((seconds) => (
          <button
            key={seconds}
            type="button"
            className="chip"
            aria-pressed={seconds === value}
            onClick={() => {
              pick(seconds);
            }}
          >
            {formatDuration(seconds)}
          </button>
        ))}
      </div>
      <div className="duration-exact">
        <label htmlFor={`${id}-amount`} className="visually-hidden">
          Exact duration
        </label>
        <input
          id={`${id}-amount`}
          className="input input-number"
          type="number"
          inputMode="decimal"
          min={min / UNIT_SECONDS[unit]}
          max={max / UNIT_SECONDS[unit]}
          step="any"
          value={amount}
          aria-invalid={problem !== null}
          aria-describedby={`${id}-hint`}
          onChange={(event) => {
            setAmount(event.target.value);
            onChange(
              event.target.value.trim() === ''
                ? Number.NaN
                : Math.round(Number(event.target.value) * UNIT_SECONDS[unit]),
            );
          }}
        />
        <label htmlFor={`${id}-unit`} className="visually-hidden">
          Unit
        </label>
        <select
          id={`${id}-unit`}
          className="input select"
          value={unit}
          onChange={(event) => {
            const nextUnit = units.find((candidate) => candidate === event.target.value) ?? unit;
            setUnit(nextUnit);
            onChange(amount.trim() === '' ? Number.NaN : Math.round(Number(amount) * UNIT_SECONDS[nextUnit]));
          }}
        >
          {units.map((candidate) => (
            <option key={candidate} value={candidate}>
              {candidate}
            </option>
          ))}
        </select>
        <span id={`${id}-hint`} className={problem ? 'field-error' : 'field-hint'}>
          {problem ?? `Between ${formatDuration(min)} and ${formatDuration(max)}.`}
        </span>
      </div>
    </fieldset>
  );
}
