import * as oidc from 'openid-client';
import type { OidcProvider } from '../policy/types.js';

/** Seconds any one call to a provider (discovery, token, keys) may take. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** Who the provider says signed in, from an ID token that passed every check. */
export interface VerifiedIdentity {
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
  /** When the person authenticated at the provider (`auth_time`, else the token's `iat`), ms. */
  readonly authTime: number;
}

/** What the service checks the provider's answer against: the values it sent with the person. */
export interface AuthorizationChecks {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly maxAgeSeconds: number | null;
}

/** The provider said no, or its answer failed a check: `error` is the OAuth code the client is given. */
export class ProviderRefusal extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderRefusal';
  }
}

/** The provider could not be reached, or did not speak OIDC. */
export class ProviderUnavailable extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailable';
  }
}

/**
 * The service as a confidential client of one provider, through openid-client (certified): discovery
 * on first use, the authorization URL with PKCE, state and nonce, and the code exchange, whose ID token
 * openid-client validates (signature against the provider's JWKS, iss, aud, azp, exp, iat, nonce,
 * auth_time against max_age). The provider's times are checked against the real clock: they are the
 * provider's, not the service's.
 */
export class OidcProviderClient {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(private readonly provider: OidcProvider) {}

  async authorizationUrl(parameters: {
    readonly redirectUri: string;
    readonly state: string;
    readonly nonce: string;
    readonly codeChallenge: string;
    readonly maxAgeSeconds: number | null;
  }): Promise<URL> {
    const configuration = await this.configured();
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: parameters.redirectUri,
      scope: this.provider.scopes.join(' '),
      response_type: 'code',
      state: parameters.state,
      nonce: parameters.nonce,
      code_challenge: parameters.codeChallenge,
      code_challenge_method: 'S256',
      ...(parameters.maxAgeSeconds === null ? {} : { max_age: String(parameters.maxAgeSeconds) }),
    });
  }

  /** Exchanges the code the provider sent to `callbackUrl`, and returns whom the ID token names. */
  async redeem(
    callbackUrl: URL,
    redirectUri: string,
    checks: AuthorizationChecks,
  ): Promise<VerifiedIdentity> {
    const configuration = await this.configured();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(
        configuration,
        callbackUrl,
        {
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          pkceCodeVerifier: checks.verifier,
          idTokenExpected: true,
          ...(checks.maxAgeSeconds === null ? {} : { maxAge: checks.maxAgeSeconds }),
        },
        { redirect_uri: redirectUri },
      );
    } catch (error) {
      throw refusalOf(error);
    }
    const claims = tokens.claims();
    if (!claims) throw new ProviderRefusal('invalid_id_token', 'The identity provider sent no ID token.');
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat;
    return { subject: claims.sub, claims, authTime: authTime * 1000 };
  }

  /** Discovery, once; a failed one is tried again at the next sign-in, not remembered. */
  private configured(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      this.configuration = null;
      throw new ProviderUnavailable(
        `The identity provider ${this.provider.name} cannot be reached (${error instanceof Error ? error.message : 'unknown error'}); try again in a moment.`,
        { cause: error },
      );
    });
    return this.configuration;
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.provider.issuer);
    // The schema allows plain http only for a provider on this machine.
    const insecure =
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- marked so only to stand out; the schema allows it on this machine alone
      issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
    // OIDC lets a client trust the token endpoint's TLS instead of the ID token's signature; we check the
    // signature against the provider's JWKS too, so a proxy or a misissued certificate cannot forge a person.
    const checks = [oidc.enableNonRepudiationChecks, ...insecure];
    const configuration = await oidc.discovery(
      issuer,
      this.provider.clientId,
      undefined,
      oidc.ClientSecretBasic(this.provider.clientSecret),
      { execute: checks, timeout: PROVIDER_TIMEOUT_SECONDS },
    );
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    return configuration;
  }
}

function refusalOf(error: unknown): Error {
  if (error instanceof oidc.AuthorizationResponseError) {
    return new ProviderRefusal(
      error.error,
      error.error_description ?? 'The identity provider refused the sign-in.',
    );
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new ProviderRefusal(
      'invalid_grant',
      `The identity provider refused the code: ${error.error_description ?? error.error}.`,
    );
  }
  if (error instanceof oidc.ClientError) {
    // A check of the ID token or the response failed (signature, iss, aud, exp, nonce, state, auth_time).
    return new ProviderRefusal(
      'invalid_id_token',
      `The identity provider's answer failed a check: ${error.message}`,
    );
  }
  return new ProviderUnavailable('The identity provider did not answer the code exchange; try again.', {
    cause: error,
  });
}
