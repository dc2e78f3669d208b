import { availableParallelism } from 'node:os';
import { protocol } from '@electric-sql/pglite';
import pg from 'pg';
import { startPglite } from './pglite-engine.js';
import { PgliteStatements } from './pglite-statements.js';
import { isStalePlan, MAX_PREPARED_STATEMENTS } from './prepared.js';

/** Something that runs SQL: the database itself, or one open transaction. */
export interface Sql {
  query<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * One transaction. BEGIN waits for its first statement, and `queryLast` lets a transaction whose only
 * statement is its last run that statement alone.
 */
export interface Transaction extends Sql {
  /**
   * Runs the transaction's last statement; nothing may follow it. When nothing was sent before it, it runs
   * alone, with no BEGIN or COMMIT: one statement is atomic by itself, and two round trips are saved.
   */
  queryLast<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/**
 * The service's database, PGlite (embedded) or PostgreSQL, behind one interface. The SQL we write runs on
 * both: PGlite is PostgreSQL compiled to WebAssembly, so row locks, advisory locks and LISTEN/NOTIFY behave
 * the same, only with a single connection.
 */
export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in a transaction; retried when PostgreSQL picks it as a deadlock or serialisation victim. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Delivers every NOTIFY on `channel`, from this process and (on PostgreSQL) every other one. NOTIFY is
   * transactional, so a message arrives only once its transaction has committed. `onReconnect` runs after
   * a lost listening connection is back, when messages may have been missed.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseLogger {
  warn(details: object, message: string): void;
}

export async function openDatabase(options: {
  databaseUrl: string | null;
  /** PGlite's folder; null keeps it in memory. */
  dataDir: string | null;
  logger: DatabaseLogger;
  poolSize?: number;
}): Promise<Database> {
  if (options.databaseUrl) {
    return openPostgres(options.databaseUrl, options.logger, options.poolSize ?? defaultPoolSize());
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

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_TRANSACTION_ATTEMPTS = 4;

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
        db._runExclusiveQuery(() => statements.run<Row>(text, params ?? [], { syncToFs: true })),
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
                db._runExclusiveQuery(() => statements.run<Row>(text, params, { syncToFs: alone })),
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
    close: () => db.close(),
  };
}

function openPostgres(databaseUrl: string, logger: DatabaseLogger, poolSize: number): Database {
  // int8 (counts, sequence numbers) arrive as strings by default; ours stay far below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, 'text', Number);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, types });
  pool.on('error', (error) => {
    logger.warn({ err: error }, 'an idle database connection failed');
  });
  const listeners: (() => Promise<void>)[] = [];
  const statements = new StatementNames();
  const run = async <Row extends object>(
    connection: pg.Pool | pg.PoolClient,
    text: string,
    params: readonly unknown[] | undefined,
  ): Promise<Row[]> => {
    try {
      return rowsOf<Row>(await connection.query(statements.config(text, params)));
    } catch (error) {
      if (isStalePlan(error)) statements.forget(text);
      throw error;
    }
  };

  return {
    kind: 'postgres',
    async query<Row extends object>(text: string, params?: readonly unknown[]) {
      try {
        return await run<Row>(pool, text, params);
      } catch (error) {
        if (!isStalePlan(error)) throw error;
        return run<Row>(pool, text, params); // prepared again, under a new name
      }
    },
    async exec(script) {
      await pool.query(script);
    },
    async transaction(work) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          return await runLazily(
            {
              run: <Row extends object>(text: string, params: readonly unknown[]) =>
                run<Row>(client, text, params),
              control: async (command) => {
                await client.query(command);
              },
              exec: async (script) => {
                await client.query(script);
              },
            },
            work,
          );
        } catch (error) {
          const sqlState = error instanceof Error && 'code' in error ? String(error.code) : '';
          const retryable = RETRYABLE_SQLSTATES.has(sqlState) || isStalePlan(error);
          if (!retryable || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
        } finally {
          client.release();
        }
      }
    },
    async listen(channel, onMessage, onReconnect) {
      const listener = new ChannelListener(databaseUrl, channel, onMessage, onReconnect, logger, types);
      await listener.connect();
      listeners.push(() => listener.close());
      return () => listener.close();
    },
    async close() {
      await Promise.all(listeners.map((close) => close()));
      await pool.end();
    },
  };
}

