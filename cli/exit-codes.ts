import { isSessionEnded, ServiceError, UserError } from '../api/errors.js';

/** The documented exit codes of `timebox` (docs/cli.md). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  /** A request was denied, or the service refused the caller (403). */
  denied: 3,
  /** A request lapsed or a wait ran out of time. */
  timedOut: 4,
  /** Not signed in, or the session ended. */
  signIn: 5,
  /** `exec`: the command could not be started, or is not on the PATH, as shells report them. */
  cannotRun: 126,
  commandNotFound: 127,
  /** Ctrl-C while waiting: 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure of the command itself, with the exit code it ends with and a sentence for stderr. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `exec`'s command has ended: its exit code becomes ours, with nothing more said. */
export class CommandExited extends Error {
  constructor(readonly exitCode: number) {
    super(`the command exited with ${exitCode}`);
    this.name = 'CommandExited';
  }
}

export const usageError = (message: string): CliError => new CliError(EXIT.usage, message);

export const signInNeeded = (server: string | null): CliError =>
  new CliError(
    EXIT.signIn,
    server === null
      ? 'Sign in first: timebox login --server <url> (or set TIMEBOX_SERVER).'
      : `Sign in to ${server} first: timebox login --server ${server}`,
  );

/** The exit code and the sentence for any failure; never a stack trace. */
export function describeFailure(error: unknown): { exitCode: ExitCode; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  if (isSessionEnded(error))
    return { exitCode: EXIT.signIn, message: `${error.message} Sign in again: timebox login` };
  if (error instanceof ServiceError)
    return {
      exitCode: error.status === 403 ? EXIT.denied : EXIT.error,
      // The client's sentences are the desktop's, which retries on its own; this command does not.
      message: error.message.replace(/;? ?Timebox keeps trying\.$/, '.'),
    };
  if (error instanceof UserError) return { exitCode: EXIT.error, message: error.message };
  return {
    exitCode: EXIT.error,
    message: `timebox failed unexpectedly (${error instanceof Error ? error.message : String(error)}).`,
  };
}
