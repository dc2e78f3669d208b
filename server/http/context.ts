import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditChainer } from '../audit/chainer.js';
import type { Deliveries } from '../channels/deliveries.js';
import type { Session, Sessions } from '../auth/sessions.js';
import type { SignIn } from '../auth/sign-in.js';
import type { OidcSignIn } from '../identity/oidc-sign-in.js';
import type { Introspection } from '../credentials/introspection.js';
import type { SigningKeys } from '../credentials/signing-keys.js';
import type { Database } from '../db/database.js';
import type { Grants } from '../domain/grants.js';
import type { Requests } from '../domain/requests.js';
import { checkIdempotencyKey } from '../domain/idempotency.js';
import type { EventHub } from '../events/hub.js';
import type { Clock } from '../../api/clock.js';
import { ApiError, badRequest } from '../lib/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Policy, PolicyUser } from '../policy/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every route that needs a signed-in user. */
    session: Session | null;
  }
}

/** What the routes need from the service. */
export interface RouteContext {
  readonly policy: Policy;
  readonly db: Database;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly sessions: Sessions;
  readonly signIn: SignIn;
  readonly oidcSignIn: OidcSignIn;
  readonly requests: Requests;
  readonly grants: Grants;
  readonly hub: EventHub;
  readonly keys: SigningKeys;
  readonly introspection: Introspection;
  readonly auditChainer: AuditChainer;
  readonly deliveries: Deliveries;
  readonly version: string;
}

export function sessionOf(request: FastifyRequest): Session {
  if (!request.session)
    throw new ApiError(401, 'missing_token', 'Sign in first: send Authorization: Bearer <token>.');
  return request.session;
}

export function actorOf(request: FastifyRequest): PolicyUser {
  return sessionOf(request).user;
}

export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const header = request.headers['idempotency-key'];
  if (Array.isArray(header))
    throw badRequest('invalid_idempotency_key', 'Send one Idempotency-Key header, not several.');
  return checkIdempotencyKey(header);
}

/** Responses that carry secrets must never be cached by a proxy or the client's HTTP cache. */
export function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}

export function userView(user: PolicyUser): {
  id: string;
  username: string;
  displayName: string;
  groups: string[];
  isAdmin: boolean;
} {
  return {
    id: user.id,
    username: user.id,
    displayName: user.displayName,
    groups: [...user.groups],
    isAdmin: user.isAdmin,
  };
}
