import { useEffect, useId, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SeatSeriesView } from '../../../api/insights-schemas.js';

const HEIGHT = 180;
const DARK = '(prefers-color-scheme: dark)';

/** The theme's colours, read from its CSS variables: a canvas cannot use them itself. */
function themeColours(element: Element): {
  text: string;
  grid: string;
  inUse: string;
  queued: string;
  total: string;
} {
  const style = getComputedStyle(element);
  const read = (name: string): string => style.getPropertyValue(name).trim();
  return {
    text: read('--text-muted'),
    grid: read('--border'),
    inUse: read('--accent'),
    queued: read('--warn'),
    total: read('--danger'),
  };
}

/** Follows the OS theme, so the chart is drawn again in the other palette when it changes. */
function useDarkTheme(): boolean {
  const [dark, setDark] = useState(() => window.matchMedia(DARK).matches);
  useEffect(() => {
    const query = window.matchMedia(DARK);
    const changed = (): void => {
      setDark(query.matches);
    };
    query.addEventListener('change', changed);
    return () => {
      query.removeEventListener('change', changed);
    };
  }, []);
  return dark;
}

/**
 * One seat pool over the period: seats in use (filled), requests queued, and the pool's size as a
 * dashed line. Hovering shows the instant and both counts in the legend below the plot. Drawn with uPlot
 * on a canvas; the table beside it carries the same peak figures for those who cannot see the chart.
 */
export function SeatChart({ series, name }: { readonly series: SeatSeriesView; readonly name: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const dark = useDarkTheme();
  const id = useId();

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const colours = themeColours(element);
    const axis = {
      stroke: colours.text,
      grid: { stroke: colours.grid, width: 1 },
      ticks: { stroke: colours.grid },
    };
    const data: uPlot.AlignedData = [
      series.at.map((at) => Date.parse(at) / 1000),
      series.inUse,
      series.queued,
      series.at.map(() => series.total),
    ];
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: HEIGHT,
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_plot, _min, max) => [0, Math.max(series.total, max) + 1] } },
        axes: [
          axis,
          {
            ...axis,
            values: (_plot, ticks) => ticks.map((tick) => (Number.isInteger(tick) ? String(tick) : '')),
          },
        ],
        series: [
          { label: 'Time' },
          {
            label: 'In use',
            stroke: colours.inUse,
            fill: `${colours.inUse}33`,
            width: 2,
            paths: uPlot.paths.stepped?.({ align: 1 }),
          },
          { label: 'Queued', stroke: colours.queued, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) },
          { label: 'Seats', stroke: colours.total, width: 1, dash: [6, 4], points: { show: false } },
        ],
      },
      data,
      element,
    );
    return () => {
      plot.destroy();
    };
  }, [series, dark]);

  const peak = Math.max(0, ...series.inUse);
  const longestLine = Math.max(0, ...series.queued);
  return (
    <figure className="seat-chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>
        <span className="seat-chart-name">{name}</span>
        <span className="seat-chart-summary">
          Peak {peak} of {series.total} seats · longest line {longestLine}
        </span>
      </figcaption>
      <div
        ref={holder}
        className="seat-chart-plot"
        role="img"
        aria-label={`${name}: seats in use and queued over the period; peak ${peak} of ${series.total}.`}
      />
    </figure>
  );
}
