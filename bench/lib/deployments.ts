import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase } from './postgres.js';
import { pidsOf, startService, type RunningProcess } from './processes.js';
import { notRun, type ScenarioResult } from './results.js';

export interface Deployment {
  readonly kind: 'pglite' | 'postgres';
  /** "PGlite, 1 process" or "PostgreSQL, 2 processes". */
  readonly label: string;
  readonly urls: readonly string[];
  /** The service processes' ids, in the order of `urls`. */
  readonly pids: readonly number[];
}

/** Where one deployment keeps its data: new for each measurement. */
export interface DeploymentData {
  readonly kind: 'pglite' | 'postgres';
  /** "PGlite, 1 process" or "PostgreSQL, 2 processes". */
  readonly label: string;
  /** How many service processes the deployment runs. */
  readonly processes: number;
  /** The data argument of a service entry: a PGlite data folder, or "-" with DATABASE_URL in `env`. */
  readonly dataArgument: string;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Runs `measure` on the data of the two ways the service is deployed: a PGlite folder for one process,
 * then a fresh PostgreSQL database for two. Without PostgreSQL the second says why it did not run.
 */
export async function onEachDatabase(
  measure: (data: DeploymentData) => Promise<ScenarioResult[]>,
  unmeasured: { readonly name: string; readonly metric: string; readonly unit: string },
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'timebox-bench-'));
  try {
    results.push(
      ...(await measure({
        kind: 'pglite',
        label: 'PGlite, 1 process',
        processes: 1,
        dataArgument: dataDir,
        env: {},
      })),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  const database = await freshDatabase();
  if (database.url === null)
    return [
      ...results,
      notRun(
        `${unmeasured.name} on PostgreSQL, 2 processes`,
        unmeasured.metric,
        unmeasured.unit,
        database.reason,
      ),
    ];
  try {
    results.push(
      ...(await measure({
        kind: 'postgres',
        label: 'PostgreSQL, 2 processes',
        processes: 2,
        dataArgument: '-',
        env: { DATABASE_URL: database.url },
      })),
    );
  } finally {
    await database.drop();
  }
  return results;
}

/**
 * Runs `measure` against the two ways the service is deployed: one process on PGlite, then two processes
 * sharing a fresh PostgreSQL database. Each gets new data; without PostgreSQL the second says why it did
 * not run.
 */
export async function onEachDeployment(
  policyFile: string,
  measure: (deployment: Deployment) => Promise<ScenarioResult[]>,
  unmeasured: { readonly name: string; readonly metric: string; readonly unit: string },
): Promise<ScenarioResult[]> {
  return onEachDatabase(async (data) => {
    const services: RunningProcess[] = [];
    try {
      for (let index = 0; index < data.processes; index++) {
        services.push(await startService([policyFile, data.dataArgument], { env: { ...data.env } }));
      }
      return await measure({
        kind: data.kind,
        label: data.label,
        urls: services.map((service) => service.url),
        pids: pidsOf(services),
      });
    } finally {
      await Promise.all(services.map((service) => service.stop()));
    }
  }, unmeasured);
}
