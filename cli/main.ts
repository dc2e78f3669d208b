import { readFileSync } from 'node:fs';
import { KeychainUnavailableError, type Keychain } from '../keychain/keychain.js';
import { CLI_KEYCHAIN_SERVICE } from './session-store.js';
import { run } from './program.js';

/** The package's version, from the package.json the build writes beside this file. */
function version(): string {
  try {
    const text = readFileSync(new URL('./package.json', import.meta.url), 'utf8');
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' &&
      parsed !== null &&
      'version' in parsed &&
      typeof parsed.version === 'string'
      ? parsed.version
      : 'unknown';
  } catch {
    return 'unknown';
  }
}

let keychain: Promise<Keychain> | null = null;
/** keytar is a native module: loaded only by the commands that use the keychain. */
function openKeychain(): Promise<Keychain> {
  keychain ??= import('../keychain/keytar-keychain.js').then(
    ({ keytarKeychain }) =>
      keytarKeychain(process.env.TIMEBOX_KEYCHAIN_SERVICE?.trim() || CLI_KEYCHAIN_SERVICE),
    (error: unknown) => {
      // keytar is an optional dependency: without it there is no keychain, and no plaintext fallback.
      throw new KeychainUnavailableError(
        `the keychain module could not be loaded: ${error instanceof Error ? error.message : String(error)}; set TIMEBOX_TOKEN instead`,
      );
    },
  );
  return keychain;
}

process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  keychain: openKeychain,
  version: version(),
});
