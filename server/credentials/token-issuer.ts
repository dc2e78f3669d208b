import { SignJWT } from 'jose';
import type { GrantRecord } from '../domain/records.js';
import type { Clock } from '../../api/clock.js';
import type { CredentialIssuer } from './issuer.js';
import { SIGNING_ALGORITHM, type SigningKeys } from './signing-keys.js';

/** The built-in issuer: a JWT whose claims name the grant, verifiable through /.well-known/jwks.json. */
export class TokenIssuer implements CredentialIssuer {
  readonly kind = 'token';

  constructor(
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    /** The service's public URL, the tokens' `iss`; known once the service listens. */
    private readonly issuerUrl: () => string,
  ) {}

  async issue(grant: GrantRecord): Promise<{ token: string }> {
    const { kid, key } = await this.keys.signingKey();
    const seconds = (ms: number): number => Math.floor(ms / 1000);
    const token = await new SignJWT({ scope: grant.role })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.issuerUrl())
      .setSubject(grant.user_id)
      .setAudience(grant.resource_id)
      .setJti(grant.id)
      .setIssuedAt(seconds(this.clock.now()))
      .setNotBefore(seconds(grant.starts_at.getTime()))
      .setExpirationTime(seconds(grant.expires_at.getTime()))
      .sign(key);
    await this.keys.recordTokenExpiry(kid, grant.expires_at);
    return { token };
  }
}
