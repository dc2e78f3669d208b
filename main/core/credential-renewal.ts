import type { GrantState } from '../../preload/contract.js';
import { renewalDue } from '../../api/credential-renewal.js';
import { ServiceError } from '../../api/errors.js';
import { messageOf, type CoreContext } from './core-context.js';
import { POSTGRES_KIND } from '../../api/credential-kinds.js';
import type { VaultEntry } from './settings.js';
import type { StoredCredential } from './vault.js';

/**
 * One wake-up also renews every credential due within this window (or within its own lead, when that is
 * shorter, so a short-lived token is not renewed right after it was fetched): renewals come in batches.
 */
export const RENEW_BATCH_WINDOW_MS = 30_000;
/** After a renewal that failed (no network, a locked keychain), the next try. */
export const RENEW_RETRY_MS = 30_000;
/** Fetches in flight at once during a batch. */
const PARALLEL_FETCHES = 8;

export interface RenewalHooks {
  /** The deadlines follow the renewed credentials' new expiries. */
  trackDeadlines(): void;
  /** Where a grant's credential stands, as the windows show it. */
  setCredential(
    grantId: string,
    credential: GrantState['credential'],
    error: string | null,
    kind: string | null,
  ): void;
}

/**
 * Signed tokens live a few minutes (the role's credentialTtl), their grants hours: while a grant lives, its
 * token in the keychain is replaced by a fresh one before it stops working, in batches, with no change
 * anyone sees (the state the windows mirror is not touched while all goes well) and no new keychain entry
 * (the same entry is overwritten, so no new prompt). A database login lives as long as its grant and is
 * never renewed. A renewal that fails is tried again every 30 s; once the kept token has expired, the
 * grant says so until a renewal works.
 */
export class CredentialRenewal {
  private running: Promise<void> | null = null;
  private again = false;
  /** Grants whose last renewal failed: not before this time (service clock). */
  private readonly retryAt = new Map<string, number>();

  constructor(
    private readonly core: CoreContext,
    private readonly hooks: RenewalHooks,
  ) {}

  /** When an active grant's kept credential is to be renewed, on the service's clock; null for never. */
  renewAt(grant: Pick<GrantState, 'id' | 'expiresAt'>, entry: VaultEntry | undefined): number | null {
    return this.schedule(grant, entry)?.at ?? null;
  }

  /** When to renew, and how early a batch may take it (its lead, at most the batch window). */
  private schedule(
    grant: Pick<GrantState, 'id' | 'expiresAt'>,
    entry: VaultEntry | undefined,
  ): { at: number; earlyMs: number } | null {
    if (!entry || entry.kind === POSTGRES_KIND) return null;
    const retry = this.retryAt.get(grant.id) ?? 0;
    // A copy kept by an older version: how long it lives is unknown, so it is renewed now.
    if (entry.credentialExpiresAt === null) return { at: retry, earlyMs: 0 };
    const due = renewalDue(
      Date.parse(entry.credentialExpiresAt),
      Date.parse(entry.storedAt) + this.core.offsetMs(),
      Date.parse(grant.expiresAt),
    );
    if (due === null) return null; // it lasts as long as its grant
    return { at: Math.max(retry, due.atMs), earlyMs: Math.min(RENEW_BATCH_WINDOW_MS, due.leadMs) };
  }

  /** A renewal fell due: renews every credential due within the batch window, one batch at a time. */
  renewDue(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const now = this.serviceNow();
        const entries = new Map(this.core.vault.entries().map((entry) => [entry.grantId, entry]));
        const due = this.core.store.state.grants.filter((grant) => {
          // A first fetch in progress keeps its own copy in step.
          if (grant.status !== 'active' || grant.credential === 'fetching') return false;
          const schedule = this.schedule(grant, entries.get(grant.id));
          return schedule !== null && schedule.at <= now + schedule.earlyMs;
        });
        if (due.length > 0) await this.renew(due);
      } while (this.askedAgain());
    })().finally(() => {
      this.running = null;
    });
  }

  /** Renews these grants' credentials now: fetched, then kept in place of the old ones, the index once. */
  async renew(grants: readonly GrantState[]): Promise<void> {
    const fetched: StoredCredential[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_FETCHES, grants.length) }, async () => {
        for (let grant = grants[next++]; grant !== undefined; grant = grants[next++]) {
          try {
            fetched.push(await this.core.call(() => this.core.client.credential(grant.id)));
          } catch (error) {
            // An ended grant: its end (the stream, a resync, the local deadline) wipes what is kept.
            if (!(error instanceof ServiceError && error.code === 'grant_ended'))
              this.failed(grant.id, error);
          }
        }
      }),
    );
    const { renewed, failed } = await this.core.vault.renew(
      fetched.filter((credential) => this.core.grant(credential.grantId)?.status === 'active'),
    );
    for (const { grantId, error } of failed) this.failed(grantId, error);
    for (const grantId of renewed) {
      this.retryAt.delete(grantId);
      const grant = this.core.grant(grantId);
      // It ended while it was renewed: the fresh copy must not outlive it.
      if (grant?.status !== 'active') await this.core.vault.wipe(grantId).catch(() => false);
      else if (grant.credential !== 'stored')
        this.hooks.setCredential(grantId, 'stored', null, grant.credentialKind);
    }
    this.hooks.trackDeadlines();
  }

  /** Read after a batch: renewDue() may have asked meanwhile (TypeScript cannot see that through the awaits). */
  private askedAgain(): boolean {
    return this.again;
  }

  /** Whether the kept copy of this grant's credential has stopped working. */
  expired(grantId: string): boolean {
    const entry = this.core.vault.entries().find((candidate) => candidate.grantId === grantId);
    const expiresAt = entry?.credentialExpiresAt;
    return expiresAt !== undefined && expiresAt !== null && Date.parse(expiresAt) <= this.serviceNow();
  }

  /** Waits for a batch in progress (at stop). */
  async settled(): Promise<void> {
    await this.running;
  }

  private failed(grantId: string, error: unknown): void {
    this.retryAt.set(grantId, this.serviceNow() + RENEW_RETRY_MS);
    this.core.deps.log.warn({ grantId, error: messageOf(error) }, 'could not renew a credential');
    const grant = this.core.grant(grantId);
    if (grant?.status === 'active' && this.expired(grantId)) {
      this.hooks.setCredential(
        grantId,
        'failed',
        `Its credential expired and could not be renewed (${messageOf(error)}); trying again every 30 seconds.`,
        grant.credentialKind,
      );
    }
  }

  private serviceNow(): number {
    return this.core.deps.clock.now() + this.core.offsetMs();
  }
}
