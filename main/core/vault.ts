import { credentialView, type GrantView } from '../../api/schemas.js';
import type { DesktopClock } from './clock.js';
import { parseJson, type CoreLogger } from './core-context.js';
import { GRANT_ACCOUNT_PREFIX, grantAccount } from './keychain-accounts.js';
import { KeychainLockedError, KeychainUnavailableError, type Keychain } from '../../keychain/keychain.js';
import type { SettingsStore, VaultEntry } from './settings.js';

export interface StoredCredential {
  readonly grantId: string;
  readonly kind: string;
  readonly expiresAt: string;
  readonly secret: Readonly<Record<string, unknown>>;
}

/**
 * Credentials in the keychain, one account per grant, for exactly as long as their grants live. The
 * settings file keeps an index (grant, resource, role, expiry; never the secret), so that entries can be
 * found and wiped after a crash, a week asleep or a lost network.
 */
export class CredentialVault {
  constructor(
    private readonly keychain: Keychain,
    private readonly settings: SettingsStore,
    private readonly clock: DesktopClock,
    private readonly log: CoreLogger,
  ) {}

  entries(): VaultEntry[] {
    return this.settings.read().vault;
  }

  async store(
    grant: Pick<GrantView, 'id' | 'resourceId' | 'role' | 'expiresAt'>,
    credential: StoredCredential,
  ): Promise<void> {
    // The index entry is written first: a crash between the two leaves an entry to wipe, never a secret
    // nobody knows about.
    const previous = this.entries().find((entry) => entry.grantId === grant.id);
    this.index((entries) => [
      ...entries.filter((entry) => entry.grantId !== grant.id),
      {
        grantId: grant.id,
        resourceId: grant.resourceId,
        role: grant.role,
        expiresAt: grant.expiresAt,
        storedAt: new Date(this.clock.now()).toISOString(),
        kind: credential.kind,
        credentialExpiresAt: credential.expiresAt,
      },
    ]);
    try {
      await this.keychain.set(grantAccount(grant.id), JSON.stringify(credential));
    } catch (error) {
      // Nothing was stored (no keychain, a locked one): the index must not claim a secret it does not have.
      this.index((entries) => [
        ...entries.filter((entry) => entry.grantId !== grant.id),
        ...(previous ? [previous] : []),
      ]);
      throw error;
    }
  }

  async read(grantId: string): Promise<StoredCredential | null> {
    const text = await this.keychain.get(grantAccount(grantId));
    if (text === null) return null;
    const stored = credentialView.safeParse(parseJson(text));
    if (stored.success && stored.data.grantId === grantId) return stored.data;
    // Not something we wrote (or not for this grant): treat it as absent, and remove it.
    this.log.warn({ grantId }, 'removed a keychain entry Timebox could not read');
    await this.wipe(grantId);
    return null;
  }

  /**
   * Moves a kept credential to the grant's new expiry without fetching it again: for a database login,
   * whose validity the service moves itself, a fetch would set a new password and strand whatever the
   * user connected with. false when there is no credential to move.
   */
  async restamp(grant: Pick<GrantView, 'id' | 'resourceId' | 'role' | 'expiresAt'>): Promise<boolean> {
    const stored = await this.read(grant.id);
    if (!stored) return false;
    await this.store(grant, { ...stored, expiresAt: grant.expiresAt });
    return true;
  }

  /**
   * Puts fresh credentials in place of the ones kept for their grants (a renewal): the same keychain
   * entries, overwritten (no new entry, so no new prompt), then the index once for all of them. Answers
   * the grant ids renewed; a credential the keychain refused keeps its old copy and is in none of them.
   */
  async renew(credentials: readonly StoredCredential[]): Promise<{
    renewed: string[];
    failed: { grantId: string; error: unknown }[];
  }> {
    const indexed = new Set(this.entries().map((entry) => entry.grantId));
    const renewed = new Map<string, StoredCredential>();
    const failed: { grantId: string; error: unknown }[] = [];
    for (const credential of credentials) {
      // Only over a kept copy: a grant wiped meanwhile gets no secret back.
      if (!indexed.has(credential.grantId)) continue;
      try {
        await this.keychain.set(grantAccount(credential.grantId), JSON.stringify(credential));
        renewed.set(credential.grantId, credential);
      } catch (error) {
        failed.push({ grantId: credential.grantId, error });
      }
    }
    if (renewed.size > 0) {
      const storedAt = new Date(this.clock.now()).toISOString();
      this.index((entries) =>
        entries.map((entry) => {
          const credential = renewed.get(entry.grantId);
          return credential ? { ...entry, storedAt, credentialExpiresAt: credential.expiresAt } : entry;
        }),
      );
    }
    return { renewed: [...renewed.keys()], failed };
  }

  /** Removes a grant's credential. true when there was one in the keychain. */
  async wipe(grantId: string): Promise<boolean> {
    const deleted = await this.keychain.delete(grantAccount(grantId));
    this.index((entries) => entries.filter((entry) => entry.grantId !== grantId));
    return deleted;
  }

  /**
   * Wipes every credential whose grant is not `stillActive`, and every account under our name that the
   * index does not know (left by a crash). Returns the grant ids wiped.
   */
  async sweep(stillActive: (entry: VaultEntry) => boolean): Promise<string[]> {
    const wiped: string[] = [];
    for (const entry of this.entries()) {
      if (!stillActive(entry)) {
        await this.wipe(entry.grantId);
        wiped.push(entry.grantId);
      }
    }
    const known = new Set(this.entries().map((entry) => grantAccount(entry.grantId)));
    for (const account of await this.keychain.accounts()) {
      if (account.startsWith(GRANT_ACCOUNT_PREFIX) && !known.has(account)) {
        await this.keychain.delete(account);
        wiped.push(account.slice(GRANT_ACCOUNT_PREFIX.length));
      }
    }
    return wiped;
  }

  /** Wipes everything (sign-out). */
  async wipeAll(): Promise<string[]> {
    return this.sweep(() => false);
  }

  /** Whether the keychain answers at all; the message says what to do when it does not. */
  async probe(): Promise<{ available: true } | { available: false; locked: boolean; message: string }> {
    try {
      await this.keychain.accounts();
      return { available: true };
    } catch (error) {
      return {
        available: false,
        locked: error instanceof KeychainLockedError,
        message:
          error instanceof KeychainUnavailableError
            ? error.message
            : new KeychainUnavailableError(String(error)).message,
      };
    }
  }

  private index(change: (entries: VaultEntry[]) => VaultEntry[]): void {
    const settings = this.settings.read();
    this.settings.write({ ...settings, vault: change(settings.vault) });
  }
}
