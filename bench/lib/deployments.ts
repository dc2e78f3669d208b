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
  const results: ScenarioResult[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'timebox-bench-'));
  let services: RunningProcess[] = [];
  try {
    services = [await startService([policyFile, dataDir])];
    results.push(
      ...(await measure({
        kind: 'pglite',
        label: 'PGlite, 1 process',
        urls: services.map((service) => service.url),
        pids: pidsOf(services),
      })),
    );
  } finally {
    await Promise.all(services.map((service) => service.stop()));
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
    services = [await startService([policyFile, '-'], { env: { DATABASE_URL: database.url } })];
    services.push(await startService([policyFile, '-'], { env: { DATABASE_URL: database.url } }));
    results.push(
      ...(await measure({
        kind: 'postgres',
        label: 'PostgreSQL, 2 processes',
        urls: services.map((service) => service.url),
        pids: pidsOf(services),
      })),
    );
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await database.drop();
  }
  return results;
}
