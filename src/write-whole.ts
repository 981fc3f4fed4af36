// A file written whole or not at all: a temporary file beside it, renamed
// over it, so a reader (or a crash) never sees half of it.

import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { EXIT_USAGE, UserError } from './cli/common.js';

/** For outputs the user names: an existing one is replaced only with --force (exit 2 otherwise). */
export function refuseExisting(file: string, force: boolean): void {
  if (!force && existsSync(file)) throw new UserError(`${file} already exists; add --force to replace it, or choose another name with -o`, EXIT_USAGE);
}

export function writeWhole(file: string, text: string, mode: number): void {
  const temporary = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(temporary, text, { mode });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UserError(`cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check that its folder exists and is writable; nothing was written`);
  }
}
