import { setTimeout as sleep } from 'node:timers/promises';
import { onEachDatabase, type DeploymentData } from '../lib/deployments.js';
import { residentMegabytes } from '../lib/memory.js';
import { startService, type RunningService } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { round } from '../lib/stats.js';

/**
 * How long the started services are left alone before their memory is read: past the 11 s after which a
 * service that created its PGlite folder has the last of initdb's garbage collected (pglite-engine.ts).
 */
const IDLE_MS = 15_000;

/** RSS idle per process, in MiB: the embedded service and the desktop demo should stay near 300 MB. */
const RSS_TARGET_MB = 350;

interface Started {
  /** From spawning each process (Node and tsx start, modules load) to it listening. */
  readonly spawnToListeningMs: number[];
  /** From each service's own first line of code to it listening: opening (or creating) the database. */
  readonly codeToListeningMs: number[];
  readonly rssIdleMb: number[];
}

/** Starts the deployment's processes one after the other, leaves them idle, reads their memory, stops them. */
async function startIdleAndStop(policyFile: string, data: DeploymentData): Promise<Started> {
  const services: RunningService[] = [];
  const started: Started = { spawnToListeningMs: [], codeToListeningMs: [], rssIdleMb: [] };
  try {
    for (let index = 0; index < data.processes; index++) {
      const spawnedAt = Date.now();
      const service = await startService([policyFile, data.dataArgument], { env: { ...data.env } });
      const listeningAt = Date.now();
      services.push(service);
      started.spawnToListeningMs.push(listeningAt - spawnedAt);
      started.codeToListeningMs.push(listeningAt - service.codeStartedAt);
    }
    await sleep(IDLE_MS);
    for (const service of services) {
      const rss = service.child.pid === undefined ? null : residentMegabytes(service.child.pid);
      if (rss === null) throw new Error("a service's resident memory cannot be read here (no /proc)");
      started.rssIdleMb.push(rss);
    }
    return started;
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
}

/**
 * The memory each service process holds once started and idle, and how long it takes to start: on a
 * database it creates (a new PGlite folder, a new PostgreSQL database it migrates), then on the same one
 * opened again.
 */
export async function memoryScenario(policyFile: string): Promise<ScenarioResult[]> {
  const figures = (values: readonly number[], unit: string) =>
    values.map((value) => `${round(value, 0)} ${unit}`).join(', ');
  return onEachDatabase(
    async (data) => {
      const name = `memory and start-up on ${data.label}, idle ${IDLE_MS / 1000} s`;
      const rows: ScenarioResult[] = [];
      for (const database of ['new database', 'existing database'] as const) {
        const started = await startIdleAndStop(policyFile, data);
        rows.push(
          result(
            name,
            `RSS idle, ${database}, largest process`,
            'MiB',
            round(Math.max(...started.rssIdleMb), 0),
            RSS_TARGET_MB,
            'lower',
            `each process: ${figures(started.rssIdleMb, 'MiB')}`,
          ),
          result(
            name,
            `start-up, ${database}, slowest process`,
            'ms',
            round(Math.max(...started.codeToListeningMs), 0),
            null,
            'lower',
            `from the service's first line of code to listening: ${figures(started.codeToListeningMs, 'ms')}; from spawning the process: ${figures(started.spawnToListeningMs, 'ms')}`,
          ),
        );
      }
      return rows;
    },
    { name: 'memory and start-up', metric: 'RSS idle, new database, largest process', unit: 'MiB' },
  );
}
