// What every command shares: exit codes, error printing without stack traces
// (unless --debug), commander set up to exit 2 on usage errors, and stopping
// early, quietly: Ctrl-C (130), SIGTERM (143) and a reader that closed our
// output (`| head`: 141, as for any Unix tool killed by SIGPIPE, so a pipeline
// never passes for a success it did not see), with the command's own clean-up
// run first when it asked for it.

import { Command, CommanderError } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;
export const EXIT_PIPE_CLOSED = 141;
const EXIT_TERMINATED = 143;

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

export { plural } from '../plural.js';

/** The reason a stop signal carries: the command was stopped early, and the exit status that says why. */
export class Stopped extends Error {
  override readonly name = 'Stopped';
  constructor(
    readonly exitCode: number,
    why: string,
  ) {
    super(why);
  }
}

interface Session {
  readonly name: string;
  controller: AbortController | undefined;
  /** Set once the command has been stopped; the command's own result then no longer counts. */
  exitCode: number | undefined;
}

let session: Session | undefined;

/**
 * For a command with something to undo when stopped early (servers it
 * started, a prompt): the signal aborts on Ctrl-C, SIGTERM or a closed
 * stdout, and the command unwinds through its `finally` blocks; a second
 * Ctrl-C exits at once. Commands that never ask are ended at once.
 */
export function stopSignal(): AbortSignal {
  if (!session) throw new Error('stopSignal() outside runCommand()');
  session.controller ??= new AbortController();
  return session.controller.signal;
}

function stop(exitCode: number, why: string, handledElsewhere = false): void {
  const s = session;
  if (!s) return;
  const controller = s.controller;
  if (controller && !controller.signal.aborted) {
    s.exitCode ??= exitCode;
    controller.abort(new Stopped(exitCode, why));
  } else if (handledElsewhere) {
    // The command's own handler cleans up and decides, except that Ctrl-C always ends with 130.
    if (exitCode === EXIT_INTERRUPTED) s.exitCode ??= exitCode;
  } else {
    process.exit(exitCode);
  }
}

/** Ctrl-C, as SIGINT or (at a prompt in raw mode) as a key. */
export function interrupt(): void {
  stop(EXIT_INTERRUPTED, 'interrupted');
}

const onSigint = () => stop(EXIT_INTERRUPTED, 'interrupted', process.listenerCount('SIGINT') > 1);
const onSigterm = () => stop(EXIT_TERMINATED, 'terminated', process.listenerCount('SIGTERM') > 1);

let watchingStdout = false;

/** For the life of the process: commander and late writes can hit a closed pipe after the command returned. */
function watchStdout(): void {
  if (watchingStdout) return;
  watchingStdout = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      // The reader has what it wanted (`| head`): stop writing, quietly.
      if (session) stop(EXIT_PIPE_CLOSED, 'output closed');
      else if (!process.exitCode) process.exitCode = EXIT_PIPE_CLOSED; // the command had finished, but some output was lost
      return;
    }
    process.stderr.write(`${session?.name ?? 'sealed-survey'}: cannot write the output (${error.code ?? error.name})\n`);
    process.exit(EXIT_FAILURE);
  });
}

/** The exit status of an error that only says the command was stopped early, if it is one. */
function stoppedBy(error: unknown): number | undefined {
  if (error instanceof Stopped) return error.exitCode;
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return EXIT_PIPE_CLOSED;
  // A readline prompt rejects its pending question so when Ctrl-C closes it.
  if (error instanceof Error && error.name === 'AbortError') return EXIT_INTERRUPTED;
  return undefined;
}

/** Errors whose messages are safe and useful to show as they are. */
const FRIENDLY = new Set(['UserError', 'KeyError', 'EnvelopeError', 'SealInputError', 'FlowError', 'RecordingError']);

function reportError(name: string, error: unknown): number {
  if (error instanceof Error && FRIENDLY.has(error.name)) {
    process.stderr.write(`${name}: ${error.message}\n`);
    return error instanceof UserError ? error.exitCode : EXIT_FAILURE;
  }
  process.stderr.write(`${name}: unexpected error${error instanceof Error ? ` (${error.name})` : ''}; nothing was written. Run again with --debug for details.\n`);
  if (process.argv.includes('--debug') && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  return EXIT_FAILURE;
}

/**
 * Runs one command and gives its exit status: its own, or once it was stopped
 * early the stop's, whatever the command did after (errors included, unprinted).
 */
export async function runCommand(name: string, command: () => Promise<number | void>, onError: (error: unknown) => number = (e) => reportError(name, e)): Promise<number> {
  const s: Session = { name, controller: undefined, exitCode: undefined };
  session = s;
  watchStdout();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const code = (await command()) ?? EXIT_OK;
    return s.exitCode ?? code;
  } catch (error) {
    return s.exitCode ?? stoppedBy(error) ?? onError(error);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    session = undefined;
  }
}

export function newProgram(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError(true)
    .option('--debug', 'show stack traces of unexpected errors');
}

export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  return runCommand(program.name(), async () => {
    try {
      await program.parseAsync(argv as string[]);
      return EXIT_OK;
    } catch (error) {
      // Help and version are "errors" to commander; they already printed.
      if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      throw error;
    }
  });
}
