import { sessionBus, type DBusClient, type DBusMethodCall } from '@homebridge/dbus-native';
import type { KeychainUnlocker } from '../core/keychain-unlock.js';

/**
 * Asks the Secret Service (GNOME Keyring, KWallet) to unlock the default collection. gnome-keyring ties
 * the prompt Unlock returns to the D-Bus connection that asked: that same connection must call
 * Prompt.Prompt and wait for its Completed signal, which one-shot `gdbus` calls cannot do. So this holds
 * one connection (@homebridge/dbus-native: plain JavaScript, no native build for Node or Electron,
 * maintained) for one unlock, and closes it whatever the outcome.
 */
export interface SecretServiceUnlockOptions {
  /** The environment of each unlock (DBUS_SESSION_BUS_ADDRESS); process.env by default. */
  readonly environment?: () => NodeJS.ProcessEnv;
  /** How long a person has to answer the prompt. */
  readonly promptTimeoutMs?: number;
  /** How long the service has to answer each call. */
  readonly callTimeoutMs?: number;
}

const SECRETS = 'org.freedesktop.secrets';
const SERVICE_PATH = '/org/freedesktop/secrets';
const SERVICE = 'org.freedesktop.Secret.Service';
const PROMPT = 'org.freedesktop.Secret.Prompt';
/** The Secret Service's "no object": no prompt needed, or no such alias. */
const NONE = '/';

class BusError extends Error {}
class NoPromptError extends Error {}

export function secretServiceUnlocker(options: SecretServiceUnlockOptions = {}): KeychainUnlocker {
  const environment = options.environment ?? (() => process.env);
  const promptTimeoutMs = options.promptTimeoutMs ?? 120_000;
  const callTimeoutMs = options.callTimeoutMs ?? 5000;

  return {
    async unlock() {
      const address = environment().DBUS_SESSION_BUS_ADDRESS;
      if (!address) return { outcome: 'unavailable', detail: 'no D-Bus session bus in this session' };
      let connection: Connection;
      try {
        connection = new Connection(sessionBus({ busAddress: address }), callTimeoutMs);
      } catch (error) {
        return { outcome: 'unavailable', detail: messageOf(error) };
      }
      try {
        // The default collection (where keytar keeps our entries); without one, every collection.
        const alias = await connection.defaultCollection();
        const collections = alias === NONE ? await connection.collections() : [alias];
        const prompt = await connection.unlock(collections);
        if (prompt !== NONE) {
          const completed = await connection.prompt(prompt, promptTimeoutMs);
          if (completed === 'timed-out') return { outcome: 'timed-out', detail: null };
          if (completed === 'dismissed') return { outcome: 'dismissed', detail: null };
        }
        // Said unlocked only once every collection asked for says so.
        for (const collection of collections)
          if (await connection.locked(collection)) return { outcome: 'dismissed', detail: null };
        return { outcome: 'unlocked', detail: null };
      } catch (error) {
        if (error instanceof NoPromptError) return { outcome: 'no-prompt', detail: error.message };
        return { outcome: 'unavailable', detail: messageOf(error) };
      } finally {
        connection.close();
      }
    },
  };
}

/** One connection to the session bus, failing every pending call once it errors or ends. */
class Connection {
  private failure: Error | null = null;
  private readonly pending = new Set<(error: Error) => void>();

