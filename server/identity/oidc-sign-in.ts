import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import { hashToken, type SessionOrigin, type Sessions } from '../auth/sessions.js';
import type { LoginResult } from '../auth/sign-in.js';
import type { Database } from '../db/database.js';
import type { UnitOfWork } from '../domain/work.js';
import type { Clock } from '../../api/clock.js';
import { ApiError, badRequest } from '../lib/errors.js';
import type { OidcProvider, Policy } from '../policy/types.js';
import { mapClaims } from './claims.js';
import type { Directory } from './directory.js';
import { OidcProviderClient, ProviderRefusal, ProviderUnavailable } from './oidc-client.js';
import { loopbackRedirect, withParameters } from './redirects.js';

/** A one-time code is redeemed within this long of the callback, or never. */
const CODE_LIFETIME_MS = 60_000;
/** The person has this long at the provider between /start and the callback. */
const FLOW_LIFETIME_MS = 10 * 60_000;
/** RFC 7636 §4.2: S256 of a verifier is 43 base64url characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export interface StartQuery {
  readonly redirect_uri?: string | undefined;
  readonly code_challenge?: string | undefined;
  readonly code_challenge_method?: string | undefined;
  readonly state: string;
  readonly max_age?: number | undefined;
}

interface FlowRow {
  readonly redirect_uri: string;
  readonly client_state: string;
  readonly code_challenge: string;
  readonly nonce: string;
  readonly provider_verifier: string;
  readonly max_age: number | null;
  readonly created_at: Date;
}

interface CodeRow {
  readonly code_challenge: string;
  readonly user_id: string;
  readonly provider: string;
  readonly auth_time: Date;
  readonly mfa: boolean;
  readonly expires_at: Date;
}

const invalidGrant = (): ApiError =>
  badRequest(
    'invalid_grant',
    'This sign-in code is unknown, was already used, is older than 60 seconds, or does not match the verifier; sign in again.',
  );

/**
 * Sign-in through a company identity provider for native clients (RFC 8252): the client opens the
 * browser at `start` with its loopback address and PKCE challenge; the service, a confidential client of
 * the provider, sends the person there with its own state, nonce and PKCE; the provider's callback is
 * checked, the person taken in (jit) and a one-time code sent to the loopback address, which the client
 * redeems with its verifier for a session. Every step's state is in the database, so any instance may
 * serve any step.
 */
export class OidcSignIn {
  private readonly providers: ReadonlyMap<string, { provider: OidcProvider; client: OidcProviderClient }>;

  constructor(
    private readonly policy: Policy,
    private readonly db: Database,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly sessions: Sessions,
    private readonly directory: Directory,
    /** The service's public URL, where the provider sends the person back to. */
    private readonly publicUrl: () => string,
  ) {
    this.providers = new Map(
      policy.identity.oidc.map((provider) => [
        provider.id,
        { provider, client: new OidcProviderClient(provider) },
      ]),
    );
  }

