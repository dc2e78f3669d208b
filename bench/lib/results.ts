export interface ScenarioResult {
  readonly name: string;
  readonly metric: string;
  readonly unit: string;
  readonly value: number;
  readonly target: number | null;
  /** Whether a value above the target is good (throughput), below it (latency, errors), or only the target itself. */
  readonly better: 'higher' | 'lower' | 'exact';
  readonly pass: boolean;
  readonly note?: string;
}

export function result(
  name: string,
  metric: string,
  unit: string,
  value: number,
  target: number | null,
  better: ScenarioResult['better'],
  note?: string,
): ScenarioResult {
  const meets = { higher: value >= (target ?? 0), lower: value < (target ?? 0), exact: value === target };
  const pass = target === null || meets[better];
  return { name, metric, unit, value, target, better, pass, ...(note === undefined ? {} : { note }) };
}

/** A scenario that could not run here says why instead of pretending. */
export function notRun(name: string, metric: string, unit: string, why: string): ScenarioResult {
  return {
    name,
    metric,
    unit,
    value: Number.NaN,
    target: null,
    better: 'lower',
    pass: false,
    note: `not run: ${why}`,
  };
}
