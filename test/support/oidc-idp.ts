import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { OidcProvider } from '../../server/index.js';

/**
 * The suites' company provider as the policy names it, "Acme SSO", registered at the stand-in as client
 * `timebox` with the suite's own secret; `overrides` for what a suite is about (its group map, the `amr`
 * values it counts as MFA, more scopes).
 */
export function acmeProvider(
  issuer: string,
  clientSecret: string,
  overrides: Partial<Pick<OidcProvider, 'scopes' | 'groupMap' | 'mfaAmr'>> = {},
): OidcProvider {
  return {
    id: 'acme',
    name: 'Acme SSO',
    issuer,
    clientId: 'timebox',
    clientSecret,
    scopes: ['openid', 'profile', 'groups'],
    usernameClaim: 'preferred_username',
    groupsClaim: 'groups',
    groupMap: new Map(),
    mfaAmr: ['mfa'],
    ...overrides,
  };
}

/** A person at the stand-in provider: their password, and the claims their ID token carries. */
export interface IdpAccount {
  readonly password: string;
  /** The one-time code that makes a sign-in multi-factor (`amr` gets `otp`); none means password only. */
  readonly otp?: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface RunningIdp {
  /** The issuer URL, known before the client is registered (the service's URL comes later). */
  readonly issuer: string;
  /** Registers the service as a confidential client and starts answering. */
  register(client: { clientId: string; clientSecret: string; redirectUri: string }): void;
  /** Changes what a person's ID token says (a mover between groups). */
  setClaims(username: string, claims: Readonly<Record<string, unknown>>): void;
  stop(): Promise<void>;
}

/**
 * panva's oidc-provider (an OpenID-certified implementation) as the company's identity provider, with a
 * login page of its own: a form of username, password and optional one-time code, posted over HTTP as a
 * person's browser would. The sign-in ends in the provider's own consent, granted with it.
 */
export async function startIdp(accounts: Record<string, IdpAccount>): Promise<RunningIdp> {
  const people = new Map(Object.entries(accounts));
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | null = null;
  const server: Server = createServer((request, response) => {
    if (handler) handler(request, response);
    else response.writeHead(503).end('not registered yet');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    register({ clientId, clientSecret, redirectUri }) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        scopes: ['openid', 'profile', 'email', 'groups'],
        claims: {
          // How and when the person signed in, in every ID token, as Okta and Entra send them.
          openid: ['sub', 'amr', 'auth_time'],
          profile: ['name', 'preferred_username'],
          email: ['email'],
          groups: ['groups'],
        },
        // Okta and Entra put the profile and group claims in the ID token; so does this one.
        conformIdTokenClaims: false,
        cookies: { keys: ['stand-in-idp-cookie-key'] },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        findAccount: (_ctx, id) => {
          const person = people.get(id);
          return person ? { accountId: id, claims: () => ({ sub: id, ...person.claims }) } : undefined;
        },
      });
      const providerHandler = provider.callback();
      handler = (request, response) => {
        if (request.url?.startsWith('/interaction/')) {
          void interaction(provider, people, request, response).catch((error: unknown) => {
            response.writeHead(500).end(String(error));
          });
        } else {
          void providerHandler(request, response);
        }
      };
    },
    setClaims(username, claims) {
      const person = people.get(username);
      if (person) people.set(username, { ...person, claims });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function interaction(
  provider: Provider,
  people: ReadonlyMap<string, IdpAccount>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(request, response);
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><title>Sign in</title>
       <form method="post" action="/interaction/${details.uid}">
         <input name="username"><input name="password" type="password"><input name="otp">
         <button>Sign in</button></form>`,
    );
    return;
  }
  const form = new URLSearchParams(await bodyOf(request));
  const username = form.get('username') ?? '';
  const person = people.get(username);
  if (!person || person.password !== form.get('password')) {
    response.writeHead(401, { 'content-type': 'text/html' }).end('<p>Wrong username or password</p>');
    return;
  }
  const withOtp = person.otp !== undefined && form.get('otp') === person.otp;
  const grant = new provider.Grant({ accountId: username, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(request, response, {
    login: { accountId: username, amr: withOtp ? ['pwd', 'otp'] : ['pwd'] },
    consent: { grantId },
  });
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
