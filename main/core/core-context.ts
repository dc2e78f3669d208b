import type { GrantState } from '../../preload/contract.js';
import type { ClockOffsetEstimator } from '../../api/clock-offset.js';
import type { DesktopClock } from './clock.js';
import type { GrantClient } from '../../api/grant-client.js';
import type { Keychain } from '../../keychain/keychain.js';
import type { KeychainUnlocker } from './keychain-unlock.js';
import type { NoticeContext } from './notice-text.js';
import type { Notice, Notifier } from './notifications.js';
import type { PsqlLauncher } from './psql.js';
import type { SettingsStore } from './settings.js';
import type { StateStore } from './state-store.js';
import type { CredentialVault } from './vault.js';

export interface CoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface CoreDeps {
  readonly clock: DesktopClock;
  readonly fetch: typeof fetch;
  readonly keychain: Keychain;
  readonly settings: SettingsStore;
  readonly notifier: Notifier;
  readonly log: CoreLogger;
  /** Opens psql in a terminal for a database login; without one, Open psql says to copy the URI instead. */
  readonly psql?: PsqlLauncher;
  /**
   * Asks the OS to unlock the keychain (Linux); absent where the OS asks by itself when the keychain is
   * used (macOS, Windows).
   */
  readonly unlocker?: KeychainUnlocker;
  /** Opens the system browser (shell.openExternal) for single sign-on; without one, SSO is refused. */
  readonly openBrowser?: (url: string) => Promise<void>;
  /** The embedded demo service, used while no service URL is configured. */
  readonly embeddedServiceUrl?: string | null;
  readonly random?: () => number;
  readonly pollEveryMs?: number;
  readonly coalesceMs?: number;
}

/**
 * What the core's parts (session, live sync, credentials) share: the state, the service client, the
 * vault, and a few helpers over them. TimeboxCore builds it once and hands it to each part.
 */
export interface CoreContext {
  readonly deps: CoreDeps;
  readonly store: StateStore;
  readonly client: GrantClient;
  readonly offset: ClockOffsetEstimator;
  readonly vault: CredentialVault;
  notify(notice: Notice): void;
  noticeContext(): NoticeContext;
  grant(grantId: string): GrantState | undefined;
  /** The signed-in user's id, or null. */
  me(): string | null;
  /**
   * Service time minus ours, in ms: the latest measurement, or the one before it while our clock is being
   * measured again after a jump; 0 (our own clock) until the service has answered once.
   */
  offsetMs(): number;
  /** Runs a service call; a session that ended on the way is handled once, for every caller. */
  call<T>(operation: () => Promise<T>): Promise<T>;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The JSON value of `text`, or undefined when it is not JSON (a schema then says what is wrong). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
