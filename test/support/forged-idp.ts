import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** What the provider gets wrong in its answer; `none` answers correctly. */
export type Forgery =
  'none' | 'bad-signature' | 'wrong-issuer' | 'wrong-audience' | 'expired' | 'replayed-nonce' | 'refuses';

export interface ForgedIdp {
  readonly issuer: string;
  forge(forgery: Forgery): void;
  stop(): Promise<void>;
}

const KEY_ID = 'forged-idp-key';

/**
 * An identity provider that speaks OIDC's wire format (discovery, JWKS, authorize, token) and mints the
 * ID token the test asks for, valid or wrong in one way: the failures a certified provider never sends,
 * but an attacker or a misconfigured tenant can. It asks nobody to sign in; authorize answers at once.
 */
export async function startForgedIdp(clientId: string): Promise<ForgedIdp> {
  const signing = await generateKeyPair('RS256');
  const stranger = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: KEY_ID, alg: 'RS256', use: 'sig' };
  let forgery: Forgery = 'none';
  const nonces = new Map<string, string>();
  let earlierNonce: string | null = null;
  let issuer = '';

  const idToken = async (nonce: string): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const token = new SignJWT({
      nonce: forgery === 'replayed-nonce' ? (earlierNonce ?? 'none-yet') : nonce,
      preferred_username: 'mallory',
      groups: ['engineers'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: KEY_ID })
      .setIssuer(forgery === 'wrong-issuer' ? 'https://login.evil.example' : issuer)
      .setSubject('mallory')
      .setAudience(forgery === 'wrong-audience' ? 'another-client' : clientId)
      .setIssuedAt(forgery === 'expired' ? now - 7200 : now)
      .setExpirationTime(forgery === 'expired' ? now - 3600 : now + 300);
    return token.sign(forgery === 'bad-signature' ? stranger.privateKey : signing.privateKey);
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', issuer);
      const json = (body: unknown): void => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (url.pathname === '/.well-known/openid-configuration') {
        json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
        });
      } else if (url.pathname === '/jwks') {
        json({ keys: [jwk] });
      } else if (url.pathname === '/authorize') {
        const back = new URL(url.searchParams.get('redirect_uri') ?? '');
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        if (forgery === 'refuses') {
          back.searchParams.set('error', 'access_denied');
          back.searchParams.set('error_description', 'The user is not assigned to this application.');
        } else {
          const code = `code-${nonces.size}`;
          nonces.set(code, url.searchParams.get('nonce') ?? '');
          back.searchParams.set('code', code);
        }
        response.writeHead(302, { location: back.toString() }).end();
      } else if (url.pathname === '/token' && request.method === 'POST') {
        const code = new URLSearchParams(await bodyOf(request)).get('code') ?? '';
        const nonce = nonces.get(code) ?? '';
        const token = await idToken(nonce);
        earlierNonce = nonce;
        json({ access_token: 'forged-access-token', token_type: 'Bearer', expires_in: 300, id_token: token });
      } else {
        response.writeHead(404).end();
      }
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    forge(next) {
      forgery = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
