import { ClockOffsetEstimator } from '../api/clock-offset.js';
import type { Clock } from '../api/clock.js';
import { GrantClient } from '../api/grant-client.js';
import { KeychainLockedError, KeychainUnavailableError, type Keychain } from '../keychain/keychain.js';
import { CliError, EXIT, signInNeeded } from './exit-codes.js';
import { SessionStore, type StoredSession } from './session-store.js';

/**
 * Every network call gives up after this long (TIMEBOX_REQUEST_TIMEOUT seconds, 15 by default): a slow
 * service is a clear failure, never a hang.
 */
const DEFAULT_REQUEST_TIMEOUT_SECONDS = 15;

function requestTimeoutMs(env: NodeJS.ProcessEnv): number {
  const given = env.TIMEBOX_REQUEST_TIMEOUT?.trim();
  if (!given) return DEFAULT_REQUEST_TIMEOUT_SECONDS * 1000;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError(EXIT.usage, `TIMEBOX_REQUEST_TIMEOUT "${given}" is not a number of seconds.`);
  return seconds * 1000;
}

/** What the command takes from its surroundings; tests run the real binary, so these are the real ones. */
export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** The OS keychain, opened on first use: commands that need none never load the native module. */
  readonly keychain: () => Promise<Keychain>;
  readonly version: string;
}

/** The options every command takes. */
export interface GlobalOptions {
  readonly server?: string;
  readonly json?: boolean;
}

/** Where the session comes from: TIMEBOX_TOKEN (CI), else the keychain. */
export type SessionSource = 'environment' | 'keychain';

export interface SignedIn {
  readonly server: string;
  readonly client: GrantClient;
  readonly offset: ClockOffsetEstimator;
  readonly source: SessionSource;
  readonly token: string;
}

/** The service URL given with --server or TIMEBOX_SERVER, without a trailing slash; null when neither. */
export function serverOption(options: GlobalOptions, env: NodeJS.ProcessEnv): string | null {
  const given = options.server ?? env.TIMEBOX_SERVER;
  if (given === undefined || given.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(given.trim());
  } catch {
    throw new CliError(
      EXIT.usage,
      `"${given}" is not a URL; give the service's address, e.g. https://timebox.example.com`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(EXIT.usage, `"${given}" is not an http or https URL.`);
  return url.toString().replace(/\/+$/, '');
}

/**
 * The system clock with timers that keep the process alive: a retry's pause is all a command waits on
 * then (the desktop's clock unreferences its timers, and Node would exit in the middle of the pause).
 */
const commandClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    return () => {
      clearTimeout(timer);
    };
  },
};

export function createClient(
  environment: CliEnvironment,
  server: string,
  token: string | null,
): SignedInClient {
  const offset = new ClockOffsetEstimator();
  const timeoutMs = requestTimeoutMs(environment.env);
  const client = new GrantClient({
    baseUrl: () => server,
    token: () => token,
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    clock: commandClock,
    offset,
    // One quick retry: a person at a terminal would rather hear at once that the service is down.
    retry: { attempts: 2, baseDelayMs: 300, maxDelayMs: 1000 },
    userAgent: userAgentOf(environment),
  });
  return { client, offset };
}
/** Sent with every call (and the sign-in's code redemption): the service's session list shows it. */
export function userAgentOf(environment: CliEnvironment): string {
  return `timebox-cli/${environment.version} (${process.platform})`;
}

export interface SignedInClient {
  readonly client: GrantClient;
  readonly offset: ClockOffsetEstimator;
}

export function sessionStore(environment: CliEnvironment): Promise<SessionStore> {
  return environment.keychain().then((keychain) => new SessionStore(keychain));
}

/**
 * The session to call the service with. TIMEBOX_TOKEN wins (where there is no keychain, as in CI; it then
 * needs --server or TIMEBOX_SERVER); otherwise the session kept in the keychain, which must belong to the
 * service asked for, if one was.
 */
export async function signedIn(environment: CliEnvironment, options: GlobalOptions): Promise<SignedIn> {
  const server = serverOption(options, environment.env);
  const envToken = environment.env.TIMEBOX_TOKEN?.trim();
  if (envToken) {
    if (server === null)
      throw new CliError(
        EXIT.usage,
        'TIMEBOX_TOKEN is set: say which service it is for with --server or TIMEBOX_SERVER.',
      );
    return { server, token: envToken, source: 'environment', ...createClient(environment, server, envToken) };
  }
  let stored: StoredSession | null;
  try {
    stored = await (await sessionStore(environment)).read();
  } catch (error) {
    if (error instanceof KeychainUnavailableError && !(error instanceof KeychainLockedError))
      throw new CliError(EXIT.error, `${error.message} Where there is none (CI), set TIMEBOX_TOKEN instead.`);
    throw error;
  }
  if (stored === null || (server !== null && stored.server !== server)) throw signInNeeded(server);
  return {
    server: stored.server,
    token: stored.token,
    source: 'keychain',
    ...createClient(environment, stored.server, stored.token),
  };
}
