import keytar from 'keytar';
import { KeychainLockedError, KeychainUnavailableError, type Keychain } from './keychain.js';
import {
  gdbusSecretServiceLock,
  LockCheckUnavailableError,
  SecretServiceUnreachableError,
  type SecretServiceLock,
} from './secret-service-lock.js';

/** The service name every Timebox entry is filed under. */
export const KEYCHAIN_SERVICE = 'Timebox';

/** keytar runs on libuv's pool and cannot be cancelled: past this, the call is reported as failed. */
const KEYTAR_TIMEOUT_MS = 15_000;

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

export interface KeytarKeychainOptions {
  /**
   * Checks the lock before each call (Linux, over D-Bus); null where there is nothing to check (macOS and
   * Windows ask for the keychain's password themselves and fail a call they cannot make).
   */
  readonly lock?: SecretServiceLock | null;
  readonly timeoutMs?: number;
}

/**
 * The OS keychain through keytar (an N-API module: the same build loads in Node and in Electron). Any
 * failure of the keychain itself (no Secret Service, a locked keyring, a refused prompt) becomes
 * KeychainUnavailableError (KeychainLockedError for a lock), which says what to do: Timebox never falls
 * back to storing secrets elsewhere. On Linux the lock is checked over D-Bus before every call, because
 * keytar cannot be called safely on a locked collection; and a delete counts only once the entry is
 * checked to be gone, because keytar answers `false` ("there was none") when it could not delete.
 */
export function keytarKeychain(
  service: string = KEYCHAIN_SERVICE,
  options: KeytarKeychainOptions = {},
): Keychain {
  const lock =
    options.lock === undefined
      ? process.platform === 'linux'
        ? gdbusSecretServiceLock()
        : null
      : options.lock;
  const timeoutMs = options.timeoutMs ?? KEYTAR_TIMEOUT_MS;
  let lockCheckable = lock !== null;

  /** Refuses a locked or vanished keychain before keytar is called. */
  const unlocked = async (): Promise<void> => {
    if (!lock || !lockCheckable) return;
    try {
      if (await lock.locked(service)) throw new KeychainLockedError();
    } catch (error) {
      // Without gdbus nothing can be checked: keytar is called as it was before (documented in desktop.md).
      if (error instanceof LockCheckUnavailableError) lockCheckable = false;
      else if (error instanceof SecretServiceUnreachableError)
        throw new KeychainUnavailableError(error.message);
      else throw error;
    }
  };

  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await oneAtATime(async () => {
        await unlocked();
        return await withTimeout(operation(), timeoutMs);
      });
    } catch (error) {
      if (error instanceof KeychainUnavailableError) throw error;
      throw new KeychainUnavailableError(error instanceof Error ? error.message : String(error));
    }
  };

  /** Whether an entry is still there after a delete, asked without reading its secret where possible. */
  const stillThere = async (account: string): Promise<boolean> => {
    if (lock && lockCheckable) {
      try {
        return (await lock.count(service, account)) > 0;
      } catch (error) {
        if (!(error instanceof LockCheckUnavailableError)) throw error;
      }
    }
    return (await withTimeout(keytar.getPassword(service, account), timeoutMs)) !== null;
  };

  return {
    get: (account) => guarded(() => keytar.getPassword(service, account)),
    set: (account, secret) => guarded(() => keytar.setPassword(service, account, secret)),
    delete: (account) =>
      guarded(async () => {
        const deleted = await keytar.deletePassword(service, account);
        if (await stillThere(account)) {
          // Locked between the check and the delete, or refused: it was not removed, whatever keytar said.
          if (lock && lockCheckable && (await lock.locked(service))) throw new KeychainLockedError();
          throw new KeychainUnavailableError(`the keychain still holds ${account} after deleting it`);
        }
        return deleted;
      }),
    accounts: async () =>
      (await guarded(() => keytar.findCredentials(service))).map((credential) => credential.account),
  };
}

function withTimeout<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new KeychainUnavailableError(`the keychain did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  return Promise.race([operation, timeout]).finally(() => {
    clearTimeout(timer);
  });
}
