import type { GrantState } from '../../preload/contract.js';
import type { GrantView } from '../../api/schemas.js';
import { messageOf, type CoreContext } from './core-context.js';
import { CredentialRenewal } from './credential-renewal.js';
import { DeadlineScheduler, type TrackedGrant } from './deadlines.js';
import { ServiceError } from '../../api/errors.js';
import { UserError } from '../../api/errors.js';
import { KeychainLockedError, KeychainUnavailableError } from '../../keychain/keychain.js';
import { newerGrant, upsert } from './merge.js';
import * as text from './notice-text.js';
import { POSTGRES_KIND } from '../../api/credential-kinds.js';
import type { VaultEntry } from './settings.js';
import type { StoredCredential } from './vault.js';

export const ENDED_GRANTS_KEPT = 20;

/** An ending grant as far as its credential is concerned: loaded from the service, or from the index alone. */
type EndingGrant = Pick<GrantView, 'id' | 'resourceId' | 'role' | 'endReason' | 'expiresAt'>;

const fromIndex = (entry: VaultEntry): EndingGrant => ({
  id: entry.grantId,
  resourceId: entry.resourceId,
  role: entry.role,
  endReason: 'expired',
  expiresAt: entry.expiresAt,
});

/**
 * Each grant's credential, kept in step with the grant: fetched into the keychain when it starts or is
 * extended, wiped when it ends (at its expiry on our corrected clock, whether or not the service
 * answers), and reminded of before it ends. The deadlines cover every grant loaded from the service and
 * every entry of the vault index, so a credential left by an earlier run goes on time even when this run
 * never reaches the service.
 */
export class GrantCredentials {
  private readonly fetches = new Map<string, Promise<void>>();
  /**
   * Active grants whose activation has been told (or is waiting for its fetch to be told). Several paths
   * can learn of one activation in either order (the request's answer, the stream, a resync), and it is
   * told once, by whichever comes first.
   */
  private readonly announced = new Set<string>();
  private readonly deadlines: DeadlineScheduler;
  private readonly renewal: CredentialRenewal;
  /** Ended grants whose credential could not be removed: removed, and told, once the keychain lets us. */
  private readonly kept = new Set<string>();

  /** `keychainTrouble`: the keychain refused (locked, gone); something now waits for it to come back. */
  constructor(
    private readonly core: CoreContext,
    private readonly keychainTrouble: () => void = () => undefined,
  ) {
    this.renewal = new CredentialRenewal(core, {
      trackDeadlines: () => {
        this.trackDeadlines();
      },
      setCredential: (grantId, credential, error, kind) => {
        this.setCredential(grantId, credential, error, kind);
      },
    });
    this.deadlines = new DeadlineScheduler(core.deps.clock, {
      reminder: (grantId, secondsLeft, lead) => {
        const grant = core.grant(grantId);
        if (grant) core.notify(text.expiring(core.noticeContext(), grant, secondsLeft, lead));
      },
      expired: (grantId) => {
        void this.endLocally(grantId);
      },
      renew: () => {
        this.renewal.renewDue();
      },
    });
  }

  /** Asks the keychain again whether it answers (it may have been unlocked since). */
  async probeKeychain(): Promise<void> {
    const probe = await this.core.vault.probe();
    this.core.store.update({
      keychain: probe.available
        ? { available: true, locked: false, message: null }
        : { available: false, locked: probe.locked, message: probe.message },
    });
    if (!probe.available) this.keychainTrouble();
  }

  /** Whether an ended grant's credential still waits to be removed. */
  hasKept(): boolean {
    return this.kept.size > 0;
  }

  /** Removes what could not be removed before (the keychain was locked or gone), and says so. */
  async retryKept(): Promise<void> {
    for (const grantId of [...this.kept]) {
      const entry = this.core.vault.entries().find((candidate) => candidate.grantId === grantId);
      if (!entry) {
        this.kept.delete(grantId); // wiped meanwhile (a sweep, a sync)
        continue;
      }
      await this.wipe(this.core.grant(grantId) ?? fromIndex(entry), 'late');
    }
  }

