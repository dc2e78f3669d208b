import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BenchClient,
  closedLoop,
  introspectActive,
  loginAll,
  requestAndFetch,
  sandboxTokens,
} from '../lib/http.js';
import { BENCH_PASSWORD, BENCH_RESOURCE_SERVER_TOKEN, BENCH_USERS } from '../lib/policy.js';
import { describeCpu, measureCpu } from '../lib/cpu.js';
import {
  onEachDatabase,
  onEachDeployment,
  type Deployment,
  type DeploymentData,
} from '../lib/deployments.js';
import { pidsOf, profileArgs, startProcess, waitForOutput, type RunningProcess } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { openLoop, timedLifecycle } from '../lib/open-loop.js';
import { percentile, round } from '../lib/stats.js';

const CONCURRENCY = 32;
// A resource server's checks beside the lifecycles, at a steady rate: a busy API introspecting the tokens it
// is shown. (A closed loop of callers asked as fast as answers came: once answers took 2 ms instead of 60, it
// asked 1,800 times a second and took the CPU the lifecycles were measured on.)
const INTROSPECTIONS_PER_SECOND = 200;
const INTROSPECTION_CONNECTIONS = 4;
const WARMUP_MS = 2000;

interface Measured {
  readonly perSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Where the CPU time went, per lifecycle and in cores (empty where the machine cannot tell). */
  readonly cpu: string;
}

