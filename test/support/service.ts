import {
  createService,
  demoPolicy,
  type TimeboxService,
  type IssuerFactory,
  type Policy,
  type ScryptCost,
  type DatabaseTimeouts,
  type LoginSamplerTiming,
} from '../../server/index.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { Api } from './http.js';
import { ManualClock } from './manual-clock.js';

let demo: Promise<Policy> | null = null;

/**
 * The scrypt cost of the suites' password hashes, and the one their services upgrade to: a sign-in at
 * OWASP's N = 2^17 takes 0.4 s of a core, and the suites sign in hundreds of times. The default cost has
 * its own tests (auth.test.ts, cli.test.ts).
 */
export const TEST_PASSWORD_COST: ScryptCost = { N: 2 ** 10, r: 8, p: 1 };

/**
 * The demo organisation with password "demo", parsed once per test file. Its sessions do not idle: the
 * suites move the clock by hours between one call and the next, which a person in a session would not
 * (the idle timeout's own tests set it).
 */
export function demoOrganisation(): Promise<Policy> {
  demo ??= demoPolicy('demo', {}, TEST_PASSWORD_COST).then((policy) => ({
    ...policy,
    service: { ...policy.service, idleTimeoutSeconds: policy.service.tokenTtlSeconds },
  }));
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
  /** The service's password cost; the suites' cheap one (TEST_PASSWORD_COST) by default. */
  readonly passwordCost?: ScryptCost;
  /** PostgreSQL's bounded waits (the service's defaults where not given). */
  readonly databaseTimeouts?: Partial<DatabaseTimeouts>;
  /** Proxies whose X-Forwarded-For the service believes (none by default). */
  readonly trustProxy?: readonly string[];
  /** How often and how long the use of database logins is sampled (the service's defaults where not given). */
  readonly loginSampling?: LoginSamplerTiming;
}

/**
 * Waits until the scheduler and the access operations it started are done, including the work that
 * their outcomes make due at once (a due timer fires on the next turn of the event loop).
 */
export async function settle(service: TimeboxService): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await service.scheduler.settled();
    await service.access.settled();
    await service.deliveries.settled();
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
    passwordCost: options.passwordCost ?? TEST_PASSWORD_COST,
    ...(options.issuers ? { issuers: options.issuers } : {}),
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
    ...(options.databaseTimeouts ? { databaseTimeouts: options.databaseTimeouts } : {}),
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    ...(options.loginSampling ? { loginSampling: options.loginSampling } : {}),
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
