import { UserError } from './errors.js';

/**
 * The operating system's keychain (macOS Keychain, Windows Credential Manager, the Secret Service on
 * Linux), narrowed to what Timebox needs. Every entry lives under one service name, one account each.
 */
export interface Keychain {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** true when there was an entry to delete. */
  delete(account: string): Promise<boolean>;
  /** Every account under our service name. */
  accounts(): Promise<string[]>;
}

/** There is no keychain to keep secrets in. Timebox then keeps none: there is no plaintext fallback. */
export class KeychainUnavailableError extends UserError {
  constructor(cause: string) {
    super(
      'keychain_unavailable',
      `No system keychain is available (${cause}). Timebox keeps credentials only in the keychain: unlock or start one (on Linux, GNOME Keyring or KWallet) and try again.`,
    );
    this.name = 'KeychainUnavailableError';
  }
}

export const SESSION_ACCOUNT = 'session';
export const grantAccount = (grantId: string): string => `grant:${grantId}`;
export const GRANT_ACCOUNT_PREFIX = 'grant:';