/** What a transaction needs of its one connection. */
interface Connection {
  /** `alone`: the statement runs outside any transaction block, and commits by itself. */
  run<Row extends object>(text: string, params: readonly unknown[], alone: boolean): Promise<Row[]>;
  control(command: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): Promise<void>;
  exec(script: string): Promise<void>;
}

/**
 * One transaction on one connection, which sends BEGIN with its first statement. A statement that fails
 * aborts the transaction in PostgreSQL, so it is rolled back even if the caller caught the error and went
 * on: it never commits half of what it meant to.
 */
class LazyTransaction implements Transaction {
  private opening: Promise<void> | null = null;
  private failed = false;
  private ended = false;

  constructor(private readonly connection: Connection) {}

  query<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.inTransaction(() => this.connection.run<Row>(text, params ?? [], false));
  }

  exec(script: string): Promise<void> {
    return this.inTransaction(() => this.connection.exec(script));
  }

  async queryLast<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    if (this.opening === null && !this.ended) {
      this.ended = true;
      return this.connection.run<Row>(text, params ?? [], true);
    }
    const rows = await this.query<Row>(text, params);
    this.ended = true;
    return rows;
  }

  async commit(): Promise<void> {
    this.ended = true;
    if (this.failed) throw new Error('a statement failed inside the transaction, so it was rolled back');
    if (this.opening) await this.connection.control('COMMIT');
  }

  async rollback(): Promise<void> {
    this.ended = true;
    if (this.opening) await this.connection.control('ROLLBACK').catch(() => undefined);
  }

  private async inTransaction<Result>(send: () => Promise<Result>): Promise<Result> {
    if (this.ended) throw new Error('the transaction has ended');
    this.opening ??= this.connection.control('BEGIN');
    await this.opening;
    try {
      return await send();
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }
}

async function runLazily<T>(connection: Connection, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const tx = new LazyTransaction(connection);
  try {
    const result = await work(tx);
    await tx.commit();
    return result;
  } catch (error) {
    await tx.rollback();
    throw error;
  }
}

/**
 * Names for pg's prepared statements. pg prepares a named statement once per connection and afterwards
 * only binds and runs it, so PostgreSQL parses and plans each of our statements once per connection,
 * not on every call. With an auto-approved request written once, that took the lifecycle bench on two
 * instances from 253 to about 300 lifecycles a second.
 */
class StatementNames {
  private readonly names = new Map<string, string>();
  private made = 0;

  config(text: string, params: readonly unknown[] | undefined): pg.QueryConfig {
    const values = params ? [...params] : [];
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= MAX_PREPARED_STATEMENTS) return { text, values };
      name = `timebox_${++this.made}`;
      this.names.set(text, name);
    }
    return { name, text, values };
  }

  /** The next call prepares `text` again, under a new name (pg refuses a known name with new text). */
  forget(text: string): void {
    this.names.delete(text);
  }
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

/** Rows are shaped by the SQL that selected them; the caller names that shape. */
function rowsOf<Row extends object>(result: pg.QueryResult): Row[] {
  return result.rows as Row[];
}

/** A dedicated connection that LISTENs, and comes back with backoff when the database drops it. */
class ChannelListener {
  private client: pg.Client | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly onMessage: (payload: string) => void,
    private readonly onReconnect: () => void,
    private readonly logger: DatabaseLogger,
    private readonly types: pg.TypeOverrides,
  ) {}

  async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, types: this.types });
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload !== undefined) this.onMessage(message.payload);
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error, channel: this.channel }, 'the LISTEN connection failed; reconnecting');
      void client.end().catch(() => undefined);
      this.scheduleReconnect(1);
    });
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    this.client = client;
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closed || this.retryTimer) return;
    this.client = null;
    const delayMs = Math.min(30_000, 250 * 2 ** (attempt - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => {
          this.onReconnect();
        },
        () => {
          this.scheduleReconnect(attempt + 1);
        },
      );
    }, delayMs);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}
