import type { ServiceError } from '../api/errors.js';
import type { GrantClient } from '../api/grant-client.js';
import { createClient, sessionStore, userAgentOf, type CliEnvironment, type SignedIn } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { ssoSignIn } from './sso.js';

/** Answers a 401 `step_up_required` with a client whose session satisfies the role, or says what to run. */
export type StepUp = (refusal: ServiceError) => Promise<GrantClient>;

/**
 * A role that asks for a second factor or a recent sign-in: at a terminal, the company sign-in runs again
 * with the role's `max_age` (so the provider asks for the person's factors again), the new session
 * replaces the kept one, and the caller retries. Without a terminal (a script, CI) there is nobody to sign
 * in, so the command ends with the sign-in to run first; a password session steps up with `login`.
 */
export function stepUpAtTerminal(environment: CliEnvironment, session: SignedIn): StepUp {
  return async (refusal) => {
    const provider = refusal.details?.provider;
    const maxAge = refusal.details?.maxAgeSeconds;
    const maxAgeSeconds = typeof maxAge === 'number' ? maxAge : 0;
    if (typeof provider !== 'string')
      throw new CliError(EXIT.signIn, `${refusal.message} Run: timebox login --server ${session.server}`);
    const interactive = environment.stdin.isTTY && environment.stderr.isTTY;
    if (!interactive || session.source === 'environment')
      throw new CliError(
        EXIT.signIn,
        `${refusal.message} Run: timebox login --sso ${provider} --max-age ${maxAgeSeconds} --server ${session.server}, then this command again.`,
      );
    environment.stderr.write(`timebox: ${refusal.message}\n`);
    const answer = await ssoSignIn(session.client, {
      server: session.server,
      provider,
      printUrlOnly: false,
      maxAgeSeconds,
      env: environment.env,
      stderr: environment.stderr,
      userAgent: userAgentOf(environment),
    });
    await (
      await sessionStore(environment)
    ).save({
      server: session.server,
      token: answer.token,
      expiresAt: answer.expiresAt,
      username: answer.user.username,
    });
    return createClient(environment, session.server, answer.token).client;
  };
}
