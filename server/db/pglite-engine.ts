import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL's own default, 128 MB of shared buffers, is sized for a server of its own; PGlite lives in
 * the service's process (and in the desktop app's), where that memory counts against the process. Its
 * pages are touched when the engine starts: a service that opened its folder held 367 MiB idle with the
 * default and 245 MiB with 16 MB. The embedded service's working set (the policy's people, the grants
 * and requests that are live, the audit log's head) fits many times over; PostgreSQL is the engine for
 * a database that outgrows it.
 */
const SHARED_BUFFERS = '16MB';

/** The longest timer PostgreSQL arms while initdb runs: PGSTAT_IDLE_INTERVAL, the idle statistics flush. */
const INITDB_TIMER_MS = 10_000;

/**
 * The PGlite engine on `dataDir`, or in memory (null). Creating a database runs initdb in a second
 * WebAssembly module, beside a copy of the engine's memory, and leaves both behind as garbage: about 350
 * MiB that V8 frees only at its next full collection, which an idle process may not reach for hours (a
 * service that had just created its folder held 862 MiB idle, against 449 MiB for the same folder opened
 * again). After creating a database the engine has that garbage collected at once, and again once the
 * initdb engine's last timer has fired: PostgreSQL in it arms a 10 s timer (its idle statistics flush)
 * whose callback holds that engine's memory, 430 MiB of it, until it runs. Opening the folder again in a
 * new engine frees the same memory and costs a second start of the engine.
 */
export async function startPglite(dataDir: string | null): Promise<PGlite> {
  const options = { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] };
  if (!dataDir) return PGlite.create(options);
  // PGlite runs initdb when the folder has no PG_VERSION, as PostgreSQL's own tools decide.
  const creating = !existsSync(join(dataDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true });
  const engine = await PGlite.create(dataDir, options);
  if (creating) {
    // Once the calls that ran initdb have returned and nothing on their stack holds what they made.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbageNow();
    setTimeout(collectGarbageNow, INITDB_TIMER_MS + 1000).unref();
  }
  return engine;
}

/**
 * A full garbage collection, now. Node offers the collector only to code started with --expose-gc; the
 * flag is on just long enough to take it from a new context, as Jest does for --logHeapUsage.
 */
function collectGarbageNow(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  gc();
}