  /**
   * Start-up, before anything is known from the service: whatever expired while the app was closed goes
   * now. A keychain that refuses (locked meanwhile) keeps the index entries, for the next attempt.
   */
  async sweepExpired(): Promise<void> {
    const now = this.core.deps.clock.now() + this.core.offsetMs();
    try {
      const wiped = await this.core.vault.sweep((entry) => Date.parse(entry.expiresAt) > now);
      if (wiped.length > 0)
        this.core.deps.log.info(
          { wiped: wiped.length },
          'start-up sweep removed credentials of ended grants',
        );
    } catch (error) {
      this.core.deps.log.warn({ error: messageOf(error) }, 'the start-up sweep could not reach the keychain');
      this.refused(error);
    }
    this.trackDeadlines();
  }

  /** The credential from the keychain, for copy or an explicit reveal; fetched if it is not there yet. */
  async read(grantId: string): Promise<StoredCredential> {
    const { keychain } = this.core.store.state;
    if (!keychain.available) throw new KeychainUnavailableError(keychain.message ?? 'unavailable');
    const grant = this.core.grant(grantId);
    const now = this.core.deps.clock.now() + this.core.offsetMs();
    if (!grant || grant.status !== 'active' || Date.parse(grant.expiresAt) <= now) {
      throw new UserError(
        'grant_ended',
        'This grant has ended; its credential is gone. Request access again.',
      );
    }
    // A kept token past its own expiry (renewal could not reach the service) is renewed first.
    if (this.renewal.expired(grantId)) await this.renewal.renew([grant]);
    const stored = await this.core.vault.read(grantId);
    if (stored) return stored;
    await this.fetch(grant);
    const fetched = await this.core.vault.read(grantId);
    if (!fetched)
      throw new UserError(
        'credential_unavailable',
        this.core.grant(grantId)?.credentialError ?? 'The credential could not be fetched; try again.',
      );
    return fetched;
  }

  /**
   * Takes in a grant's news: keeps its credential in step (fetched, refreshed, wiped) and its deadlines.
   * `announce`: an activation is news to tell (it is told once the credential's fetch has settled).
   */
  learn(incoming: GrantView, options: { readonly announce?: boolean } = {}): void {
    const known = this.core.grant(incoming.id);
    const merged = known
      ? newerGrant(known, this.withCredential(incoming, known))
      : this.withCredential(incoming);
    this.core.store.update({
      grants: trimmed(upsert(this.core.store.state.grants, merged, newerGrant)),
    });
    if (merged.status === 'active') {
      if (merged.credential !== 'stored') void this.fetch(merged);
      else if (known?.expiresAt !== merged.expiresAt) void this.followExpiry(merged);
      if (known?.status !== 'active' && options.announce === true) this.announceActivated(merged.id);
    } else if (known?.status === 'active' || merged.credential === 'stored') {
      void this.wipe(merged, true);
    }
    this.trackDeadlines();
  }

  /**
   * Tells of an activation once its credential's fetch has settled, so the notice says where it is; a
   * second call for the same grant does nothing.
   */
  announceActivated(grantId: string): void {
    if (this.announced.has(grantId)) return;
    this.announced.add(grantId);
    void (this.fetches.get(grantId) ?? Promise.resolve()).then(() => {
      const grant = this.core.grant(grantId);
      if (grant?.status === 'active') this.core.notify(text.activated(this.core.noticeContext(), grant));
    });
  }

  /** After a full sync: wipe what is no longer active (ended while we were away), fetch what is missing. */
  async reconcile(): Promise<void> {
    if (!this.core.store.state.keychain.available) return;
    const active = new Map(
      this.core.store.state.grants
        .filter((grant) => grant.status === 'active')
        .map((grant) => [grant.id, grant]),
    );
    for (const entry of this.core.vault.entries()) {
      if (active.has(entry.grantId)) continue;
      const grant = this.core.grant(entry.grantId);
      // A grant the service no longer lists has ended, but how is unknown: wiped without a story.
      await this.wipe(grant ?? fromIndex(entry), grant !== undefined);
    }
    try {
      const orphans = await this.core.vault.sweep(() => true);
      if (orphans.length > 0)
        this.core.deps.log.info({ wiped: orphans.length }, 'removed keychain entries the index did not know');
    } catch (error) {
      this.core.deps.log.warn({ error: messageOf(error) }, 'could not sweep the keychain for strays');
    }
    const stored = new Set(this.core.vault.entries().map((entry) => entry.grantId));
    for (const grant of active.values()) if (!stored.has(grant.id)) void this.fetch(grant);
  }

