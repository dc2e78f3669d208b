import { privateKeyringPossible, startPrivateKeyring, type PrivateKeyring } from './private-keyring.js';

/**
 * Import this FIRST in a suite that locks, unlocks or kills a keyring: it starts a private one and points
 * this test process at it before anything calls keytar, whose libsecret binds to the session bus of its
 * first call for the life of the process (vitest runs each file in a process of its own). Null where the
 * tools are missing (the suite then says why it does not run).
 */
export const privateKeyring: PrivateKeyring | null = privateKeyringPossible
  ? await startPrivateKeyring()
  : null;

if (privateKeyring) {
  process.env.DBUS_SESSION_BUS_ADDRESS = privateKeyring.address;
  process.env.XDG_RUNTIME_DIR = privateKeyring.environment.XDG_RUNTIME_DIR;
  delete process.env.GNOME_KEYRING_CONTROL;
  process.once('exit', () => {
    privateKeyring.stop();
  });
} else if (process.env.CI === 'true') {
  throw new Error(
    'CI=true but dbus-daemon, gnome-keyring-daemon or gdbus is missing: the lock suites cannot run.',
  );
}