interface Introspected {
  /** How many answers, by what told the grant's state (memory, database), over every process's /metrics. */
  readonly sources: string;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/**
 * request → auto-approve → grant → credential, from 32 workers, each a user of its own, over the given
 * processes; meanwhile a resource server introspects sandbox tokens against them.
 */
async function measureLifecycles(
  deployment: Deployment,
  durationMs: number,
): Promise<Measured & { introspection: Introspected }> {
  const clients = deployment.urls.map((url) => new BenchClient(url, CONCURRENCY));
  const resourceServers = deployment.urls.map((url) => new BenchClient(url, INTROSPECTION_CONNECTIONS));
  try {
    const tokens = await loginAll(clients, BENCH_USERS, BENCH_PASSWORD);
    const first = clients[0];
    if (!first) throw new Error('no client');
    const credentials = await sandboxTokens(first, tokens.slice(CONCURRENCY, CONCURRENCY + 8));
    const cpu = measureCpu(
      new Map([['service', deployment.pids]]),
      deployment.kind === 'postgres',
      WARMUP_MS,
      durationMs,
    );
    const [run, checks] = await Promise.all([
      closedLoop({
        concurrency: CONCURRENCY,
        warmupMs: WARMUP_MS,
        durationMs,
        iteration: async (worker) => {
          const client = clients[worker % clients.length];
          const token = tokens[worker % tokens.length];
          if (!client || !token) throw new Error('no client');
          await requestAndFetch(client, token);
        },
      }),
      openLoop({
        ratePerSecond: INTROSPECTIONS_PER_SECOND,
        warmupMs: WARMUP_MS,
        durationMs,
        iteration: async (arrival) => {
          const client = resourceServers[arrival % resourceServers.length];
          const credential = credentials[arrival % credentials.length];
          if (!client || !credential) throw new Error('no client');
          await introspectActive(client, BENCH_RESOURCE_SERVER_TOKEN, credential);
        },
      }),
    ]);
    const usage = await cpu;
    const sources = await introspectionSources(clients);
    return {
      perSecond: (run.completed * 1000) / run.elapsedMs,
      p99Ms: percentile(run.latenciesMs, 99),
      errors: run.errors,
      cpu: usage ? describeCpu(usage, run.completed) : '',
      introspection: {
        perSecond: (checks.finished.length * 1000) / durationMs,
        p50Ms: percentile(
          checks.finished.map((check) => check.latencyMs),
          50,
        ),
        p99Ms: percentile(
          checks.finished.map((check) => check.latencyMs),
          99,
        ),
        errors: checks.errors,
        sources,
      },
    };
  } finally {
    await Promise.all([...clients, ...resourceServers].map((client) => client.close()));
  }
}

/**
 * Lifecycles arriving at `ratePerSecond` (half of what the closed loop reached), whatever the earlier ones
 * are doing: p50, p99 and max of each step and of the whole, as rows (target: whole p99 < 50 ms).
 */
async function openLoopResults(
  deployment: Deployment,
  ratePerSecond: number,
  durationMs: number,
): Promise<ScenarioResult[]> {
  const clients = deployment.urls.map((url) => new BenchClient(url, CONCURRENCY));
  try {
    const tokens = await loginAll(clients, BENCH_USERS, BENCH_PASSWORD);
    const run = await openLoop({
      ratePerSecond,
      warmupMs: WARMUP_MS,
      durationMs,
      iteration: async (arrival) => {
        const client = clients[arrival % clients.length];
        const token = tokens[arrival % CONCURRENCY];
        if (!client || !token) throw new Error('no client');
        return timedLifecycle(client, token);
      },
    });
    const title = `open-loop lifecycles at ${round(ratePerSecond)}/s (half the closed loop's) on ${deployment.label}`;
    const spread = (values: readonly number[]): string =>
      `p50 ${round(percentile(values, 50), 2)} ms, max ${round(Math.max(...values), 2)} ms`;
    const whole = run.finished.map((lifecycle) => lifecycle.latencyMs);
    const request = run.finished.map((lifecycle) => lifecycle.value.request);
    const credential = run.finished.map((lifecycle) => lifecycle.value.credential);
    return [
      result(
        title,
        'p99 latency, whole lifecycle',
        'ms',
        round(percentile(whole, 99), 2),
        50,
        'lower',
        [
          spread(whole),
          `${whole.length} lifecycles measured of ${run.arrived} started`,
          `${run.errors} errors`,
          ...(run.lateStarts > 0 ? [`${run.lateStarts} started late by the load generator`] : []),
        ].join('; '),
      ),
      result(
        title,
        'p99 latency, request (decided, granted)',
        'ms',
        round(percentile(request, 99), 2),
        null,
        'lower',
        spread(request),
      ),
      result(
        title,
        'p99 latency, credential',
        'ms',
        round(percentile(credential, 99), 2),
        null,
        'lower',
        spread(credential),
      ),
    ];
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** The services' own count of introspection answers by source, from /metrics: "memory 1990, database 10". */
async function introspectionSources(clients: readonly BenchClient[]): Promise<string> {
  const totals = new Map<string, number>();
  for (const client of clients) {
    const text = await client.text('/metrics');
    for (const match of text.matchAll(/^timebox_introspections_total\{[^}]*source="(\w+)"[^}]*\} (\d+)/gm)) {
      const [, source = '', count = '0'] = match;
      if (source !== 'token') totals.set(source, (totals.get(source) ?? 0) + Number(count));
    }
  }
  return [...totals].map(([source, count]) => `${source} ${count}`).join(', ');
}

interface Replayed {
  readonly completed: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
  readonly firstError: string | null;
}

/**
 * The baseline "the same SQL without our code": the statements the service sends for a lifecycle,
 * recorded and replayed by `bench/lib/sql-replay-entry.ts` from the same 32 workers, split over the same
 * number of processes as the deployment, with no HTTP, Fastify, JWT or domain code in the way.
 */
async function measureSqlAlone(
  policyFile: string,
  data: DeploymentData,
  durationMs: number,
): Promise<Measured & { firstError: string | null }> {
  const started: RunningProcess[] = [];
  try {
    for (let index = 0; index < data.processes; index++) {
      const workers = Array.from({ length: CONCURRENCY }, (_, worker) => worker).filter(
        (worker) => worker % data.processes === index,
      );
      started.push(
        await startProcess(
          'bench/lib/sql-replay-entry.ts',
          [policyFile, data.dataArgument, workers.join(','), String(WARMUP_MS), String(durationMs)],
          { ...data.env },
          /BENCH_RECORDED (\d+)/,
          profileArgs(),
        ),
      );
    }
    const cpu = measureCpu(
      new Map([['replay', pidsOf(started)]]),
      data.kind === 'postgres',
      WARMUP_MS,
      durationMs,
    );
    const replays = started.map((running) =>
      waitForOutput(running, /BENCH_REPLAYED (.+)\n/, WARMUP_MS + durationMs + 60_000),
    );
    for (const running of started) running.child.kill('SIGUSR2');
    const runs = (await Promise.all(replays)).map((line) => JSON.parse(line) as Replayed);
    // Each process ends by itself once it has printed, after writing its CPU profile (BENCH_CPU_PROFILE),
    // which a SIGTERM would cut short.
    await Promise.all(
      started.map(async (running) => {
        if (running.alive()) await Promise.race([once(running.child, 'exit'), sleep(10_000)]);
      }),
    );
    const completed = runs.reduce((sum, run) => sum + run.completed, 0);
    const usage = await cpu;
    return {
      cpu: usage ? describeCpu(usage, completed) : '',
      perSecond: (completed * 1000) / Math.max(...runs.map((run) => run.elapsedMs)),
      p99Ms: percentile(
        runs.flatMap((run) => run.latenciesMs),
        99,
      ),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      firstError: runs.find((run) => run.firstError !== null)?.firstError ?? null,
    };
  } finally {
    await Promise.all(started.map((running) => running.stop()));
  }
}

/** The SQL-alone baseline on PGlite (one process) and on PostgreSQL (two), as result rows. */
async function sqlAloneResults(
  policyFile: string,
  durationMs: number,
): Promise<{ rows: ScenarioResult[]; perSecond: Map<'pglite' | 'postgres', number> }> {
  const perSecond = new Map<'pglite' | 'postgres', number>();
  const rows = await onEachDatabase(
    async (data) => {
      const run = await measureSqlAlone(policyFile, data, durationMs);
      perSecond.set(data.kind, run.perSecond);
      return [
        result(
          `baseline: the lifecycle's SQL alone on ${data.label}`,
          'throughput',
          'lifecycles/s',
          round(run.perSecond),
          null,
          'higher',
          [
            `p99 ${round(run.p99Ms)} ms`,
            `${run.errors} errors${run.firstError ? ` (first: ${run.firstError})` : ''}`,
            ...(run.cpu ? [`CPU per lifecycle: ${run.cpu}`] : []),
          ].join('; '),
        ),
      ];
    },
    { name: "baseline: the lifecycle's SQL alone", metric: 'throughput', unit: 'lifecycles/s' },
  );
  return { rows, perSecond };
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
  const sqlAlone = await sqlAloneResults(policyFile, durationMs);
  const measured = await onEachDeployment(
    policyFile,
    async (deployment) => {
      const { kind, label } = deployment;
      const run = await measureLifecycles(deployment, durationMs);
      const sqlPerSecond = sqlAlone.perSecond.get(kind);
      const note = [
        `${run.errors} errors`,
        `${round(run.perSecond / baseline, 3)}× the do-nothing route`,
        ...(run.cpu ? [`CPU per lifecycle: ${run.cpu}`] : []),
      ].join('; ');
      const openLoopRows = await openLoopResults(deployment, run.perSecond / 2, durationMs);
      return [
        result(
          `lifecycle on ${label}`,
          'throughput',
          'lifecycles/s',
          round(run.perSecond),
          null,
          'higher',
          note,
        ),
        // The SQL alone, replayed in the same run, is what this machine's database allows: the target.
        ...(sqlPerSecond
          ? [
              result(
                `lifecycle on ${label}`,
                'throughput ÷ its SQL alone',
                '×',
                round(run.perSecond / sqlPerSecond, 2),
                0.8,
                'higher',
                `${round(run.perSecond)} ÷ ${round(sqlPerSecond)} lifecycles/s`,
              ),
            ]
          : []),
        result(`lifecycle on ${label}`, 'p99 latency', 'ms', round(run.p99Ms), 50, 'lower'),
        result(
          `introspection during the lifecycle on ${label}`,
          'p99 latency',
          'ms',
          round(run.introspection.p99Ms, 2),
          10,
          'lower',
          `a resource server asking ${INTROSPECTIONS_PER_SECOND} times a second beside the ${CONCURRENCY} lifecycle workers: ${round(run.introspection.perSecond)}/s answered, p50 ${round(run.introspection.p50Ms, 2)} ms, ${run.introspection.errors} errors; answered from ${run.introspection.sources || 'no /metrics'}`,
        ),
        ...openLoopRows,
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
    ...sqlAlone.rows,
    ...measured,
  ];
}
