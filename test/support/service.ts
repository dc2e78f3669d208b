import {
  createService,
  demoPolicy,
  type TimeboxService,
  type IssuerFactory,
  type Policy,
} from '../../server/index.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { Api } from './http.js';
import { ManualClock } from './manual-clock.js';

let demo: Promise<Policy> | null = null;

/** The demo organisation with password "demo", parsed once per test file. */
export function demoOrganisation(): Promise<Policy> {
  demo ??= demoPolicy('demo', {});
  return demo;
}

export interface RunningService {
  readonly service: TimeboxService;
  readonly api: Api;
  readonly url: string;
  readonly clock: ManualClock;
  /** Moves the clock and waits until the scheduler has done everything that fell due. */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly kind: DatabaseKind;
  readonly policy?: Policy;
  readonly clock?: ManualClock;
  /** Reuse a database (restart and multi-instance tests); the caller drops it. */
  readonly database?: TestDatabase;
  /** PGlite data folder, for restart tests on PGlite. */
  readonly dataDir?: string;
  readonly heartbeatMs?: number;
  /** Credential issuers by resource kind, beside the built-in ones (plugins, stand-ins). */
  readonly issuers?: ReadonlyMap<string, IssuerFactory>;
  /** The process's own series in /metrics (the service's default: on). */
  readonly processMetrics?: boolean;
}

/**
 * Waits until the scheduler and the access operations it started are done, including the work that
 * their outcomes make due at once (a due timer fires on the next turn of the event loop).
 */
export async function settle(service: TimeboxService): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await service.scheduler.settled();
    await service.access.settled();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Starts the real service on a free port over a fresh database, with a manual clock. */
export async function startService(options: StartOptions): Promise<RunningService> {
  const clock = options.clock ?? new ManualClock();
  const database = options.database ?? (await createTestDatabase(options.kind));
  const service = await createService({
    policy: options.policy ?? (await demoOrganisation()),
    databaseUrl: database.url,
    dataDir: options.dataDir ?? null,
    clock,
    logger: false,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    ...(options.issuers ? { issuers: options.issuers } : {}),
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });
  const url = await service.listen(0, '127.0.0.1');
  // What start-up set going in the background (reconciling access outside the service) is done.
  await settle(service);
  return {
    service,
    api: new Api(url),
    url,
    clock,
    async advance(ms) {
      clock.advance(ms);
      await settle(service);
    },
    async stop() {
      await service.close();
      if (!options.database) await database.drop();
    },
  };
}
