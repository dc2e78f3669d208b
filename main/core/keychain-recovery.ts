import type { DesktopClock } from './clock.js';
import type { KeychainUnlockResult } from '../../preload/contract.js';
import { KeychainUnavailableError } from '../../keychain/keychain.js';
import type { GrantCredentials } from './grant-credentials.js';
import { unlockResult, type KeychainUnlocker } from './keychain-unlock.js';
import { KeychainWatch } from './keychain-watch.js';
import type { Session } from './session.js';
import type { StateStore } from './state-store.js';

/**
 * What the core does about a keychain that is locked or missing: a start that meets one waits (the app
 * runs and says so), the watch asks again every few seconds while anything waits, and asking the OS to
 * unlock finishes what waited at once. Nothing here touches the keychain before its lock is checked:
 * keytar crashes searching a locked one.
 */
export class KeychainRecovery {
  /** start() met a locked or missing keychain: the start-up sweep and the saved session wait for it. */
  private startWaits = false;
  private readonly watch: KeychainWatch;

  constructor(
    clock: DesktopClock,
    private readonly store: StateStore,
    private readonly credentials: GrantCredentials,
    private readonly session: Session,
    private readonly unlocker: KeychainUnlocker | undefined,
  ) {
    this.watch = new KeychainWatch(clock, () => this.again());
  }

  /** Start-up: the credentials' sweep and the saved session, now or once the keychain answers. */
  async start(): Promise<void> {
    await this.credentials.probeKeychain();
    if (this.store.state.keychain.available) await this.startWithKeychain();
    else this.startWaits = true;
  }

  /** Something now waits for the keychain (a credential kept, a fetch refused): keep asking. */
  ensureWatching(): void {
    this.watch.ensure();
  }

  stop(): void {
    this.watch.stop();
  }

  /**
   * Asks the OS to unlock the keychain; once it is, what waited for it is finished now, not at the
   * watch's next look.
   */
  async unlock(): Promise<KeychainUnlockResult> {
    if (!this.unlocker) return unlockResult('not-offered');
    const { outcome, detail } = await this.unlocker.unlock();
    if (outcome !== 'unlocked') return unlockResult(outcome, detail);
    // Its failures are in the state, as when the watch asks (which goes on while anything still waits).
    await this.again().catch(() => undefined);
    // Unlocked as our own lock check sees it (the default collection and each of our entries), or not said.
    return unlockResult(this.store.state.keychain.available ? 'unlocked' : 'dismissed');
  }

  private async startWithKeychain(): Promise<void> {
    this.startWaits = false;
    await this.credentials.sweepExpired();
    // Signed in meanwhile (the token then lives in memory only): the saved session is not wanted.
    if (this.session.token !== null) return;
    try {
      await this.session.resume();
    } catch (error) {
      if (!(error instanceof KeychainUnavailableError)) throw error;
      this.startWaits = true; // locked again between the check and the read
      await this.credentials.probeKeychain();
    }
  }

  /**
   * The watch's attempt: when the keychain answers again, finish what waited for it (the start-up sweep
   * and saved session, credentials kept after their grants ended, credentials to fetch). Answers whether
   * anything still waits.
   */
  private async again(): Promise<boolean> {
    await this.credentials.probeKeychain();
    if (this.store.state.keychain.available) {
      if (this.startWaits) await this.startWithKeychain();
      await this.credentials.retryKept();
      if (this.store.state.session.status === 'signed-in') await this.credentials.reconcile();
    }
    return !this.store.state.keychain.available || this.startWaits || this.credentials.hasKept();
  }
}
