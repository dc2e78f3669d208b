import { UserError } from '../api/errors.js';

/**
 * The operating system's keychain (macOS Keychain, Windows Credential Manager, the Secret Service on
 * Linux), narrowed to what Timebox needs. Every entry lives under one service name, one account each.
 * Shared by the desktop app and the `timebox` command, which keep their entries under different services.
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
  constructor(
    cause: string,
    code = 'keychain_unavailable',
    message = `No system keychain is available (${cause}). Timebox keeps credentials only in the keychain: unlock or start one (on Linux, GNOME Keyring or KWallet) and try again.`,
  ) {
    super(code, message);
    this.name = 'KeychainUnavailableError';
  }
}

/**
 * The keychain is there but locked (a screen lock, a keyring never unlocked since login). Nothing can be
 * read, stored or removed until it is unlocked; Timebox checks the lock first and never calls into a
 * locked keychain (keytar crashes the process searching one, and answers a delete with "nothing there").
 */
export class KeychainLockedError extends KeychainUnavailableError {
  constructor(what = 'Your keychain is locked') {
    super(
      what,
      'keychain_locked',
      `${what}. Unlock it (on Linux, the login keyring) and Timebox carries on: credentials it could not store or remove are stored or removed then.`,
    );
    this.name = 'KeychainLockedError';
  }
}
