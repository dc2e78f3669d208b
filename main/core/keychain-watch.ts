import type { DesktopClock } from './clock.js';

/** How often the keychain is asked again while something waits for it. */
export const KEYCHAIN_POLL_MS = 5000;

/**
 * Asks the keychain again, every few seconds, while something waits for it: a locked or vanished
 * keychain at start, or an ended grant's credential that could not be removed. Polling, not a D-Bus
 * signal, because the same watch serves every platform and costs nothing while nothing waits; each
 * `attempt` answers whether anything still waits, and the watch stops when nothing does.
 */
export class KeychainWatch {
  private cancel: (() => void) | null = null;
  private running = false;
  private stopped = false;

  constructor(
    private readonly clock: DesktopClock,
    private readonly attempt: () => Promise<boolean>,
    private readonly intervalMs = KEYCHAIN_POLL_MS,
  ) {}

  /** Starts watching, unless it already does. */
  ensure(): void {
    if (this.stopped || this.cancel || this.running) return;
    this.cancel = this.clock.setTimer(() => {
      this.cancel = null;
      void this.tick();
    }, this.intervalMs);
  }

  get watching(): boolean {
    return this.cancel !== null || this.running;
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  private async tick(): Promise<void> {
    this.running = true;
    let again = true;
    try {
      again = await this.attempt();
    } catch {
      // attempt reports its own failures in the state; the watch only decides whether to ask again.
    } finally {
      this.running = false;
    }
    if (again) this.ensure();
  }
}