  constructor(
    private readonly bus: DBusClient,
    private readonly callTimeoutMs: number,
  ) {
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const reject of [...this.pending]) reject(this.failure);
    };
    bus.connection.on('error', (error: unknown) => {
      fail(new BusError(messageOf(error)));
    });
    bus.connection.on('end', () => {
      fail(new BusError('the bus closed the connection'));
    });
  }

  /** Waits for `start` to settle, or rejects when the bus fails or `timeoutMs` passes. */
  private guarded<T>(
    timeoutMs: number,
    onTimeout: () => T | Error,
    start: (settle: (result: T | Error) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      const finish = (result: T | Error) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const fail = (error: Error) => {
        finish(error);
      };
      const timer = setTimeout(() => {
        finish(onTimeout());
      }, timeoutMs);
      this.pending.add(fail);
      start(finish);
    });
  }

  private call(message: DBusMethodCall): Promise<unknown[]> {
    return this.guarded<unknown[]>(
      this.callTimeoutMs,
      () => new BusError(`no answer to ${message.member} within ${this.callTimeoutMs} ms`),
      (settle) => {
        this.bus.invoke(message, (error, ...body) => {
          settle(error ? new BusError(`${error.name}: ${error.message}`) : body);
        });
      },
    );
  }

  async defaultCollection(): Promise<string> {
    const [path] = await this.call({
      destination: SECRETS,
      path: SERVICE_PATH,
      interface: SERVICE,
      member: 'ReadAlias',
      signature: 's',
      body: ['default'],
    });
    return typeof path === 'string' ? path : NONE;
  }

  async collections(): Promise<string[]> {
    const [variant] = await this.call({
      destination: SECRETS,
      path: SERVICE_PATH,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [SERVICE, 'Collections'],
    });
    const paths: unknown = Array.isArray(variant) && Array.isArray(variant[1]) ? variant[1][0] : [];
    return Array.isArray(paths) ? paths.filter((path): path is string => typeof path === 'string') : [];
  }

  /** Unlock's prompt, or "/" when none is needed. */
  async unlock(collections: readonly string[]): Promise<string> {
    const [, prompt] = await this.call({
      destination: SECRETS,
      path: SERVICE_PATH,
      interface: SERVICE,
      member: 'Unlock',
      signature: 'ao',
      body: [collections],
    });
    return typeof prompt === 'string' ? prompt : NONE;
  }

  async locked(collection: string): Promise<boolean> {
    const [variant] = await this.call({
      destination: SECRETS,
      path: collection,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: ['org.freedesktop.Secret.Collection', 'Locked'],
    });
    // A variant arrives as [signature, [value]].
    return !(Array.isArray(variant) && Array.isArray(variant[1]) && variant[1][0] === false);
  }

  /** Shows the prompt and waits for the person: Completed(dismissed, result), or the timeout. */
  async prompt(path: string, timeoutMs: number): Promise<'completed' | 'dismissed' | 'timed-out'> {
    const signal = this.bus.mangle(path, PROMPT, 'Completed');
    await this.guarded<null>(
      this.callTimeoutMs,
      () => new BusError('no answer to AddMatch'),
      (settle) => {
        this.bus.addMatch(
          `type='signal',interface='${PROMPT}',member='Completed',path='${path}'`,
          (error) => {
            settle(error ? new BusError(`${error.name}: ${error.message}`) : null);
          },
        );
      },
    );
    let settleCompleted: (answer: 'completed' | 'dismissed') => void = () => undefined;
    const onCompleted = (body: unknown[]) => {
      settleCompleted(body[0] === true ? 'dismissed' : 'completed');
    };
    this.bus.signals.on(signal, onCompleted);
    const completed = this.guarded<'completed' | 'dismissed' | 'timed-out'>(
      timeoutMs,
      () => 'timed-out',
      (settle) => {
        settleCompleted = settle;
      },
    );
    // Awaited below only once the prompt is shown; until then a closing bus must not leave it unhandled.
    completed.catch(() => undefined);
    try {
      // Prompt answers at once; the person answers through Completed. An empty window id: no parent window.
      await this.call({
        destination: SECRETS,
        path,
        interface: PROMPT,
        member: 'Prompt',
        signature: 's',
        body: [''],
      }).catch((error: unknown) => {
        throw new NoPromptError(messageOf(error));
      });
      const answer = await completed;
      if (answer === 'timed-out') {
        // The prompt goes away with the person's chance to answer it.
        await this.call({ destination: SECRETS, path, interface: PROMPT, member: 'Dismiss' }).catch(
          () => undefined,
        );
      }
      return answer;
    } finally {
      this.bus.signals.off(signal, onCompleted);
    }
  }

  close(): void {
    this.failure ??= new BusError('closed');
    for (const reject of [...this.pending]) reject(this.failure);
    this.bus.connection.end();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
