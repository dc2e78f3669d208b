import type { Clock } from '../../api/clock.js';
import type { Database } from '../db/sql.js';
import type { Policy } from '../policy/types.js';

/** How far instances' clocks may disagree about when a grant ended; entries are kept this much longer. */
const CLOCK_MARGIN_MS = 60_000;

/** The longest a credential of this policy lives: its longest credentialTtl. */
export function longestCredentialLifetimeMs(policy: Policy): number {
  let longest = 0;
  for (const resource of policy.resources.values())
    for (const role of resource.roles.values()) longest = Math.max(longest, role.credentialTtlSeconds);
  return longest * 1000;
}

/**
 * The grants that ended before their expiry (relinquished or revoked) recently enough that a credential
 * of theirs may still be within its lifetime, kept in memory so that introspection answers without
 * waiting for the database behind everything else (a lifecycle at full speed kept it at p99 116 ms on
 * PGlite and 52 ms on PostgreSQL). An expired grant needs no entry: its credentials' `exp` is never past
 * its expiry, and the signature check refuses them by itself.
 *
 * Every instance hears of every such end: its own at commit, before the HTTP answer, and the others'
 * through the commit's NOTIFY. The set is trusted only while that holds, after a sync from the database,
 * with the listening connection up and the database reachable; otherwise introspection asks the database.
 */
export class EndedGrants {
  private readonly endedAt = new Map<string, number>();
  private readonly keepMs: number;
  private synced = false;
  private listening = true;
  /** Bumped when messages may have been missed: a sync that began before that proves nothing. */
  private generation = 0;
  private syncing: Promise<void> | null = null;
  private prunedAt = 0;

  /**
   * `lifetimeMs`: the longest a credential lives (the policy's longest credentialTtl). `onSyncFailed` hears
   * of a sync that failed; introspection asks the database meanwhile and the next question tries again.
   */
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    lifetimeMs: number,
    private readonly onSyncFailed: (error: unknown) => void,
  ) {
    this.keepMs = lifetimeMs + CLOCK_MARGIN_MS;
  }

  /**
   * Whether `has` is the whole truth now. When it is not and the database answers, a sync is started (if
   * none is under way), so a sync that failed is tried again by the next question.
   */
  knowsEveryEnd(): boolean {
    const available = this.db.health.available;
    if (this.synced && this.listening && available) return true;
    if (this.listening && available) void this.sync();
    return false;
  }

  has(grantId: string): boolean {
    return this.endedAt.has(grantId);
  }

  add(grantIds: readonly string[], at = this.clock.now()): void {
    for (const id of grantIds) this.endedAt.set(id, at);
    this.prune();
  }

  /** The listening connection is lost: ends elsewhere go unheard until it is back and a sync has run. */
  lost(): void {
    this.listening = false;
    this.untrust();
  }

  /** The listening connection is back: what was missed meanwhile is read from the database. */
  reconnected(): Promise<void> {
    this.listening = true;
    return this.sync();
  }

  /** A NOTIFY said grants ended without naming them (too many to fit): they are read from the database. */
  untrust(): void {
    this.synced = false;
    this.generation += 1;
  }

  /**
   * Reads the recent early ends from the database. Run with the listening connection up, so that every end
   * commits either before this read or after the LISTEN, and is heard one way or the other.
   */
  sync(): Promise<void> {
    this.syncing ??= this.read().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async read(): Promise<void> {
    const generation = this.generation;
    const since = new Date(this.clock.now() - this.keepMs);
    try {
      const rows = await this.db.query<{ id: string; ended_at: Date }>(
        `SELECT id, ended_at FROM grants WHERE status = 'revoked' AND ended_at > $1`,
        [since],
      );
      for (const row of rows) this.endedAt.set(row.id, row.ended_at.getTime());
      // Messages missed while this read ran are not in it: the next question starts another.
      if (generation === this.generation) this.synced = true;
    } catch (error) {
      this.onSyncFailed(error);
    }
  }

  /** Forgets ends whose credentials have all expired, at most once a minute. */
  private prune(): void {
    const now = this.clock.now();
    if (now - this.prunedAt < 60_000) return;
    this.prunedAt = now;
    for (const [id, at] of this.endedAt) if (at < now - this.keepMs) this.endedAt.delete(id);
  }
}
