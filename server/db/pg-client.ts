import pg from 'pg';

/**
 * How long the service waits on PostgreSQL, in milliseconds. Every wait is bounded, so a database that
 * is gone or black-holed costs a request at most these, never a hang; the defaults suit a request path.
 */
export interface DatabaseTimeouts {
  /** To open a connection, or to get one from a full pool (pg's connectionTimeoutMillis). */
  readonly connectMs: number;
  /**
   * For a statement's answer, on the client (pg's query_timeout). The server cancels the statement a tenth
   * earlier (statement_timeout), so it does not work on for a client that gave up, and a slow statement
   * on a database that is there fails as such rather than as a lost connection.
   */
  readonly queryMs: number;
  /**
   * A session idle inside a transaction this long is ended by PostgreSQL, which frees its row locks: an
   * instance cut off mid-transaction cannot hold them (idle_in_transaction_session_timeout).
   */
  readonly idleInTransactionMs: number;
  /** TCP keepalive's first probe on an idle connection, which finds a peer that vanished. */
  readonly keepAliveMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  connectMs: 3000,
  queryMs: 5000,
  idleInTransactionMs: 10_000,
  keepAliveMs: 10_000,
};

/** A connection's settings: where, how values are typed, and every bound of `timeouts`. */
export function clientConfig(
  databaseUrl: string,
  types: pg.TypeOverrides,
  timeouts: DatabaseTimeouts,
): pg.ClientConfig {
  return {
    connectionString: databaseUrl,
    types,
    connectionTimeoutMillis: timeouts.connectMs,
    query_timeout: timeouts.queryMs,
    statement_timeout: Math.floor(timeouts.queryMs * 0.9),
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: timeouts.keepAliveMs,
  };
}

/**
 * Ends a connection politely, or after `timeoutMs` by destroying its socket: a polite end waits for the
 * server's goodbye, which a black-holed connection never sends.
 */
export async function endClient(client: pg.Client, timeoutMs: number): Promise<void> {
  if ((await settlesWithin(client.end(), timeoutMs)) === 'late') destroySocket(client);
}

export function destroySocket(client: pg.ClientBase): void {
  // pg offers no public way to drop a connection without the server's goodbye; its socket is typed.
  if ('connection' in client && client.connection instanceof pg.Connection)
    client.connection.stream.destroy();
}

/** Waits for `promise` at most `ms`: whether it settled (resolved or rejected) in time. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => {
      resolve('late');
    }, ms);
  });
  try {
    return await Promise.race([promise.then(settled, settled), late]);
  } finally {
    clearTimeout(timer);
  }
}

const settled = (): 'settled' => 'settled';