  /** The provider's authorization URL for this sign-in; refuses what the contract refuses, storing nothing. */
  async start(providerId: string, query: StartQuery): Promise<string> {
    const { client } = this.providerOf(providerId);
    const redirect = loopbackRedirect(query.redirect_uri);
    if (redirect === null) {
      throw badRequest(
        'invalid_redirect_uri',
        'redirect_uri must be a loopback address with a port: http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path> (not localhost).',
      );
    }
    if (query.code_challenge_method !== 'S256' || !S256_CHALLENGE.test(query.code_challenge ?? '')) {
      throw badRequest(
        'invalid_code_challenge',
        'Send code_challenge (43 base64url characters) with code_challenge_method=S256; plain is not accepted.',
      );
    }
    const flowId = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const maxAge = query.max_age ?? null;
    let url: URL;
    try {
      url = await client.authorizationUrl({
        redirectUri: this.callbackUri(providerId),
        state: flowId,
        nonce,
        codeChallenge: await oidc.calculatePKCECodeChallenge(verifier),
        maxAgeSeconds: maxAge,
      });
    } catch (error) {
      throw unavailable(error);
    }
    await this.db.query(
      `INSERT INTO oidc_flows (id, provider, redirect_uri, client_state, code_challenge, nonce, provider_verifier, max_age, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        flowId,
        providerId,
        redirect.toString(),
        query.state,
        query.code_challenge,
        nonce,
        verifier,
        maxAge,
        new Date(this.clock.now()),
      ],
    );
    return url.toString();
  }

  /**
   * The provider's answer: the loopback URL with a one-time code and the client's state, or with `error`
   * and `error_description`. A state this service did not send (or already used) has nowhere safe to go
   * back to: 400 `invalid_state`.
   */
  async callback(providerId: string, parameters: URLSearchParams): Promise<string> {
    const { client, provider } = this.providerOf(providerId);
    // The URL as the provider sent the browser to it: its code, state and iss are checked from it.
    const callbackUrl = new URL(`${this.callbackUri(providerId)}?${parameters.toString()}`);
    const state = parameters.get('state') ?? '';
    // Deleted as it is read: a state is good for one callback, replayed or not.
    const [flow] = await this.db.query<FlowRow>(
      `DELETE FROM oidc_flows WHERE id = $1 AND provider = $2
       RETURNING redirect_uri, client_state, code_challenge, nonce, provider_verifier, max_age, created_at`,
      [state, providerId],
    );
    if (!flow || flow.created_at.getTime() + FLOW_LIFETIME_MS <= this.clock.now()) {
      throw badRequest(
        'invalid_state',
        'This sign-in is unknown, was already finished, or took longer than 10 minutes; start it again from the app.',
      );
    }
    try {
      const identity = await client.redeem(callbackUrl, this.callbackUri(providerId), {
        state,
        nonce: flow.nonce,
        verifier: flow.provider_verifier,
        maxAgeSeconds: flow.max_age,
      });
      const person = mapClaims(provider, new Set(this.policy.groups.keys()), identity.claims);
      const code = randomBytes(32).toString('base64url');
      await this.uow.run(async (work) => {
        const user = await this.directory.signedIn(
          work,
          { provider: providerId, subject: identity.subject, ...person },
          this.policy.identity.provisioning,
        );
        await work.sql.query(
          `INSERT INTO oidc_codes (code_hash, code_challenge, user_id, provider, auth_time, mfa, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            hashToken(code),
            flow.code_challenge,
            user.id,
            providerId,
            new Date(identity.authTime),
            person.mfa,
            new Date(work.now + CODE_LIFETIME_MS),
          ],
        );
      });
      return withParameters(flow.redirect_uri, { code, state: flow.client_state });
    } catch (error) {
      const { code, description } = redirectError(error);
      return withParameters(flow.redirect_uri, {
        error: code,
        error_description: description,
        state: flow.client_state,
      });
    }
  }

  /** A session for the one-time code, when `codeVerifier` is the one its challenge was made from. */
  async redeem(code: string, codeVerifier: string, origin: SessionOrigin): Promise<LoginResult> {
    // Spent by the first try, right or wrong: a guessed verifier gets one chance.
    const [row] = await this.db.query<CodeRow>(
      `DELETE FROM oidc_codes WHERE code_hash = $1
       RETURNING code_challenge, user_id, provider, auth_time, mfa, expires_at`,
      [hashToken(code)],
    );
    if (
      !row ||
      row.expires_at.getTime() <= this.clock.now() ||
      !challengeMatches(row.code_challenge, codeVerifier)
    )
      throw invalidGrant();
    const user = this.directory.get(row.user_id);
    if (!user) throw invalidGrant();
    const started = await this.uow.run((work) =>
      this.sessions.start(work, user, origin, {
        method: `oidc:${row.provider}`,
        authTime: row.auth_time.getTime(),
        mfa: row.mfa,
      }),
    );
    return { token: started.token, expiresAt: started.expiresAt.toISOString(), user };
  }

  private callbackUri(providerId: string): string {
    return `${this.publicUrl()}/v1/auth/oidc/${providerId}/callback`;
  }

  private providerOf(providerId: string): { provider: OidcProvider; client: OidcProviderClient } {
    const found = this.providers.get(providerId);
    if (!found) {
      throw new ApiError(
        404,
        'provider_not_found',
        `No identity provider "${providerId}" is configured; GET /v1/auth/methods lists them.`,
      );
    }
    return found;
  }
}

function challengeMatches(challenge: string, verifier: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

function unavailable(error: unknown): ApiError {
  if (error instanceof ProviderUnavailable) return new ApiError(502, 'provider_unavailable', error.message);
  throw error;
}

function redirectError(error: unknown): { code: string; description: string } {
  if (error instanceof ProviderRefusal) return { code: error.error, description: error.message };
  if (error instanceof ProviderUnavailable)
    return { code: 'temporarily_unavailable', description: error.message };
  if (error instanceof ApiError) return { code: 'access_denied', description: error.message };
  throw error;
}
