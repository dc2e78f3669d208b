import { SignJWT } from 'jose';
import type { GrantRecord } from '../domain/records.js';
import type { Clock } from '../../api/clock.js';
import type { CredentialIssuer, IssuedCredential } from './issuer.js';
import { SIGNING_ALGORITHM, type SigningKeys } from './signing-keys.js';

/**
 * The built-in issuer: a JWT whose claims name the grant, verifiable through /.well-known/jwks.json. It
 * lives the role's credentialTtl at most, never past the grant (`exp = min(grant expiry, issued + ttl)`),
 * so a revoked grant's token dies soon even where nobody asks the service (introspection answers at once);
 * the owner's client fetches a fresh one before `exp` while the grant lives.
 */
export class TokenIssuer implements CredentialIssuer {
  readonly kind = 'token';

  constructor(
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    /** The service's public URL, the tokens' `iss`; known once the service listens. */
    private readonly issuerUrl: () => string,
    /** The role's credentialTtl, in seconds. */
    private readonly ttlSecondsOf: (grant: GrantRecord) => number,
  ) {}

  async issue(grant: GrantRecord): Promise<IssuedCredential> {
    const { kid, key } = await this.keys.signingKey();
    const seconds = (ms: number): number => Math.floor(ms / 1000);
    const issuedAt = seconds(this.clock.now());
    const renewedBy = issuedAt + this.ttlSecondsOf(grant);
    // Bounded by its grant, it carries the grant's exact expiry; otherwise the second its exp names.
    const expiresAt =
      renewedBy >= seconds(grant.expires_at.getTime()) ? grant.expires_at : new Date(renewedBy * 1000);
    const token = await new SignJWT({ scope: grant.role })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.issuerUrl())
      .setSubject(grant.user_id)
      .setAudience(grant.resource_id)
      .setJti(grant.id)
      .setIssuedAt(issuedAt)
      .setNotBefore(seconds(grant.starts_at.getTime()))
      .setExpirationTime(seconds(expiresAt.getTime()))
      .sign(key);
    await this.keys.recordTokenExpiry(kid, expiresAt);
    return { secret: { token }, expiresAt };
  }
}
