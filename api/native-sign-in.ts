import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ServiceError } from './errors.js';
import { loginResponse, type UserView } from './schemas.js';

export interface NativeSignInOptions {
  /** The service's base URL, e.g. https://timebox.acme.example. */
  readonly serviceUrl: string;
  /** The provider's id, from GET /v1/auth/methods. */
  readonly provider: string;
  /** Opens the system browser at a URL: Electron's shell.openExternal, or the CLI's opener. */
  readonly openBrowser: (url: string) => Promise<void>;
  /** Step-up: the provider asks the person again when they signed in longer ago than this. */
  readonly maxAgeSeconds?: number;
  /** How long the person has to finish in the browser (default 5 minutes). */
  readonly timeoutMs?: number;
  /** Ends the wait early (the person closed the window, pressed Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
  /** Sent as User-Agent when the code is redeemed: the session list shows it. */
  readonly userAgent?: string;
}

export interface NativeSignInResult {
  readonly token: string;
  readonly expiresAt: string;
  readonly user: UserView;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const REDEEM_TIMEOUT_MS = 15_000;
const CALLBACK_PATH = '/callback';
const errorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/**
 * Single sign-on for a native client (RFC 8252): listens on a one-shot loopback port, opens the system
 * browser at the service's start URL with a PKCE challenge and a state, waits for the browser to come
 * back with a one-time code (the tab then says it can be closed), and redeems the code with the verifier.
 * The listener answers only its own state and closes when done, failed, timed out or aborted. Plain
 * Node: the desktop main process and the CLI both use it, each with its own browser opener.
 */
export async function nativeSignIn(options: NativeSignInOptions): Promise<NativeSignInResult> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const { server, code } = await listenForCode(state, options);
  try {
    const { port } = server.address() as AddressInfo;
    const start = new URL(`/v1/auth/oidc/${encodeURIComponent(options.provider)}/start`, options.serviceUrl);
    start.searchParams.set('redirect_uri', `http://127.0.0.1:${port}${CALLBACK_PATH}`);
    start.searchParams.set('code_challenge', challenge);
    start.searchParams.set('code_challenge_method', 'S256');
    start.searchParams.set('state', state);
    if (options.maxAgeSeconds !== undefined) start.searchParams.set('max_age', String(options.maxAgeSeconds));
    await options.openBrowser(start.toString());
    return await redeem(options, await code, verifier);
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

async function listenForCode(
  state: string,
  options: NativeSignInOptions,
): Promise<{ server: ReturnType<typeof createServer>; code: Promise<string> }> {
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | null = null;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Always handled: a sign-in that fails before anyone awaits the code must not surface as unhandled.
  code.catch(() => undefined);
  const finish = (outcome: { code: string } | { error: ServiceError }): void => {
    if (!settle) return;
    if ('code' in outcome) settle.resolve(outcome.code);
    else settle.reject(outcome.error);
    settle = null;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
  };
  const timer = setTimeout(() => {
    finish({
      error: new ServiceError(
        'sign_in_timeout',
        'The sign-in in the browser took too long; try again.',
        null,
        true,
      ),
    });
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const abort = (): void => {
    finish({ error: new ServiceError('sign_in_cancelled', 'The sign-in was cancelled.', null, false) });
  };
  options.signal?.addEventListener('abort', abort);
  if (options.signal?.aborted) abort();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    // Anything but our callback with our state (a favicon, a forged link from another page) is ignored.
    if (url.pathname !== CALLBACK_PATH || url.searchParams.get('state') !== state) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    const error = url.searchParams.get('error');
    const received = url.searchParams.get('code');
    if (error !== null || received === null) {
      const message =
        url.searchParams.get('error_description') ?? 'The identity provider did not sign you in.';
      page(response, 'Sign-in failed', `${message} Go back to Timebox and try again.`);
      finish({ error: new ServiceError(error ?? 'invalid_callback', message, null, false) });
      return;
    }
    page(response, 'You are signed in', 'You can close this tab and go back to Timebox.');
    finish({ code: received });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, code };
}

async function redeem(
  options: NativeSignInOptions,
  code: string,
  verifier: string,
): Promise<NativeSignInResult> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(new URL('/v1/auth/oidc/token', options.serviceUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.userAgent === undefined ? {} : { 'user-agent': options.userAgent }),
      },
      body: JSON.stringify({ code, codeVerifier: verifier }),
      signal: AbortSignal.timeout(REDEEM_TIMEOUT_MS),
    });
  } catch {
    throw new ServiceError(
      'network_error',
      'Timebox could not reach the service to finish signing in; try again.',
      null,
      true,
    );
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const refusal = errorAnswer.safeParse(body);
    throw new ServiceError(
      refusal.success ? refusal.data.error.code : 'sign_in_failed',
      refusal.success ? refusal.data.error.message : `The service answered ${response.status}; try again.`,
      response.status,
      response.status >= 500,
    );
  }
  const session = loginResponse.safeParse(body);
  if (!session.success) {
    throw new ServiceError(
      'bad_response',
      'The service answered the sign-in with something unexpected.',
      response.status,
      false,
    );
  }
  return session.data;
}

/** The small page the browser tab ends on. */
function page(response: ServerResponse, title: string, text: string): void {
  const escape = (value: string): string =>
    value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
  response
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'cache-control': 'no-store',
    })
    .end(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escape(title)} – Timebox</title>` +
        `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
        `<h1 style="font-size:1.4rem">${escape(title)}</h1><p>${escape(text)}</p></body></html>`,
    );
}
