import { randomBytes } from 'node:crypto';
import keytar from 'keytar';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import { KeychainUnavailableError, type Keychain } from '../../keychain/keychain.js';

/**
 * The real OS keychain for tests, each suite under a service name of its own. `npm test` runs inside a
 * private D-Bus session with GNOME Keyring (test/with-keyring.mjs). Without one, keychain suites report
 * why they cannot run; in CI that fails the run instead.
 */
async function probe(): Promise<string | null> {
  try {
    await keytar.findCredentials('Timebox-probe');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const problem = await probe();
if (problem !== null) {
  if (process.env.CI === 'true') {
    throw new Error(
      `CI=true but no Secret Service answers (${problem}): run the tests through test/with-keyring.mjs (npm test does).`,
    );
  }
  console.warn(
    `No OS keychain here (${problem}): keychain suites do not run. npm test provides one on Linux with gnome-keyring and dbus installed.`,
  );
}

export const keychainAvailable = problem === null;

/** A keychain under a fresh service name; `wipe()` removes whatever the test left in it. */
export function testKeychain(): Keychain & { readonly service: string; wipe(): Promise<void> } {
  const service = `Timebox-test-${randomBytes(4).toString('hex')}`;
  const keychain = keytarKeychain(service);
  return {
    ...keychain,
    service,
    async wipe() {
      for (const account of await keychain.accounts()) await keychain.delete(account);
    },
  };
}

/** A keychain that fails as keytar does without a Secret Service. */
export function missingKeychain(): Keychain {
  const fail = () =>
    Promise.reject(new KeychainUnavailableError('Cannot autolaunch D-Bus without X11 $DISPLAY'));
  return { get: fail, set: fail, delete: fail, accounts: fail };
}