  /**
   * Watches every active grant (its reminders and expiry) and every credential in the vault index whose
   * grant is not known to be active (its expiry alone), on the service's clock as far as it is known.
   */
  trackDeadlines(): void {
    const { grants, settings } = this.core.store.state;
    const active = grants.filter((grant) => grant.status === 'active');
    const activeIds = new Set(active.map((grant) => grant.id));
    // An ended grant is never active again, so nothing more about it can be told as an activation.
    for (const grantId of this.announced) if (!activeIds.has(grantId)) this.announced.delete(grantId);
    const entries = this.core.vault.entries();
    const indexed = new Map(entries.map((entry) => [entry.grantId, entry]));
    const tracked: TrackedGrant[] = [
      ...active.map((grant) => ({
        grantId: grant.id,
        startsAt: Date.parse(grant.startsAt),
        expiresAt: Date.parse(grant.expiresAt),
        renewAt: this.renewal.renewAt(grant, indexed.get(grant.id)),
      })),
      ...entries
        .filter((entry) => !activeIds.has(entry.grantId))
        .map((entry) => ({
          grantId: entry.grantId,
          startsAt: null,
          expiresAt: Date.parse(entry.expiresAt),
          renewAt: null,
        })),
    ];
    const offsetMs = this.core.offsetMs();
    this.deadlines.update(tracked, settings.reminderLeadsSeconds, offsetMs);
    if (this.core.store.state.clockOffsetMs !== offsetMs) this.core.store.update({ clockOffsetMs: offsetMs });
  }

  /** Re-arms the deadlines from wall time (after unlock, or a clock change). */
  rearm(): void {
    this.deadlines.rearm();
  }

  /** Sign-out: every credential goes, and nothing is watched any more. */
  async wipeAll(): Promise<void> {
    await this.core.vault.wipeAll().catch((error: unknown) => {
      this.core.deps.log.warn({ error: messageOf(error) }, 'could not wipe every credential at sign-out');
    });
    this.deadlines.stop();
    this.announced.clear();
  }

  async stop(): Promise<void> {
    this.deadlines.stop();
    await Promise.allSettled([...this.fetches.values(), this.renewal.settled()]);
  }

  /** A grant from the service, with where its credential stands here. */
  withCredential(grant: GrantView, known?: GrantState): GrantState {
    const stored = this.core.vault.entries().find((entry) => entry.grantId === grant.id);
    if (known) {
      const { credential, credentialError, credentialKind } = known;
      return { ...grant, credential, credentialError, credentialKind };
    }
    return {
      ...grant,
      credential: stored ? 'stored' : grant.status === 'active' ? 'none' : 'wiped',
      credentialError: null,
      credentialKind: stored?.kind ?? null,
    };
  }

  /** Expiry on our clock: wipe now, whether or not the service can be reached, and whether or not it is known. */
  private async endLocally(grantId: string): Promise<void> {
    const grant = this.core.grant(grantId);
    if (grant) {
      const ended: GrantState =
        grant.status === 'active'
          ? { ...grant, status: 'expired', endReason: 'expired', endedAt: grant.expiresAt }
          : grant;
      this.core.store.update({
        grants: trimmed(upsert(this.core.store.state.grants, ended, newerGrant)),
      });
      await this.wipe(ended, true);
      return;
    }
    const entry = this.core.vault.entries().find((candidate) => candidate.grantId === grantId);
    if (entry) await this.wipe(fromIndex(entry), true);
  }

  /**
   * Removes a grant's credential; `tell`: say so, in words that match what became of it ('late': only
   * when it is removed, the grant's end having been told already with the credential still kept).
   */
  private async wipe(grant: EndingGrant, telling: boolean | 'late'): Promise<void> {
    // Its end was told already, with the credential kept: what is news now is only its removal.
    const tell = telling === true && this.kept.has(grant.id) ? 'late' : telling;
    const indexed = this.core.vault.entries().some((entry) => entry.grantId === grant.id);
    let removal: text.CredentialRemoval;
    if (!indexed && !this.core.store.state.keychain.available) {
      removal = { outcome: 'none' }; // nothing was ever stored, and there is nowhere to look
    } else {
      try {
        const deleted = await this.core.vault.wipe(grant.id);
        removal = deleted || indexed ? { outcome: 'removed' } : { outcome: 'none' };
        if (removal.outcome === 'removed') this.setCredential(grant.id, 'wiped', null, null);
        this.kept.delete(grant.id);
      } catch (error) {
        this.core.deps.log.warn(
          { grantId: grant.id, error: messageOf(error) },
          'could not wipe a credential',
        );
        // The index keeps its entry: retried when the keychain answers again, and at every start.
        removal = indexed ? { outcome: 'failed', message: messageOf(error) } : { outcome: 'none' };
        if (indexed) {
          this.kept.add(grant.id);
          this.setCredential(
            grant.id,
            'kept',
            messageOf(error),
            this.core.grant(grant.id)?.credentialKind ?? null,
          );
        }
        this.refused(error);
      }
    }
    if (tell === true) this.core.notify(text.ended(this.core.noticeContext(), grant, removal));
    else if (tell === 'late' && removal.outcome === 'removed')
      this.core.notify(text.removedLate(this.core.noticeContext(), grant));
    this.trackDeadlines();
  }

