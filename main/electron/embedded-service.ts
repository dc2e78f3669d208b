import { join } from 'node:path';
import { createService, demoPolicy } from '../../server/index.js';
import type { CoreLogger, TimeboxCore } from '../core/timebox.js';

/** The demo engineer the app signs in as when it runs the demo service itself. */
export const DEMO_USERNAME = 'alice';

export interface EmbeddedService {
  readonly url: string;
  close(): Promise<void>;
}

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
  return { url, close: () => service.close() };
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
