import { formatDuration } from '../api/duration.js';

/** Writes `value` as indented JSON: what --json prints, for scripts (jq) to read. */
export function printJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Rows as aligned columns under a header; an empty list prints `empty` instead. */
export function printTable(
  stream: NodeJS.WritableStream,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  empty: string,
): void {
  if (rows.length === 0) {
    stream.write(`${empty}\n`);
    return;
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  stream.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

/** "1h30m left", "expired": the time left until `at` (an ISO time) from `now` (ms, the service's clock). */
export function timeLeft(at: string, now: number): string {
  const seconds = Math.round((Date.parse(at) - now) / 1000);
  return seconds <= 0 ? 'expired' : `${formatDuration(seconds)} left`;
}
