import { availableParallelism } from 'node:os';
import { protocol } from '@electric-sql/pglite';
import type { DatabaseHealth } from './availability.js';
import { runLazily } from './lazy-transaction.js';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './pg-client.js';
import { startPglite } from './pglite-engine.js';
import { PgliteStatements } from './pglite-statements.js';
import { openPostgres } from './postgres.js';
import { isStalePlan } from './prepared.js';
import type { Database, DatabaseLogger } from './sql.js';

export type { Database, DatabaseLogger, Sql, Transaction } from './sql.js';

export async function openDatabase(options: {
  databaseUrl: string | null;
  /** PGlite's folder; null keeps it in memory. */
  dataDir: string | null;
  logger: DatabaseLogger;
  poolSize?: number;
  /** PostgreSQL's bounded waits; DEFAULT_DATABASE_TIMEOUTS where not given. */
  timeouts?: Partial<DatabaseTimeouts>;
}): Promise<Database> {
  if (options.databaseUrl) {
    return openPostgres(options.databaseUrl, options.logger, options.poolSize ?? defaultPoolSize(), {
      ...DEFAULT_DATABASE_TIMEOUTS,
      ...options.timeouts,
    });
  }
  return openPglite(options.dataDir);
}

/**
 * PostgreSQL connections per instance when not configured: twice this machine's cores, from 4 to 10. Our
 * code runs on one thread; connections beyond what it keeps busy add context switches, not throughput.
 * On two cores with two instances (`npm run bench -- --only lifecycle`), 10 each served about 300
 * lifecycles a second with a p99 near 300 ms, and 4 each 370 with a p99 of 127 ms.
 */
export function defaultPoolSize(cores = availableParallelism()): number {
  return Math.min(10, Math.max(4, 2 * cores));
}

// PGlite runs in this process: it has no connection to lose.
const ALWAYS_AVAILABLE: DatabaseHealth = {
  available: true,
  reconnects: 0,
  unavailableSeconds: () => 0,
  poolWaiting: 0,
  onRecovered: () => () => undefined,
};

/**
 * PGlite runs each statement on this thread, and its queue hands the lock from one statement to the next
 * without ever returning to the event loop: 32 lifecycles at full speed kept an introspection, answered
 * from memory, waiting 95 ms (p50) for its turn. Each statement first lets the waiting I/O run.
 */
const turnOfTheEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function openPglite(dataDir: string | null): Promise<Database> {
  const db = await startPglite(dataDir);
  const statements = new PgliteStatements(db);
  // A script in the simple query protocol, for use while this caller holds PGlite's transaction lock.
  const simpleQuery = async (script: string, syncToFs: boolean) => {
    await db._runExclusiveQuery(() => db.execProtocolStream(protocol.serialize.query(script), { syncToFs }));
  };
  return {
    kind: 'pglite',
    // PGlite's own query takes the transaction lock first, so a statement never lands inside another
    // caller's open transaction; ours does the same.
    query: async <Row extends object>(text: string, params?: readonly unknown[]) => {
      await db._checkReady(); // refuses once the database is closed, as PGlite's own query does
      return db._runExclusiveTransaction(() =>
        db._runExclusiveQuery(async () => {
          await turnOfTheEventLoop();
          return statements.run<Row>(text, params ?? [], { syncToFs: true });
        }),
      );
    },
    async exec(script) {
      await db.exec(script);
    },
    async transaction(work) {
      // PGlite's own transaction sends BEGIN at once; this one holds the same lock and waits for a statement.
      const attempt = async () => {
        await db._checkReady();
        return db._runExclusiveTransaction(() =>
          runLazily(
            {
              // The data folder is written when a change commits, not at each statement inside it.
              run: <Row extends object>(text: string, params: readonly unknown[], alone: boolean) =>
                db._runExclusiveQuery(async () => {
                  await turnOfTheEventLoop();
                  return statements.run<Row>(text, params, { syncToFs: alone });
                }),
              control: (command) => simpleQuery(command, command === 'COMMIT'),
              exec: (script) => simpleQuery(script, false),
            },
            work,
          ),
        );
      };
      try {
        return await attempt();
      } catch (error) {
        // A migration changed a table under one of its statements, which is now prepared again.
        if (!isStalePlan(error)) throw error;
        return attempt();
      }
    },
    async listen(channel, onMessage) {
      // One process owns a PGlite database, so the connection is never lost and nothing needs resyncing.
      const unlisten = await db.listen(channel, onMessage);
      return unlisten;
    },
    health: ALWAYS_AVAILABLE,
    close: () => db.close(),
  };
}

/** Whether `error` is a unique violation of the named index, on PGlite or PostgreSQL. */
export function violatesUnique(error: unknown, index: string): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    error.code === '23505' &&
    'constraint' in error &&
    error.constraint === index
  );
}
