/**
 * When a short-lived credential is renewed, shared by the desktop core and the CLI. A signed token lives
 * the role's credentialTtl (a few minutes) while its grant lives hours: it is replaced before it stops
 * working, a minute ahead, or a quarter of its life ahead when that is less (a 30 s token is renewed
 * 7.5 s before its end, not right after it was fetched).
 */
export const RENEW_LEAD_MS = 60_000;

export interface RenewalDue {
  /** When to renew, on the service's clock (ms since the epoch). */
  readonly atMs: number;
  /** How long before the credential's expiry that is. */
  readonly leadMs: number;
}

/**
 * When to renew a credential that stops working at `expiresAtMs` and was issued at `issuedAtMs`, for a
 * grant that ends at `grantExpiresAtMs` (all on the service's clock); null when the credential lasts as
 * long as its grant and is never renewed.
 */
export function renewalDue(
  expiresAtMs: number,
  issuedAtMs: number,
  grantExpiresAtMs: number,
): RenewalDue | null {
  if (expiresAtMs >= grantExpiresAtMs) return null;
  const lifeMs = Math.max(0, expiresAtMs - issuedAtMs);
  const leadMs = Math.min(RENEW_LEAD_MS, lifeMs / 4);
  return { atMs: expiresAtMs - leadMs, leadMs };
}
