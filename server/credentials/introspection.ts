import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Database } from '../db/database.js';
import type { Clock } from '../../api/clock.js';
import type { IntrospectionView } from '../../api/schemas.js';
import { unauthorized } from '../auth/sessions.js';
import { isIdOf } from '../lib/ids.js';
import type { Metrics } from '../ops/metrics.js';
import type { Policy, ResourceServer } from '../policy/types.js';
import type { EndedGrants } from './ended-grants.js';
import { SIGNING_ALGORITHM, type SigningKeys } from './signing-keys.js';

/** Why a token is not active, for the metrics (never told to the caller, which hears `active: false`). */
type Inactive = 'invalid' | 'not_owned' | 'ended';
/** What told the grant's state, for the metrics: the token alone answered when it was invalid or not owned. */
type Source = 'memory' | 'database' | 'token';

const INACTIVE = { active: false } as const;

interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly scope: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

/** Thrown by the key lookup for a kid that is none of ours: the token is not active, nothing failed. */
class UnknownKey extends Error {}

/**
 * RFC 7662 introspection for resource servers: whether a credential token is active now. A token is
 * active while its signature (by a key of ours) and lifetime hold, its grant is active and unexpired on the service's
 * clock, its claims still name that grant's owner, resource and role, its owner is still in the policy,
 * and its resource is one the asking server serves. Everything else, malformed and foreign tokens
 * included, is `{active: false}`. Whether the grant ended early is answered from memory (EndedGrants)
 * while it is known to hold every end, and from the database otherwise.
 */
export class Introspection {
  constructor(
    private readonly policy: Policy,
    private readonly db: Database,
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly ended: EndedGrants,
  ) {}

  /** The resource server whose bearer token `authorization` carries; a user's token is no such thing. */
  resourceServer(authorization: string | undefined): ResourceServer {
    const [scheme, credentials, ...rest] = (authorization ?? '').trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer' || credentials === undefined || rest.length > 0) {
      throw unauthorized(
        'missing_token',
        "Introspection needs a resource server's token: send Authorization: Bearer <its token from the policy>.",
      );
    }
    const server = this.policy.resourceServers.get(createHash('sha256').update(credentials).digest('hex'));
    if (!server) {
      throw unauthorized(
        'not_a_resource_server',
        "This is not a resource server's token: introspection takes the token a resource server is given in the policy (resourceServers), never a user's.",
      );
    }
    return server;
  }

  async introspect(server: ResourceServer, token: string): Promise<IntrospectionView> {
    const claims = await this.verified(token);
    if (claims === null) return this.inactive('invalid', 'token');
    const { iss, sub, aud, scope, jti, iat, exp } = claims;
    if (!server.resources.has(aud)) return this.inactive('not_owned', 'token');
    // The token names its grant's owner, resource and role under our signature, and its exp is never past
    // the grant's expiry: what is left to know is whether the grant ended early, which memory holds.
    if (this.ended.knowsEveryEnd()) {
      if (this.ended.has(jti) || !this.policy.users.has(sub)) return this.inactive('ended', 'memory');
      return this.active({ iss, sub, aud, scope, jti, iat, exp }, 'memory');
    }
    const [grant] = await this.db.query<{
      user_id: string;
      resource_id: string;
      role: string;
      status: string;
      expires_at: Date;
    }>('SELECT user_id, resource_id, role, status, expires_at FROM grants WHERE id = $1', [jti]);
    const live =
      grant !== undefined &&
      grant.status === 'active' &&
      grant.expires_at.getTime() > this.clock.now() &&
      grant.user_id === sub &&
      grant.resource_id === aud &&
      grant.role === scope &&
      this.policy.users.has(sub);
    if (!live) return this.inactive('ended', 'database');
    return this.active({ iss, sub, aud, scope, jti, iat, exp }, 'database');
  }

  private active(claims: TokenClaims, source: Source): IntrospectionView {
    this.metrics.introspections.inc({ result: 'active', source });
    return { active: true, ...claims, grant_status: 'active' };
  }

  /** The claims of a token we signed and that is within its lifetime, or null. */
  private async verified(token: string): Promise<TokenClaims | null> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const key = typeof header.kid === 'string' ? await this.keys.verificationKey(header.kid) : null;
          if (key === null) throw new UnknownKey();
          return key;
        },
        // No issuer check: a signature by one of the keys in our database proves the token is ours, whichever
        // instance made it and under whatever URL it was listening when no public URL was set.
        {
          algorithms: [SIGNING_ALGORITHM],
          typ: 'JWT',
          currentDate: new Date(this.clock.now()),
          requiredClaims: ['sub', 'aud', 'jti', 'iat', 'exp'],
        },
      ));
    } catch (error) {
      // Anything wrong with the token itself is an answer (not active); a database that fails is not.
      if (error instanceof errors.JOSEError || error instanceof UnknownKey) return null;
      throw error;
    }
    const { iss, sub, aud, scope, jti, iat, exp } = payload;
    if (
      typeof iss !== 'string' ||
      typeof sub !== 'string' ||
      typeof aud !== 'string' ||
      typeof scope !== 'string' ||
      typeof jti !== 'string' ||
      !isIdOf('grt', jti) ||
      typeof iat !== 'number' ||
      typeof exp !== 'number'
    )
      return null;
    return { iss, sub, aud, scope, jti, iat, exp };
  }

  private inactive(reason: Inactive, source: Source): IntrospectionView {
    this.metrics.introspections.inc({ result: reason, source });
    return INACTIVE;
  }
}
