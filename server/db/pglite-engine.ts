import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PGlite } from '@electric-sql/pglite';

/**
 * The PGlite engine on `dataDir`, or in memory (null). Creating a database runs initdb in a second
 * WebAssembly module, beside a copy of the engine's memory, and leaves both behind as garbage: about 350
 * MiB that V8 frees only at its next full collection, which an idle process may not reach for hours (a
 * service that had just created its folder held 862 MiB idle, against 449 MiB for the same folder opened
 * again). After creating a database the engine has that garbage collected at once. Opening the folder
 * again in a new engine frees the same memory and costs a second start of the engine.
 */
export async function startPglite(dataDir: string | null): Promise<PGlite> {
  if (!dataDir) return PGlite.create();
  // PGlite runs initdb when the folder has no PG_VERSION, as PostgreSQL's own tools decide.
  const creating = !existsSync(join(dataDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true });
  const engine = await PGlite.create(dataDir);
  if (creating) {
    // Once the calls that ran initdb have returned and nothing on their stack holds what they made.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbageNow();
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
