import { performance } from 'node:perf_hooks';
import pg from 'pg';

/**
 * The database did not answer: its connection was lost, refused or timed out. Callers answer 503
 * `database_unavailable`; the service keeps running and finds the database again by itself.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    /**
     * True when the work never reached the database (the outage was already known, or no connection could
     * be had): nothing was done. False when the connection failed while the work ran: it may or may not
     * have committed.
     */
    readonly nothingDone: boolean,
    cause?: unknown,
  ) {
    super(
      nothingDone ? 'the database is unavailable' : 'the connection to the database failed during the work',
      { cause },
    );
    this.name = 'DatabaseUnavailableError';
  }
}

/** The error, or one of its causes, is a DatabaseUnavailableError. */
export function databaseUnavailable(error: unknown): DatabaseUnavailableError | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof DatabaseUnavailableError) return current;
    current = current.cause;
  }
  return null;
}

// SQLSTATEs of a server that cannot serve us: connection exceptions (08000, 08003, 08006, 08001, 08004,
// 08007, not 08P01, a protocol violation of ours), shutting down or starting (57P01-57P03), out of
// connections (53300).
const UNAVAILABLE_SQLSTATE = /^(0800[0134-7]|57P0[123]|53300)$/;
const QUERY_CANCELED = '57014';
// What pg and Node say when a socket breaks or a bounded wait runs out.
const CONNECTION_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|is not queryable|Connection closed/i;
const SOCKET_CODE =
  /^E(CONNRESET|CONNREFUSED|CONNABORTED|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN)$/;

/**
 * Whether PostgreSQL cancelled a statement at our statement_timeout: the database is there but did not
 * finish in time. The request is answered 503 like an outage, and the circuit stays closed.
 */
export function isStatementTimeout(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === QUERY_CANCELED;
}

/** Whether a failure from pg means the database is not reachable (as opposed to refusing our SQL). */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (error instanceof pg.DatabaseError) return UNAVAILABLE_SQLSTATE.test(code);
  return SOCKET_CODE.test(code) || CONNECTION_MESSAGE.test(error.message);
}

export interface AvailabilityLogger {
  warn(details: object, message: string): void;
  info?(details: object, message: string): void;
}

/** What the service shows of its database's reachability (metrics, /healthz). */
export interface DatabaseHealth {
  /** False from the first failed connection until a probe gets an answer again. */
  readonly available: boolean;
  /** Outages that ended: the database answered again after one. */
  readonly reconnects: number;
  /** Seconds spent unavailable since start, the current outage included. */
  unavailableSeconds(): number;
  /** Callers waiting for a pooled connection. */
  readonly poolWaiting: number;
  /** Runs `listener` each time the database answers again after an outage. Returns its removal. */
  onRecovered(listener: () => void): () => void;
}

const FIRST_PROBE_MS = 100;
const MAX_PROBE_INTERVAL_MS = 1000;

/**
 * A small circuit in front of the database. The first connection failure opens it: from then on every
 * statement is refused at once (503 in microseconds, instead of each request waiting out a timeout),
 * while a probe asks the database `SELECT 1` in the background, soon and then at most a second apart.
 * The first answer closes it and tells the listeners (the scheduler ends what fell due, the event streams
 * catch up). The probes run on real timers, like pg's own timeouts: they measure the network, not the
 * service's (injectable) clock.
 */
export class Availability {
  private downSince: number | null = null;
  private unavailableMsBefore = 0;
  private probeTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private closed = false;
  /** Counts recoveries: work begun before the latest one cannot open the circuit again by failing late. */
  private epochNumber = 0;
  private recoveries = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly logger: AvailabilityLogger,
    /** Runs when the circuit opens: the connections kept idle are suspect too. */
    private readonly onLost: () => void,
  ) {}

  get available(): boolean {
    return this.downSince === null;
  }

  get reconnects(): number {
    return this.recoveries;
  }

  /** The period work starts in; hand it back to `failed`. */
  get epoch(): number {
    return this.epochNumber;
  }

  /** Refuses work at once while the database is known to be away. */
  check(): void {
    if (this.downSince !== null) throw new DatabaseUnavailableError(true);
  }

  /** A connection failed for work begun in `epoch`: the database is away until a probe says otherwise. */
  failed(error: unknown, epoch: number): void {
    if (this.closed || this.downSince !== null || epoch !== this.epochNumber) return;
    this.downSince = performance.now();
    this.attempt = 0;
    this.logger.warn(
      { err: error },
      'the database does not answer: answering 503 database_unavailable and probing it until it does',
    );
    this.onLost();
    this.scheduleProbe();
  }

  unavailableSeconds(): number {
    const current = this.downSince === null ? 0 : performance.now() - this.downSince;
    return (this.unavailableMsBefore + current) / 1000;
  }

  onRecovered(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    const delay = Math.min(MAX_PROBE_INTERVAL_MS, FIRST_PROBE_MS * 2 ** this.attempt++);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      this.probe().then(
        () => {
          this.recovered();
        },
        () => {
          this.scheduleProbe();
        },
      );
    }, delay);
    this.probeTimer.unref();
  }

  private recovered(): void {
    if (this.closed || this.downSince === null) return;
    const outageMs = performance.now() - this.downSince;
    this.unavailableMsBefore += outageMs;
    this.downSince = null;
    this.epochNumber += 1;
    this.recoveries += 1;
    const details = { unavailableMs: Math.round(outageMs) };
    const message = 'the database answers again: serving requests and catching up on what fell due';
    if (this.logger.info) this.logger.info(details, message);
    else this.logger.warn(details, message);
    for (const listener of this.listeners) listener();
  }
}
