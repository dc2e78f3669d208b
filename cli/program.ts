import { Command, CommanderError, Option } from 'commander';
import { authCommands } from './commands/auth.js';
import { catalogCommands } from './commands/catalog.js';
import { completionCommand } from './commands/completion.js';
import { execCommand } from './commands/exec.js';
import { requestCommands } from './commands/requests.js';
import type { CliEnvironment } from './context.js';
import { CommandExited, describeFailure, EXIT, type ExitCode } from './exit-codes.js';

/** Commander's own refusals that are the caller's mistakes in how the command was written. */
const USAGE_ERRORS = new Set([
  'commander.unknownCommand',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.optionMissingArgument',
  'commander.invalidArgument',
  'commander.excessArguments',
  'commander.conflictingOption',
]);

export function buildProgram(environment: CliEnvironment): Command {
  const program = new Command('timebox')
    .description('Just-in-time access from the command line: ask for it, wait for approval, use it.')
    .version(environment.version)
    .addOption(new Option('--server <url>', 'the Timebox service').env('TIMEBOX_SERVER'))
    .option('--json', 'print data as JSON')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text: string) => environment.stdout.write(text),
      writeErr: (text: string) => environment.stderr.write(text),
    })
    .exitOverride();
  authCommands(program, environment);
  catalogCommands(program, environment);
  requestCommands(program, environment);
  execCommand(program, environment);
  completionCommand(program, environment.stdout);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the command line and answers its exit code; failures are one sentence on stderr. */
export async function run(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const program = buildProgram(environment);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error);
    if (error instanceof CommandExited) return error.exitCode;
    const { exitCode, message } = describeFailure(error);
    environment.stderr.write(`timebox: ${message}\n`);
    return exitCode;
  }
}

/** Commander has already printed its message (or the help); this is only the exit code. */
function commanderExit(error: CommanderError): ExitCode {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
  // `timebox` alone shows the help as an error: no command was given.
  if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (USAGE_ERRORS.has(error.code)) return EXIT.usage;
  return EXIT.error;
}
