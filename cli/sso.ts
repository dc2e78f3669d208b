import { spawn } from 'node:child_process';
import { ServiceError } from '../api/errors.js';
import type { GrantClient } from '../api/grant-client.js';
import { nativeSignIn, type NativeSignInResult } from '../api/native-sign-in.js';
import { CliError, EXIT } from './exit-codes.js';

/** How long the person has to finish in the browser unless TIMEBOX_SSO_TIMEOUT says otherwise. */
const DEFAULT_SSO_TIMEOUT_SECONDS = 300;

export interface SsoSignInOptions {
  readonly server: string;
  readonly provider: string;
  /** Print the URL instead of opening a browser: over SSH, or where no browser can be launched. */
  readonly printUrlOnly: boolean;
  readonly maxAgeSeconds?: number;
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: NodeJS.WriteStream;
  readonly userAgent: string;
}

/**
 * Company sign-in from the terminal: checks the provider against the ones the service offers (so a typo
 * is named with the alternatives before any browser opens), then runs the loopback flow the desktop uses.
 */
export async function ssoSignIn(client: GrantClient, options: SsoSignInOptions): Promise<NativeSignInResult> {
  await requireProvider(client, options.provider);
  const timeoutMs = ssoTimeoutMs(options.env);
  const abort = new AbortController();
  const onInterrupt = (): void => {
    abort.abort();
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await nativeSignIn({
      serviceUrl: options.server,
      provider: options.provider,
      openBrowser: (url) => announce(url, options),
      timeoutMs,
      signal: abort.signal,
      userAgent: options.userAgent,
      ...(options.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: options.maxAgeSeconds }),
    });
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'sign_in_timeout')
      throw new CliError(
        EXIT.signIn,
        `The sign-in in the browser was not finished within ${timeoutMs / 1000} s; run the command again.`,
      );
    if (error instanceof ServiceError && error.code === 'sign_in_cancelled')
      throw new CliError(EXIT.interrupted, 'The sign-in was cancelled.');
    // The browser came back with the provider's refusal (no HTTP status: it never reached the service).
    if (error instanceof ServiceError && error.status === null && error.code !== 'network_error')
      throw new CliError(EXIT.signIn, `The identity provider did not sign you in: ${error.message}`);
    throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

async function requireProvider(client: GrantClient, provider: string): Promise<void> {
  let providers: readonly { id: string; name: string }[] = [];
  try {
    providers = (await client.authMethods()).oidc;
  } catch (error) {
    // A service without company sign-in does not know the route.
    if (!(error instanceof ServiceError && error.status === 404)) throw error;
  }
  if (providers.length === 0)
    throw new CliError(
      EXIT.error,
      'Company sign-in (--sso) is not available on this service; sign in with your username and password.',
    );
  if (!providers.some((candidate) => candidate.id === provider))
    throw new CliError(
      EXIT.error,
      `This service has no identity provider "${provider}"; it offers ${providers
        .map((candidate) => `${candidate.id} (${candidate.name})`)
        .join(', ')}.`,
    );
}

function ssoTimeoutMs(env: NodeJS.ProcessEnv): number {
  const given = env.TIMEBOX_SSO_TIMEOUT?.trim();
  if (!given) return DEFAULT_SSO_TIMEOUT_SECONDS * 1000;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError(EXIT.usage, `TIMEBOX_SSO_TIMEOUT "${given}" is not a number of seconds.`);
  return seconds * 1000;
}

/**
 * The URL always goes to stderr (stdout stays for the result), so a browser that fails to open, or
 * opens on another display, never leaves the person without a way to go on.
 */
async function announce(url: string, options: SsoSignInOptions): Promise<void> {
  if (options.printUrlOnly) {
    options.stderr.write(`Open this address in a browser to sign in with ${options.provider}:\n${url}\n`);
    return;
  }
  options.stderr.write(
    `Opening your browser to sign in with ${options.provider}. If it does not open, go to:\n${url}\n`,
  );
  await openSystemBrowser(url).catch((error: unknown) => {
    options.stderr.write(
      `timebox: could not open a browser (${error instanceof Error ? error.message : String(error)}); use the address above.\n`,
    );
  });
}

/** The platform's own opener; no browser package is installed, and these commands are always there. */
function openSystemBrowser(url: string): Promise<void> {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? // `start` is a cmd built-in; its first quoted argument is a window title, hence the empty one.
          ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
        : ['xdg-open', [url]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      // The opener may outlive the sign-in (it hands off to the browser); the command does not wait for it.
      child.unref();
      resolve();
    });
  });
}
