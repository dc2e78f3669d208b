import { createInterface, type Interface } from 'node:readline';
import { read } from 'read';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Questions at the terminal. On a TTY the password is read without echo (the `read` package mutes the
 * output); from a pipe each answer is the next line of standard input, so scripts and tests can answer.
 */
export interface Prompter {
  ask(question: string, options?: { secret?: boolean }): Promise<string>;
  close(): void;
}

export function terminalPrompter(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Prompter {
  if (stdin.isTTY) {
    return {
      ask: (question, options = {}) =>
        read({
          prompt: question,
          silent: options.secret === true,
          replace: '',
          input: stdin,
          output: stderr,
        }),
      close: () => undefined,
    };
  }
  return pipedPrompter(stdin, stderr);
}

/** One line reader for the whole run: a second reader would lose what the first had buffered. */
function pipedPrompter(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Prompter {
  let lines: Interface | null = null;
  let iterator: AsyncIterator<string> | null = null;
  return {
    async ask(question) {
      stderr.write(question);
      lines ??= createInterface({ input: stdin, terminal: false });
      iterator ??= lines[Symbol.asyncIterator]();
      const next = await iterator.next();
      stderr.write('\n');
      if (next.done === true)
        throw new CliError(EXIT.usage, `Standard input ended before "${question.trim()}" was answered.`);
      return next.value;
    },
    close() {
      lines?.close();
    },
  };
}
