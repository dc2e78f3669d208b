import pg from 'pg';
import {
  Availability,
  DatabaseUnavailableError,
  isConnectionFailure,
  isStatementTimeout,
} from './availability.js';
import { ChannelListener } from './channel-listener.js';
import { runLazily } from './lazy-transaction.js';
import { clientConfig, destroySocket, settlesWithin, type DatabaseTimeouts } from './pg-client.js';
import { isStalePlan, MAX_PREPARED_STATEMENTS } from './prepared.js';
import type { Database, DatabaseLogger } from './sql.js';

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_TRANSACTION_ATTEMPTS = 4;
// How long a closing connection waits for the server's goodbye before its socket is cut: a healthy
// server answers in milliseconds, a black-holed one never.
const GOODBYE_MS = 1000;
// pg-pool's error when connectionTimeoutMillis passes while the caller waits in the pool's queue for a
// connection to come back (a new connection that does not open in time fails otherwise, 'Connection
// terminated due to connection timeout'). When the database is lost, the connections the caller waited
// for fail on their own, and open the circuit then.
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/**
 * PostgreSQL through a pool. A connection that breaks never ends the process: its client is discarded
 * (released with the error), the work on it fails with DatabaseUnavailableError (503), and the circuit
 * (Availability) refuses further work at once until a background probe finds the database again.
 */
export function openPostgres(
  databaseUrl: string,
  logger: DatabaseLogger,
  poolSize: number,
  timeouts: DatabaseTimeouts,
): Database {
  // int8 (counts, sequence numbers) arrive as strings by default; ours stay far below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, 'text', Number);
  const config = clientConfig(databaseUrl, types, timeouts);
  const pool = new pg.Pool({ ...config, max: poolSize });
  // Every connection the pool holds, to cut them at close when the database no longer answers.
  const clients = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    clients.add(client);
    // A connection that breaks while checked out emits 'error' on its client, which ends the process when
    // nothing listens. The statement on it (or the next one) fails as well, and is where it is handled.
    client.on('error', () => undefined);
  });
  const checkedOut = new Set<pg.PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_error, client) => checkedOut.delete(client));
  pool.on('remove', (client) => {
    clients.delete(client);
    checkedOut.delete(client);
  });
  pool.on('error', (error) => {
    logger.warn(
      { err: error },
      'an idle database connection failed, or was cut in an outage; it is replaced',
    );
  });
  const availability = new Availability(
    async () => {
      await pool.query('SELECT 1');
    },
    logger,
    () => {
      // A black-holed network leaves idle connections that look open and would each hold the next
      // caller (the probe first) for a whole query timeout: cut them, the pool opens new ones.
      for (const client of clients) if (!checkedOut.has(client)) destroySocket(client);
    },
  );
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
  const waitedForBusyPool = (error: unknown): boolean =>
    error instanceof Error && error.message === POOL_WAIT_TIMEOUT;
  // A database known to be away sends no goodbye: connections are cut at once.
  const goodbyeMs = () => (availability.available ? GOODBYE_MS : 0);
  /**
   * A lost connection becomes DatabaseUnavailableError and opens the circuit; other errors pass. A caller
   * that waited out the connect timeout in the pool's queue met a busy service, not a lost database: it is
   * answered 503 alone, and the circuit stays closed (in CI, on a loaded machine, one such wait had
   * refused everyone's requests and cut the idle connections).
   */
  const unavailable = (error: unknown, epoch: number, nothingDone: boolean): unknown => {
    if (waitedForBusyPool(error)) return new DatabaseUnavailableError(true, error); // never sent
    if (isStatementTimeout(error)) return new DatabaseUnavailableError(nothingDone, error);
    if (!isConnectionFailure(error)) return error;
    availability.failed(error, epoch);
    return new DatabaseUnavailableError(nothingDone, error);
  };

  return {
    kind: 'postgres',
    async query<Row extends object>(text: string, params?: readonly unknown[]) {
      availability.check();
      const epoch = availability.epoch;
      try {
        try {
          return await run<Row>(pool, text, params);
        } catch (error) {
          if (!isStalePlan(error)) throw error;
          return await run<Row>(pool, text, params); // prepared again, under a new name
        }
      } catch (error) {
        throw unavailable(error, epoch, false);
      }
    },
    async exec(script) {
      availability.check();
      const epoch = availability.epoch;
      try {
        await pool.query(script);
      } catch (error) {
        throw unavailable(error, epoch, false);
      }
    },
    async transaction(work) {
      for (let attempt = 1; ; attempt++) {
        availability.check();
        const epoch = availability.epoch;
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (error) {
          throw unavailable(error, epoch, true);
        }
        // The connection's failure: the client is then discarded, not handed to the next caller, and
        // nothing more is sent on it (a ROLLBACK would only wait out another timeout).
        let broken: Error | undefined;
        const send = async <Result>(statement: () => Promise<Result>): Promise<Result> => {
          if (broken) throw new DatabaseUnavailableError(false, broken);
          try {
            return await statement();
          } catch (error) {
            if (isConnectionFailure(error))
              broken = error instanceof Error ? error : new Error(String(error));
            throw unavailable(error, epoch, false);
          }
        };
        try {
          return await runLazily(
            {
              run: <Row extends object>(text: string, params: readonly unknown[]) =>
                send(() => run<Row>(client, text, params)),
              control: (command) =>
                send(async () => {
                  await client.query(command);
                }),
              exec: (script) =>
                send(async () => {
                  await client.query(script);
                }),
            },
            work,
          );
        } catch (error) {
          const sqlState = error instanceof Error && 'code' in error ? String(error.code) : '';
          const retryable = RETRYABLE_SQLSTATES.has(sqlState) || isStalePlan(error);
          if (!retryable || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
        } finally {
          client.release(broken);
        }
      }
    },
    async listen(channel, onMessage, onReconnect, onLost = () => {}) {
      const listener = new ChannelListener(
        config,
        channel,
        { onMessage, onReconnect, onLost },
        logger,
        GOODBYE_MS,
      );
      await listener.connect();
      // After an outage the listening connection may look open while its notices are lost: replace it.
      const stopRestarting = availability.onRecovered(() => {
        listener.restart();
      });
      const close = async () => {
        stopRestarting();
        await listener.close(goodbyeMs());
      };
      listeners.push(close);
      return close;
    },
    health: {
      get available() {
        return availability.available;
      },
      get reconnects() {
        return availability.reconnects;
      },
      unavailableSeconds: () => availability.unavailableSeconds(),
      get poolWaiting() {
        return pool.waitingCount;
      },
      onRecovered: (listener) => availability.onRecovered(listener),
    },
    async close() {
      availability.close();
      await Promise.all(listeners.map((close) => close()));
      // pool.end waits for each connection's goodbye, and for statements in flight: what is left after
      // GOODBYE_MS is cut, which fails those statements and lets the pool end.
      const ended = pool.end();
      if ((await settlesWithin(ended, goodbyeMs())) === 'late') {
        for (const client of clients) destroySocket(client);
        await settlesWithin(ended, GOODBYE_MS);
      }
    },
  };
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

/** Rows are shaped by the SQL that selected them; the caller names that shape. */
function rowsOf<Row extends object>(result: pg.QueryResult): Row[] {
  return result.rows as Row[];
}
