import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { databaseUnavailable, type DatabaseHealth } from '../db/availability.js';
import type { Sql } from '../db/database.js';

/**
 * The process's own series from prom-client's default metrics: CPU, resident memory, heap and its spaces,
 * file descriptors, handles, event-loop lag and GC time. They describe the process, not one service, and
 * their event-loop monitor and GC observer cannot be stopped once started: they are collected once per
 * process, however many services it runs (a test file starts dozens), and every service's registry shows
 * the same ones.
 */
let processSeries: Registry | null = null;

function processRegistry(): Registry {
  if (!processSeries) {
    processSeries = new Registry();
    collectDefaultMetrics({ register: processSeries });
  }
  return processSeries;
}

/** The service's Prometheus metrics, in a registry of its own so several instances can share a process. */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'timebox_http_requests_total',
    help: 'HTTP requests answered, by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'timebox_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly revocationLag = new Histogram({
    name: 'timebox_revocation_lag_seconds',
    help: "Time from a grant's expiresAt to the moment the service revoked it.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300],
    registers: [this.registry],
  });

  readonly grantsEnded = new Counter({
    name: 'timebox_grants_ended_total',
    help: 'Grants ended, by reason (expired, relinquished, revoked).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly credentialsIssued = new Counter({
    name: 'timebox_credentials_issued_total',
    help: 'Credentials handed to grant owners, by issuer kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly accessOperations = new Counter({
    name: 'timebox_access_operations_total',
    help: 'Operations on access outside the service (provision, revoke), by outcome (done, failed).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly loginFailures = new Counter({
    name: 'timebox_login_failures_total',
    help: 'Refused sign-ins, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly introspections = new Counter({
    name: 'timebox_introspections_total',
    help:
      'Introspection answers to resource servers: active, or why not (invalid, not_owned, ended); and what ' +
      "told the grant's state: memory (the ended grants every instance hears of), database, or token alone.",
    labelNames: ['result', 'source'] as const,
    registers: [this.registry],
  });

  readonly eventStreams = new Gauge({
    name: 'timebox_event_streams',
    help: 'Server-Sent Event streams open on this instance.',
    registers: [this.registry],
  });

  /**
   * `withProcessSeries` adds the process's own series (see processRegistry). Their event-loop monitor wakes
   * the process every 10 ms, which a service nobody scrapes (the tray app's embedded one) should not pay.
   */
  constructor(sql: Sql, health: DatabaseHealth, withProcessSeries: boolean) {
    if (withProcessSeries) {
      const shared = processRegistry();
      for (const { name } of shared.getMetricsAsArray()) {
        const metric = shared.getSingleMetric(name);
        if (metric) this.registry.registerMetric(metric);
      }
    }
    this.databaseSeries(health);
    // The series counted from the database keep their last values while it is away: the scrape still
    // answers, with the database's own series saying it is away and for how long.
    const fromDatabase = async (count: () => Promise<void>): Promise<void> => {
      if (!health.available) return;
      try {
        await count();
      } catch (error) {
        if (!databaseUnavailable(error)) throw error;
      }
    };
    new Gauge({
      name: 'timebox_access_backlog',
      help: 'Access operations waiting to be carried out, and how many of those are failing (retrying).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        await fromDatabase(async () => {
          const [row] = await sql.query<{ waiting: number; failing: number }>(
            `SELECT count(*) FILTER (WHERE due_at IS NOT NULL)::int AS waiting,
                    count(*) FILTER (WHERE due_at IS NOT NULL AND last_error IS NOT NULL)::int AS failing
               FROM access_tasks`,
          );
          this.set({ state: 'waiting' }, row?.waiting ?? 0);
          this.set({ state: 'failing' }, row?.failing ?? 0);
        });
      },
    });
    // Counted from the database at scrape time, so every instance reports the shared truth.
    new Gauge({
      name: 'timebox_active_grants',
      help: 'Grants active now.',
      registers: [this.registry],
      async collect() {
        await fromDatabase(async () => {
          const [row] = await sql.query<{ count: number }>(
            `SELECT count(*)::int AS count FROM grants WHERE status = 'active'`,
          );
          this.set(row?.count ?? 0);
        });
      },
    });
    new Gauge({
      name: 'timebox_pending_requests',
      help: 'Requests waiting for a decision (pending) or a seat (queued).',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        await fromDatabase(async () => {
          const rows = await sql.query<{ status: string; count: number }>(
            `SELECT status, count(*)::int AS count FROM requests WHERE status IN ('pending', 'queued') GROUP BY status`,
          );
          this.reset();
          this.set({ status: 'pending' }, 0);
          this.set({ status: 'queued' }, 0);
          for (const row of rows) this.set({ status: row.status }, row.count);
        });
      },
    });
  }

  /** Whether the database answers, its outages and the wait for a connection, from this instance. */
  private databaseSeries(health: DatabaseHealth): void {
    new Gauge({
      name: 'timebox_database_available',
      help: 'Whether the database answers (1) or the service answers 503 database_unavailable (0).',
      registers: [this.registry],
      collect() {
        this.set(health.available ? 1 : 0);
      },
    });
    new Counter({
      name: 'timebox_database_unavailable_seconds_total',
      help: 'Time the database was unavailable to this instance, the current outage included.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(health.unavailableSeconds());
      },
    });
    new Counter({
      name: 'timebox_database_reconnects_total',
      help: 'Outages this instance recovered from: the database answered again after it had not.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(health.reconnects);
      },
    });
    new Gauge({
      name: 'timebox_database_pool_waiting',
      help: 'Callers waiting for a database connection from the pool.',
      registers: [this.registry],
      collect() {
        this.set(health.poolWaiting);
      },
    });
  }
}
