import { createHash, randomBytes } from 'node:crypto';
import { Browser, type Landing } from './browser.js';

/** The loopback address a native client listens on; nothing listens in these tests, the redirect is read. */
export const LOOPBACK_REDIRECT = 'http://127.0.0.1:53682/callback';

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkcePair(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function startPath(
  provider: string,
  parameters: Readonly<Record<string, string | undefined>>,
): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.set(name, value);
  return `/v1/auth/oidc/${provider}/start?${query.toString()}`;
}

export interface BrowserSignIn {
  /** Where the service sent the browser at the end: the loopback address with code and state, or error. */
  readonly landing: URL;
  readonly pkce: Pkce;
  readonly state: string;
}

/**
 * What a native client and a person do: the client opens the browser at the service's start URL, the
 * person fills in the provider's login form, and the browser is sent back to the loopback address, where
 * this stops (as the client's listener would receive it).
 */
export async function signInThroughBrowser(options: {
  readonly serviceUrl: string;
  readonly provider: string;
  readonly username: string;
  readonly password: string;
  readonly otp?: string;
  readonly maxAge?: number;
  readonly browser?: Browser;
}): Promise<BrowserSignIn> {
  const browser = options.browser ?? new Browser();
  const pkce = pkcePair();
  const state = randomBytes(16).toString('base64url');
  const atLoopback = (location: string): boolean => location.startsWith('http://127.0.0.1:53682/');
  const loginPage = await browser.open(
    `${options.serviceUrl}${startPath(options.provider, {
      redirect_uri: LOOPBACK_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state,
      max_age: options.maxAge === undefined ? undefined : String(options.maxAge),
    })}`,
    atLoopback,
  );
  const end: Landing =
    loginPage.kind === 'page' && loginPage.html.includes('<form')
      ? await browser.submit(
          loginPage,
          { username: options.username, password: options.password, otp: options.otp ?? '' },
          atLoopback,
        )
      : loginPage;
  if (end.kind !== 'redirect')
    throw new Error(`the sign-in ended on a page: ${end.status} ${end.html.slice(0, 300)}`);
  return { landing: new URL(end.location), pkce, state };
}
