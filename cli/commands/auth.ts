import type { Command } from 'commander';
import { ServiceError } from '../../api/errors.js';
import type { GrantClient } from '../../api/grant-client.js';
import type { UserView } from '../../api/schemas.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import {
  createClient,
  serverOption,
  sessionStore,
  signedIn,
  userAgentOf,
  type CliEnvironment,
  type GlobalOptions,
} from '../context.js';
import { printJson } from '../output.js';
import { terminalPrompter } from '../prompts.js';
import { ssoSignIn } from '../sso.js';

interface LoginOptions extends GlobalOptions {
  readonly username?: string;
  readonly otp?: string;
  readonly sso?: string;
  /** False with --no-browser. */
  readonly browser: boolean;
  readonly maxAge?: string;
}

export function authCommands(program: Command, environment: CliEnvironment): void {
  program
    .command('login')
    .description('Sign in and keep the session in the OS keychain')
    .option('-u, --username <name>', 'who signs in (asked for when not given)')
    .option('--otp <code>', 'the 6-digit code from your authenticator app (asked for when needed)')
    .option('--sso <provider>', 'sign in with your company identity provider in the browser')
    .option(
      '--max-age <seconds>',
      'with --sso: the provider asks you again if you signed in there longer ago than this (0: always)',
    )
    .option('--no-browser', 'with --sso: print the address to open instead of opening a browser (over SSH)')
    .action(async (_options: LoginOptions, command: Command) => {
      await login(environment, command.optsWithGlobals<LoginOptions>());
    });

  program
    .command('logout')
    .description('End the session on the service and remove it from the keychain')
    .action(async (_options: GlobalOptions, command: Command) => {
      await logout(environment, command.optsWithGlobals<GlobalOptions>());
    });

  program
    .command('whoami')
    .description('Show who you are signed in as, and where')
    .action(async (_options: GlobalOptions, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const session = await signedIn(environment, options);
      const me = await session.client.me();
      if (options.json === true) printJson(environment.stdout, { server: session.server, ...me });
      else
        environment.stdout.write(
          `${me.username} (${me.displayName}) on ${session.server}\ngroups: ${me.groups.join(', ') || 'none'}${me.isAdmin ? '\nadministrator' : ''}\n`,
        );
    });
}

async function login(environment: CliEnvironment, options: LoginOptions): Promise<void> {
  const server = serverOption(options, environment.env);
  if (server === null)
    throw usageError(
      'Say which service to sign in to: timebox login --server <url> (or set TIMEBOX_SERVER).',
    );
  const { client } = createClient(environment, server, null);
  if (options.sso !== undefined) {
    await loginWithProvider(environment, client, server, options.sso, options);
    return;
  }
  if (options.otp !== undefined && !/^\d{6}$/.test(options.otp))
    throw usageError(`--otp "${options.otp}" is not a 6-digit code.`);
  // Read before the password is asked for: a missing or locked keychain is said at once, before a
  // session is started on the service that could not be kept.
  const store = await sessionStore(environment);
  await store.read();
  const prompter = terminalPrompter(environment.stdin, environment.stderr);
  try {
    const username = options.username ?? (await prompter.ask('Username: '));
    if (username.trim() === '') throw usageError('A username is needed to sign in.');
    const password = await prompter.ask('Password: ', { secret: true });
    let answer: Awaited<ReturnType<GrantClient['login']>>;
    try {
      answer = await client.login(username.trim(), password, options.otp);
    } catch (error) {
      if (!(error instanceof ServiceError && error.code === 'otp_required' && options.otp === undefined))
        throw error;
      const otp = (await prompter.ask('Code from your authenticator app: ')).trim();
      answer = await client.login(username.trim(), password, otp);
    }
    await keepSession(environment, store, server, answer, options, '');
  } catch (error) {
    if (error instanceof ServiceError && error.status === 401) throw new CliError(EXIT.signIn, error.message);
    throw error;
  } finally {
    prompter.close();
  }
}

/** Company sign-in in the browser; the session is kept exactly as a password sign-in's. */
async function loginWithProvider(
  environment: CliEnvironment,
  client: GrantClient,
  server: string,
  provider: string,
  options: LoginOptions,
): Promise<void> {
  const store = await sessionStore(environment);
  await store.read();
  const answer = await ssoSignIn(client, {
    server,
    provider,
    printUrlOnly: !options.browser,
    env: environment.env,
    stderr: environment.stderr,
    userAgent: userAgentOf(environment),
    ...(options.maxAge === undefined ? {} : { maxAgeSeconds: parseMaxAge(options.maxAge) }),
  });
  await keepSession(
    environment,
    store,
    server,
    answer,
    options,
    ` (${answer.user.displayName}) with ${provider}`,
  );
}

/**
 * Keeps a new session in the keychain, as both ways of signing in do, and says who signed in: `how` is
 * what the sentence adds after the username (who they are and the provider, for company sign-in).
 */
async function keepSession(
  environment: CliEnvironment,
  store: Awaited<ReturnType<typeof sessionStore>>,
  server: string,
  answer: { readonly token: string; readonly expiresAt: string; readonly user: UserView },
  options: LoginOptions,
  how: string,
): Promise<void> {
  await store.save({
    server,
    token: answer.token,
    expiresAt: answer.expiresAt,
    username: answer.user.username,
  });
  if (options.json === true)
    printJson(environment.stdout, { server, expiresAt: answer.expiresAt, user: answer.user });
  else
    environment.stdout.write(
      `Signed in to ${server} as ${answer.user.username}${how} until ${answer.expiresAt}.\n`,
    );
}

function parseMaxAge(text: string): number {
  if (!/^\d+$/.test(text)) throw usageError(`--max-age "${text}" is not a whole number of seconds.`);
  return Number(text);
}

async function logout(environment: CliEnvironment, options: GlobalOptions): Promise<void> {
  const session = await signedIn(environment, options);
  if (session.source === 'environment')
    throw usageError('The session comes from TIMEBOX_TOKEN: unset it to sign out of this shell.');
  try {
    await session.client.logout();
  } catch (error) {
    // A session the service already ended is still removed here; any other failure keeps it to retry.
    if (!(error instanceof ServiceError && error.status === 401)) throw error;
  }
  await (await sessionStore(environment)).forget();
  environment.stdout.write(`Signed out of ${session.server}.\n`);
}
