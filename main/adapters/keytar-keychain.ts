import keytar from 'keytar';
import { KeychainUnavailableError, type Keychain } from '../core/keychain.js';

/** The service name every Timebox entry is filed under. */
export const KEYCHAIN_SERVICE = 'Timebox';

/**
 * Keychain calls run one at a time, process-wide. keytar's findCredentials dereferences a NULL secret
 * when an item is deleted while it searches (keytar_posix.cc: strdup(secret_value_get_text(secret))), which
 * kills the process; our own sweep (a search) and a wipe (a delete) can otherwise overlap.
 */
let previous: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(operation: () => Promise<T>): Promise<T> {
  const next = previous.then(operation, operation);
  previous = next.catch(() => undefined);
  return next;
}

/**
 * The OS keychain through keytar (an N-API module: the same build loads in Node and in Electron). Any
 * failure of the keychain itself (no Secret Service, a locked keyring, a refused prompt) becomes
 * KeychainUnavailableError, which says what to do: Timebox never falls back to storing secrets elsewhere.
 */
export function keytarKeychain(service: string = KEYCHAIN_SERVICE): Keychain {
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await oneAtATime(operation);
    } catch (error) {
      throw new KeychainUnavailableError(error instanceof Error ? error.message : String(error));
    }
  };
  return {
    get: (account) => guarded(() => keytar.getPassword(service, account)),
    set: (account, secret) => guarded(() => keytar.setPassword(service, account, secret)),
    delete: (account) => guarded(() => keytar.deletePassword(service, account)),
    accounts: async () =>
      (await guarded(() => keytar.findCredentials(service))).map((credential) => credential.account),
  };
}
