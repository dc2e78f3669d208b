import { BenchClient, closedLoop, loginAll } from '../lib/http.js';
import { BENCH_PASSWORD, BENCH_USERS } from '../lib/policy.js';
import { onEachDeployment } from '../lib/deployments.js';
import { startProcess } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const CONCURRENCY = 32;

interface Measured {
  readonly perSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** request → auto-approve → grant → credential, from 32 workers spread over 64 users and the given processes. */
async function measureLifecycles(urls: readonly string[], durationMs: number): Promise<Measured> {
  const clients = urls.map((url) => new BenchClient(url, CONCURRENCY));
  try {
    const tokens = await loginAll(clients, BENCH_USERS, BENCH_PASSWORD);
    const run = await closedLoop({
      concurrency: CONCURRENCY,
      warmupMs: 2000,
      durationMs,
      iteration: async (worker) => {
        const client = clients[worker % clients.length];
        const token = tokens[worker % tokens.length];
        if (!client || !token) throw new Error('no client');
        const created = await client.call('POST', '/v1/requests', token, {
          resourceId: 'sandbox',
          role: 'operator',
          durationSeconds: 3600,
        });
        const grantId = (created.json as { grantId?: string } | null)?.grantId;
        if (created.status !== 201 || !grantId) throw new Error(`create answered ${created.status}`);
        const credential = await client.call('GET', `/v1/grants/${grantId}/credential`, token);
        if (credential.status !== 200) throw new Error(`credential answered ${credential.status}`);
      },
    });
    return {
      perSecond: (run.completed * 1000) / run.elapsedMs,
      p99Ms: percentile(run.latenciesMs, 99),
      errors: run.errors,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

async function measureBaseline(durationMs: number): Promise<number> {
  const noop = await startProcess('bench/lib/noop-server.ts', [], {}, /BENCH_LISTENING (\S+)/);
  const client = new BenchClient(noop.url, CONCURRENCY);
  try {
    const run = await closedLoop({
      concurrency: CONCURRENCY,
      warmupMs: 1000,
      durationMs,
      iteration: async () => {
        if ((await client.call('GET', '/noop')).status !== 200) throw new Error('noop failed');
      },
    });
    return (run.completed * 1000) / run.elapsedMs;
  } finally {
    await client.close();
    await noop.stop();
  }
}

export async function lifecycleScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const durationMs = full ? 30_000 : 10_000;
  const baseline = await measureBaseline(durationMs);
  const measured = await onEachDeployment(
    policyFile,
    async ({ kind, label, urls }) => {
      const run = await measureLifecycles(urls, durationMs);
      const note = `${run.errors} errors; ${round(run.perSecond / baseline, 3)}× the do-nothing route`;
      return [
        result(
          `lifecycle on ${label}`,
          'throughput',
          'lifecycles/s',
          round(run.perSecond),
          kind === 'pglite' ? 1000 : 2000,
          'higher',
          note,
        ),
        result(`lifecycle on ${label}`, 'p99 latency', 'ms', round(run.p99Ms), 50, 'lower'),
      ];
    },
    { name: 'lifecycle', metric: 'throughput', unit: 'lifecycles/s' },
  );
  return [
    result(
      'baseline: Fastify route that does nothing',
      'requests/s',
      'req/s',
      round(baseline),
      null,
      'higher',
    ),
    ...measured,
  ];
}