  /** The keychain refused a call: the state says so (locked, or gone) and the watch waits for it. */
  private refused(error: unknown): void {
    if (error instanceof KeychainUnavailableError)
      this.core.store.update({
        keychain: {
          available: false,
          locked: error instanceof KeychainLockedError,
          message: error.message,
        },
      });
    this.keychainTrouble();
  }

  private fetch(grant: GrantState): Promise<void> {
    return this.oneAtATime(grant.id, () => this.fetchAndStore(grant));
  }

  /**
   * The grant's expiry moved (an extension). A token carries its expiry, so it is fetched again; a
   * database login is kept as it is, because the service moves its validity itself and every fetch sets
   * a new password (the one the user connected with would stop opening sessions).
   */
  private followExpiry(grant: GrantState): Promise<void> {
    if (grant.credentialKind !== POSTGRES_KIND) return this.fetch(grant);
    return this.oneAtATime(grant.id, async () => {
      try {
        if (!(await this.core.vault.restamp(grant))) {
          await this.fetchAndStore(grant); // gone from the keychain meanwhile: fetch one again
          return;
        }
        // It ended while it was moved: the copy must not outlive it.
        if (this.core.grant(grant.id)?.status !== 'active') await this.core.vault.wipe(grant.id);
      } catch (error) {
        // The keychain refused: the entry keeps its old expiry (the next start sweeps it early, at worst)
        // or, for an ended grant, its index entry, which the next sync or start wipes.
        this.core.deps.log.warn(
          { grantId: grant.id, error: messageOf(error) },
          'could not move a kept credential to its new expiry',
        );
      }
    });
  }

  /** One keychain change per grant at a time: a second caller waits for (and shares) the running one. */
  private oneAtATime(grantId: string, work: () => Promise<void>): Promise<void> {
    const running = this.fetches.get(grantId);
    if (running) return running;
    // The entry is removed in a later step (finally), never before it is recorded, even when the work
    // finishes at once: otherwise a finished fetch would stay recorded and block every later one.
    const working = work().finally(() => {
      this.fetches.delete(grantId);
    });
    this.fetches.set(grantId, working);
    return working;
  }

  private async fetchAndStore(grant: GrantState): Promise<void> {
    const { keychain } = this.core.store.state;
    if (!keychain.available) {
      this.setCredential(grant.id, 'failed', keychain.message, null);
      return;
    }
    this.setCredential(grant.id, 'fetching', null, null);
    try {
      const credential = await this.core.call(() => this.core.client.credential(grant.id));
      await this.core.vault.store(grant, credential);
      const current = this.core.grant(grant.id);
      // It ended while we fetched: the copy must not outlive it.
      if (!current || current.status !== 'active') await this.core.vault.wipe(grant.id);
      else this.setCredential(grant.id, 'stored', null, credential.kind);
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'grant_ended')
        this.setCredential(grant.id, 'none', null, null);
      else this.setCredential(grant.id, 'failed', messageOf(error), null);
    }
  }

  private setCredential(
    grantId: string,
    credential: GrantState['credential'],
    credentialError: string | null,
    credentialKind: string | null,
  ): void {
    this.core.store.update({
      grants: this.core.store.state.grants.map((grant) =>
        grant.id === grantId ? { ...grant, credential, credentialError, credentialKind } : grant,
      ),
    });
  }
}

/** Active grants, and the most recent ended ones. */
function trimmed(grants: GrantState[]): GrantState[] {
  const active = grants.filter((grant) => grant.status === 'active');
  const ended = grants.filter((grant) => grant.status !== 'active').slice(0, ENDED_GRANTS_KEPT);
  return [...active, ...ended];
}
