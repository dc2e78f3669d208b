import { execFile } from 'node:child_process';

/**
 * What the Linux Secret Service (GNOME Keyring, KWallet) says about the lock of our entries, asked over
 * D-Bus before keytar is called: keytar's search dereferences the missing secret of a locked item and
 * kills the process (SIGSEGV), and its delete answers "nothing there" on a locked collection.
 *
 * It asks through `gdbus` (GLib's D-Bus tool, installed with GLib on every desktop that runs a Secret
 * Service) as a child process with a timeout, not through a D-Bus library: no new native or JavaScript
 * dependency, nothing kept open, and a bus that disappears costs one failed call instead of a connection
 * to recover. The bus is read from the environment at every call, so tests can point it at a private one.
 */
export interface SecretServiceLock {
  /** Whether keytar may be called for `service`: the default collection and every one of its items unlocked. */
  locked(service: string): Promise<boolean>;
  /** How many items are filed under `service` and `account`, locked or not. */
  count(service: string, account: string): Promise<number>;
}

/** gdbus is not installed: the lock cannot be checked here. */
export class LockCheckUnavailableError extends Error {
  constructor() {
    super(
      'gdbus is not installed (GLib\u2019s libglib2.0-bin), so the keyring\u2019s lock cannot be checked',
    );
    this.name = 'LockCheckUnavailableError';
  }
}

/** The Secret Service did not answer on the session bus (no bus, no keyring daemon, a timeout). */
export class SecretServiceUnreachableError extends Error {
  constructor(detail: string) {
    super(`the Secret Service does not answer on D-Bus (${detail})`);
    this.name = 'SecretServiceUnreachableError';
  }
}

const SECRETS = 'org.freedesktop.secrets';
const SERVICE_PATH = '/org/freedesktop/secrets';
/** GNOME Keyring and KWallet export each alias as an object: the collection new items go to. */
const DEFAULT_COLLECTION = '/org/freedesktop/secrets/aliases/default';
const NO_SUCH_OBJECT = /UnknownObject|UnknownMethod|NoSuchObject|Object does not exist/;

export interface GdbusOptions {
  /** The environment of each call (DBUS_SESSION_BUS_ADDRESS above all); process.env by default. */
  readonly environment?: () => NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

export function gdbusSecretServiceLock(options: GdbusOptions = {}): SecretServiceLock {
  const environment = options.environment ?? (() => process.env);
  const timeoutMs = options.timeoutMs ?? 5000;

  const call = (objectPath: string, method: string, ...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        'gdbus',
        ['call', '--session', '--dest', SECRETS, '--object-path', objectPath, '--method', method, ...args],
        { env: environment(), timeout: timeoutMs, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          if (!error) {
            resolve(stdout);
            return;
          }
          if ('code' in error && error.code === 'ENOENT') reject(new LockCheckUnavailableError());
          else if (error.killed)
            reject(new SecretServiceUnreachableError(`no answer within ${timeoutMs} ms`));
          else reject(new SecretServiceUnreachableError(firstLine(stderr) || error.message));
        },
      );
    });

  /** Items matching the attributes: [unlocked, locked]. */
  const search = async (attributes: Record<string, string>): Promise<[number, number]> => {
    const dictionary = Object.entries(attributes)
      .map(([key, value]) => `${quoted(key)}: ${quoted(value)}`)
      .join(', ');
    const answer = await call(SERVICE_PATH, 'org.freedesktop.Secret.Service.SearchItems', `{${dictionary}}`);
    // "([objectpath '/…/1'], @ao [])": object paths hold neither ']' nor quotes, so the first ']' ends
    // the unlocked list.
    const end = answer.indexOf(']');
    return [objectPaths(answer.slice(0, end)), objectPaths(answer.slice(end + 1))];
  };

  const defaultCollectionLocked = async (): Promise<boolean> => {
    try {
      const answer = await call(
        DEFAULT_COLLECTION,
        'org.freedesktop.DBus.Properties.Get',
        'org.freedesktop.Secret.Collection',
        'Locked',
      );
      return answer.includes('true');
    } catch (error) {
      // No default collection yet: the first store creates it (and the OS asks for its password).
      if (error instanceof SecretServiceUnreachableError && NO_SUCH_OBJECT.test(error.message)) return false;
      throw error;
    }
  };

  return {
    async locked(service) {
      const [collectionLocked, [, lockedItems]] = await Promise.all([
        defaultCollectionLocked(),
        search({ service }),
      ]);
      return collectionLocked || lockedItems > 0;
    },
    async count(service, account) {
      const [unlocked, locked] = await search({ service, account });
      return unlocked + locked;
    },
  };
}

/** A GVariant string literal. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** How many object paths a GVariant array holds: "[objectpath '/a', '/b']" names its type once. */
function objectPaths(text: string): number {
  return text.match(/'\//g)?.length ?? 0;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
