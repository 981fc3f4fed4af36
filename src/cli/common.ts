// What every command shares: exit codes, error printing without stack traces
// (unless --debug), and commander set up to exit 2 on usage errors.

import { Command, CommanderError } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error whose message is written for the user: what went wrong and how to fix it. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export function newProgram(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError(true)
    .option('--debug', 'show stack traces of unexpected errors');
}

/** Errors whose messages are safe and useful to show as they are. */
const FRIENDLY = new Set(['UserError', 'KeyError', 'EnvelopeError', 'SealInputError', 'FlowError']);

export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync(argv as string[]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const name = program.name();
    if (error instanceof Error && FRIENDLY.has(error.name)) {
      process.stderr.write(`${name}: ${error.message}\n`);
      return error instanceof UserError ? error.exitCode : EXIT_FAILURE;
    }
    process.stderr.write(`${name}: unexpected error${error instanceof Error ? ` (${error.name})` : ''}; nothing was written. Run again with --debug for details.\n`);
    if (process.argv.includes('--debug') && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return EXIT_FAILURE;
  }
}
