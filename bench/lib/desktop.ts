import { systemDesktopClock, type DesktopClock } from '../../main/core/clock.js';
import type { Notice } from '../../main/core/notifications.js';
import { readStoredSettings, type StoredSettings } from '../../main/core/settings.js';
import { TimeboxCore } from '../../main/core/timebox.js';
import { BENCH_PASSWORD } from './policy.js';
import { memoryKeychain } from '../../test/support/desktop.js';

/**
 * The desktop core as the app runs it, minus Electron, for the bench: real fetch, the system clock (or
 * one that counts timers), settings in memory and a keychain in memory. The bench measures latency and
 * memory, not the OS keychain (which has its own tests).
 */

/** Which part of the core armed a timer: the first main/core file on the stack. */
function armedBy(stack: string | undefined): string {
  return /main[\\/]core[\\/]([\w-]+)\.ts/.exec(stack ?? '')?.[1] ?? 'elsewhere';
}

/** The system clock, keeping count of the timers armed and not yet fired or cancelled, by who armed them. */
export class CountingClock implements DesktopClock {
  private readonly armed = new Map<number, string>();
  private created = 0;

  now(): number {
    return systemDesktopClock.now();
  }

  monotonic(): number {
    return systemDesktopClock.monotonic();
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const id = this.created++;
    this.armed.set(id, armedBy(new Error().stack));
    const cancel = systemDesktopClock.setTimer(() => {
      this.armed.delete(id);
      callback();
    }, delayMs);
    return () => {
      this.armed.delete(id);
      cancel();
    };
  }

  /** Timers pending now, by the core file that armed them. */
  pending(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const owner of this.armed.values()) counts[owner] = (counts[owner] ?? 0) + 1;
    return counts;
  }
}

export interface ShownNotice {
  readonly notice: Notice;
  /** performance.now() when the core handed it to its Notifier. */
  readonly at: number;
}

export interface BenchDesktop {
  readonly core: TimeboxCore;
  readonly keychain: ReturnType<typeof memoryKeychain>;
  /** Called for every notice the core shows, as it shows it. */
  onNotice(listener: (shown: ShownNotice) => void): () => void;
  readonly warnings: string[];
  stop(): Promise<void>;
}

export async function startBenchDesktop(options: {
  readonly serviceUrl: string;
  readonly clock?: DesktopClock;
  /** The notification policy's coalescing window; the app's default (800 ms) when absent. */
  readonly coalesceMs?: number;
  readonly settings?: Partial<StoredSettings>;
}): Promise<BenchDesktop> {
  let current = readStoredSettings({ serviceUrl: options.serviceUrl, ...options.settings });
  const listeners = new Set<(shown: ShownNotice) => void>();
  const warnings: string[] = [];
  const keychain = memoryKeychain();
  const core = new TimeboxCore({
    clock: options.clock ?? systemDesktopClock,
    fetch,
    keychain,
    settings: {
      read: () => current,
      write: (next) => {
        current = next;
      },
    },
    notifier: {
      show: (notice) => {
        const shown = { notice, at: performance.now() };
        for (const listener of listeners) listener(shown);
      },
    },
    log: {
      info: () => undefined,
      warn: (_details, message) => {
        warnings.push(message);
      },
    },
    ...(options.coalesceMs === undefined ? {} : { coalesceMs: options.coalesceMs }),
  });
  await core.start();
  return {
    core,
    keychain,
    onNotice(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    warnings,
    stop: () => core.stop(),
  };
}

/** Polls until `condition` holds; fails after `timeoutMs` naming what it waited for. */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Signs the desktop in and waits until its event stream is live and its first resync has loaded. */
export async function signInLive(desktop: BenchDesktop, username: string, timeoutMs?: number): Promise<void> {
  await desktop.core.signIn({ username, password: BENCH_PASSWORD });
  const state = () => desktop.core.store.state;
  await until(
    () => state().connection.status === 'live' && state().catalog.length > 0,
    `${username}'s live connection`,
    timeoutMs,
  );
}
