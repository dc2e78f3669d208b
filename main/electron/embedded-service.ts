import { join } from 'node:path';
import { createService, demoPolicy } from '../../server/index.js';
import type { CoreLogger, TimeboxCore } from '../core/timebox.js';

/** The demo engineer the app signs in as when it runs the demo service itself. */
export const DEMO_USERNAME = 'alice';

export interface EmbeddedService {
  readonly url: string;
  /** Drains the service; rejects when it has not stopped within its deadline, so the app quits anyway. */
  close(): Promise<void>;
}

/** How long the app's quit waits for the embedded service, as the server command's shutdownTimeout. */
export const EMBEDDED_STOP_TIMEOUT_MS = 10_000;

/** Every demo user's password: TIMEBOX_DEMO_PASSWORD when set and not empty, else "demo". */
export function demoPassword(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.TIMEBOX_DEMO_PASSWORD?.trim();
  return fromEnv ? fromEnv : 'demo';
}

/**
 * The grant service with the demo organisation, inside the app: PGlite under `userDataDir`, listening on
 * a free loopback port. Used while no service URL is configured, so the app works out of the box.
 */
export async function startEmbeddedService(options: {
  readonly userDataDir: string;
  readonly password: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stopTimeoutMs?: number;
}): Promise<EmbeddedService> {
  const service = await createService({
    policy: await demoPolicy(options.password, options.env),
    databaseUrl: null,
    dataDir: join(options.userDataDir, 'demo-service'),
    logger: { level: 'warn' },
    // Nobody scrapes the tray app's /metrics, and the process series would wake the app every 10 ms.
    processMetrics: false,
  });
  const url = await service.listen(0, '127.0.0.1');
  const stopTimeoutMs = options.stopTimeoutMs ?? EMBEDDED_STOP_TIMEOUT_MS;
  return {
    url,
    // A request that never finishes (a client sending its body slowly) would hold the drain, and with it
    // the app's quit, until Node's request timeout (5 minutes).
    close: () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`the embedded service did not stop within ${stopTimeoutMs / 1000} s`));
        }, stopTimeoutMs);
        service.close().then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }),
  };
}

/** Signs in as the demo engineer, unless a session is already there (resumed from the keychain). */
export async function signInAsDemoEngineer(
  core: Pick<TimeboxCore, 'store' | 'signIn'>,
  password: string,
  log: CoreLogger,
): Promise<void> {
  const { service, session } = core.store.state;
  if (!service.embedded || session.status === 'signed-in') return;
  try {
    const outcome = await core.signIn({ username: DEMO_USERNAME, password });
    log.info({ username: DEMO_USERNAME, status: outcome.status }, 'signed in to the embedded demo service');
  } catch (error) {
    log.warn(
      { username: DEMO_USERNAME, error: error instanceof Error ? error.message : String(error) },
      'could not sign in to the embedded demo service',
    );
  }
}
