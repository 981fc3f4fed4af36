// The page is written whole or not at all: a temporary file beside it,
// renamed over it. An existing file is replaced only when asked.

import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { EXIT_USAGE, UserError } from '../cli/common.js';

export function refuseExisting(file: string, force: boolean): void {
  if (!force && existsSync(file)) throw new UserError(`${file} already exists; add --force to replace it, or choose another name with -o`, EXIT_USAGE);
}

export function writeWhole(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.partial`;
  try {
    // No personal data in it (counts and row numbers only): readable like any document.
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UserError(`cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check that its folder exists and is writable; nothing was written`);
  }
}
