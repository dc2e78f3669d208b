import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';

/** One sample's value in a Prometheus text exposition (`series` with its labels), or undefined. */
function sampleOf(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every series the exposition declares (`# TYPE`), with the samples a histogram's name stands for. */
function seriesDeclared(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly uid: string };
  readonly targets?: readonly { readonly expr: string; readonly refId: string }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as { readonly uid: string; readonly panels: readonly DashboardPanel[] };

describe.each(DATABASES)('/metrics on %s', (kind) => {
  let running: RunningService;

  beforeAll(async () => {
    running = await startService({ kind });
  });
  afterAll(() => running.stop());

  const scrape = async (service = running) => {
    const response = await service.api.get<string>('/metrics');
    expect(response.status).toBe(200);
    return response.body;
  };

  it("shows the process's own series beside the service's: memory, heap, CPU, event-loop lag, GC", async () => {
    // Short-lived garbage, enough for the young generation to be collected at least once; GC entries
    // reach their observer on a later turn of the event loop.
    for (let round = 0; round < 64; round++) new Array<number>(1 << 16).fill(round);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const exposition = await scrape();
    for (const series of [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_external_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(sampleOf(exposition, series), series).toBeGreaterThan(0);
    expect(sampleOf(exposition, 'nodejs_gc_duration_seconds_count{kind="minor"}')).toBeGreaterThan(0);
    expect(sampleOf(exposition, 'timebox_active_grants')).toBe(0);
  });

  it('shows the same process series from every service in the process, and none from one started without them', async () => {
    const second = await startService({ kind: 'pglite' });
    const quiet = await startService({ kind: 'pglite', processMetrics: false });
    try {
      const [first, again, withoutThem] = await Promise.all([scrape(), scrape(second), scrape(quiet)]);
      const startedAt = sampleOf(first, 'process_start_time_seconds');
      expect(startedAt).toBeGreaterThan(0);
      expect(sampleOf(again, 'process_start_time_seconds')).toBe(startedAt);
      expect(withoutThem).not.toMatch(/^# TYPE (process|nodejs)_/m);
      expect(withoutThem).toMatch(/^# TYPE timebox_active_grants gauge$/m);
    } finally {
      await Promise.all([second.stop(), quiet.stop()]);
    }
  });

  it('has every series the Grafana dashboard in docs/ draws', async () => {
    const declared = seriesDeclared(await scrape());
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(0);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    const drawn = new Set<string>();
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const series = target.expr.match(/\b(?:timebox|process|nodejs)_\w+/g) ?? [];
        expect(series.length, `${panel.title} ${target.refId}`).toBeGreaterThan(0);
        for (const name of series) drawn.add(name);
      }
    }
    expect([...drawn].filter((name) => !declared.has(name))).toEqual([]);
    // The service's own series are all on it.
    const ownSeries = [...declared].filter(
      (name) => /^timebox_\w+$/.test(name) && !/_(bucket|sum|count)$/.test(name),
    );
    expect(ownSeries.filter((name) => ![...drawn].some((used) => used.startsWith(name)))).toEqual([]);
  });
});
