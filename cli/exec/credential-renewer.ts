import { renewalDue } from '../../api/credential-renewal.js';
import type { ClockOffsetEstimator } from '../../api/clock-offset.js';
import { ServiceError } from '../../api/errors.js';
import type { GrantClient } from '../../api/grant-client.js';
import type { FetchedCredential } from './credential-environment.js';

/** After a renewal that failed, or one that brought no later expiry, the next try. */
const RETRY_MS = 30_000;

/**
 * Keeps a fresh copy of a short-lived credential while `timebox exec` runs its command: fetched again
 * before it expires (api/credential-renewal.ts, as the desktop does), held in memory only. Stops when the
 * grant ends (the service answers grant_ended) or when `stop()` is called.
 */
export class CredentialRenewer {
  private credential: FetchedCredential;
  private issuedAtMs: number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly client: GrantClient,
    private readonly offset: ClockOffsetEstimator,
    first: FetchedCredential,
    private grantExpiresAtMs: number,
    private readonly warn: (message: string) => void,
  ) {
    this.credential = first;
    this.issuedAtMs = this.serviceNow();
  }

  /** Whether this credential is renewed at all: one that lasts as long as its grant is not. */
  get renews(): boolean {
    return renewalDue(Date.parse(this.credential.expiresAt), this.issuedAtMs, this.grantExpiresAtMs) !== null;
  }

  current(): FetchedCredential {
    return this.credential;
  }

  /** An extension moved the grant's end: renewals go on until then. */
  grantExtended(expiresAtMs: number): void {
    this.grantExpiresAtMs = expiresAtMs;
    if (this.timer === null && !this.stopped) this.schedule();
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs?: number): void {
    if (this.stopped) return;
    const due = renewalDue(Date.parse(this.credential.expiresAt), this.issuedAtMs, this.grantExpiresAtMs);
    if (due === null) return;
    const wait = delayMs ?? Math.max(0, due.atMs - this.serviceNow());
    // Unreferenced: the running command keeps this process alive, never a renewal timer.
    this.timer = setTimeout(() => void this.renew(), wait);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    this.timer = null;
    const before = this.credential.expiresAt;
    try {
      const fresh = await this.client.credential(this.credential.grantId);
      if (this.stopped) return;
      this.credential = fresh;
      this.issuedAtMs = this.serviceNow();
      this.schedule(Date.parse(fresh.expiresAt) > Date.parse(before) ? undefined : RETRY_MS);
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'grant_ended') {
        this.stop();
        return;
      }
      this.warn(
        `could not renew the credential (${error instanceof Error ? error.message : String(error)}); trying again in 30 seconds.`,
      );
      this.schedule(RETRY_MS);
    }
  }

  private serviceNow(): number {
    return Date.now() + this.offset.offsetMs;
  }
}
