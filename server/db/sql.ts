import type { DatabaseHealth } from './availability.js';

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
   * transactional, so a message arrives only once its transaction has committed. `onLost` runs when the
   * listening connection is lost or replaced, from when messages may be missed; `onReconnect` once it is
   * back.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect: () => void,
    onLost?: () => void,
  ): Promise<() => Promise<void>>;
  /** Whether the database answers, and its outages so far (PGlite, in the process, is always there). */
  readonly health: DatabaseHealth;
  close(): Promise<void>;
}

export interface DatabaseLogger {
  warn(details: object, message: string): void;
  info?(details: object, message: string): void;
}
