import { Pool } from 'undici';
import { seedInsightsHistory } from '../lib/insights-history.js';
import { onEachDatabase, type DeploymentData } from '../lib/deployments.js';
import { BenchClient } from '../lib/http.js';
import { residentMegabytes } from '../lib/memory.js';
import { BENCH_PASSWORD } from '../lib/policy.js';
import { startService } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const HISTORY = 100_000;
const ROUTE_TARGET_MS = 500;
const CSV_TARGET_MS = 5000;
/** Growth of the service's RSS while it streams the review: a stream holds a page, not the whole review. */
const CSV_MEMORY_TARGET_MB = 100;

/** Each call's latency, one after the other. */
async function latencies(client: BenchClient, path: string, token: string, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let call = 0; call < calls; call++) {
    const started = performance.now();
    const { status } = await client.call('GET', path, token);
    times.push(performance.now() - started);
    if (status !== 200) throw new Error(`${path} answered ${status}`);
  }
  return times;
}

/** Streams the review, counting lines without keeping them, while sampling the service's memory. */
async function streamReview(
  baseUrl: string,
  path: string,
  token: string,
  pid: number,
): Promise<{ ms: number; lines: number; peakGrowthMb: number }> {
  const pool = new Pool(baseUrl, { connections: 1 });
  const before = residentMegabytes(pid) ?? Number.NaN;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, residentMegabytes(pid) ?? Number.NaN);
  }, 50);
  try {
    const started = performance.now();
    const response = await pool.request({
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.statusCode !== 200) throw new Error(`${path} answered ${response.statusCode}`);
    let lines = 0;
    for await (const chunk of response.body) {
      const text = chunk instanceof Buffer ? chunk : Buffer.from(String(chunk));
      for (const byte of text) if (byte === 10) lines++;
    }
    return { ms: performance.now() - started, lines, peakGrowthMb: peak - before };
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
}

async function measure(policyFile: string, data: DeploymentData, quick: boolean): Promise<ScenarioResult[]> {
  const name = `insights over ${HISTORY.toLocaleString('en')} requests of history on ${data.kind === 'pglite' ? 'PGlite' : 'PostgreSQL'}`;
  const database = {
    databaseUrl: data.env.DATABASE_URL ?? null,
    dataDir: data.kind === 'pglite' ? data.dataArgument : null,
  };
  // The service migrates the new database; the history is written while it is stopped, as if it had run.
  await (await startService([policyFile, data.dataArgument], { env: { ...data.env } })).stop();
  const seeded = await seedInsightsHistory(database, HISTORY, Date.now());
  const service = await startService([policyFile, data.dataArgument], { env: { ...data.env } });
  const client = new BenchClient(service.url, 1);
  try {
    const token = await client.login('admin', BENCH_PASSWORD);
    const period = `from=${new Date(seeded.from).toISOString()}&to=${new Date(seeded.to).toISOString()}`;
    const calls = quick ? 10 : 30;
    const rows: ScenarioResult[] = [];
    for (const [label, path] of [
      ['roles', `/v1/insights/roles?${period}`],
      ['recommendations', `/v1/insights/recommendations?${period}`],
      ['seats', `/v1/insights/seats?pool=prod/console&${period}`],
    ] as const) {
      const times = await latencies(client, path, token, calls);
      rows.push(
        result(
          name,
          `GET /v1/insights/${label} p95`,
          'ms',
          round(percentile(times, 95), 0),
          ROUTE_TARGET_MS,
          'lower',
          `${calls} calls one after the other, 90 days; p50 ${round(percentile(times, 50), 0)} ms`,
        ),
      );
    }
    const pid = service.child.pid;
    if (pid === undefined) throw new Error('the service has no process id');
    const review = await streamReview(
      service.url,
      `/v1/reports/access-review?${period}&format=csv`,
      token,
      pid,
    );
    // Two comment lines and the header, then one line per grant.
    const reviewRows = review.lines - 3;
    rows.push(
      result(
        name,
        'access review CSV, whole body',
        'ms',
        round(review.ms, 0),
        CSV_TARGET_MS,
        'lower',
        `${reviewRows.toLocaleString('en')} rows of ${seeded.grants.toLocaleString('en')} grants; audit chain empty (seeded history has no audit entries)`,
      ),
      result(
        name,
        'access review CSV, service RSS growth',
        'MiB',
        round(review.peakGrowthMb, 0),
        CSV_MEMORY_TARGET_MB,
        'lower',
        'peak during the stream over before it, sampled every 50 ms',
      ),
    );
    if (reviewRows !== seeded.grants)
      throw new Error(`the review had ${reviewRows} rows for ${seeded.grants} grants`);
    return rows;
  } finally {
    await client.close();
    await service.stop();
  }
}

/**
 * The insights and the access review over 100,000 requests of history (90 days, four roles, a seat pool):
 * each insights route's p95 one call at a time, and the review's CSV streamed whole, with the service's
 * memory watched while it streams. On PGlite, then PostgreSQL.
 */
export async function insightsScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  return onEachDatabase((data) => measure(policyFile, data, !full), {
    name: `insights over ${HISTORY.toLocaleString('en')} requests of history`,
    metric: 'GET /v1/insights/roles p95',
    unit: 'ms',
  });
}
