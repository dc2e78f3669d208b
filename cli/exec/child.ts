import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CliError, EXIT } from '../exit-codes.js';

/** Signals passed on to the command: stopping `timebox exec` stops what it runs, as the command decides. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Runs `command args…` with the terminal (stdin, stdout, stderr) and `env`, passes on every signal this
 * process receives, and answers its exit code: its own, or 128 + the signal's number when a signal ended
 * it, as a shell reports it. A command that cannot be started is a CliError saying why.
 */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forwarders = FORWARDED.map((signal) => {
      const forward = (): void => {
        child.kill(signal);
      };
      process.on(signal, forward);
      return () => process.removeListener(signal, forward);
    });
    const stopForwarding = (): void => {
      for (const remove of forwarders) remove();
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      stopForwarding();
      reject(
        new CliError(
          error.code === 'ENOENT' ? EXIT.commandNotFound : EXIT.cannotRun,
          error.code === 'ENOENT'
            ? `There is no command "${command}" on your PATH.`
            : `Could not start "${command}" (${error.message}).`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
