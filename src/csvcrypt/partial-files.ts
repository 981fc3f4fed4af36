// The private temporary files of a transform: `.partial` beside the output,
// renamed into place on success, and the spool of standard output. Their names
// carry the writing process's id, so a later run tells a leftover of a killed
// run (its process is gone: remove it, it may hold plaintext) from a file that
// another run is still writing (leave it).

import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, openSync, readdirSync, unlinkSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../cli/common.js';

export interface PartialFile {
  readonly path: string;
  readonly stream: WriteStream;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `.<base>.<pid>-<8 hex>.partial`; before process ids were added, `.<base>.<8 hex>.partial`. */
function partialPattern(base: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(base)}\\.(?:([0-9]+)-)?[0-9a-f]{8}\\.partial$`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the leftovers of interrupted runs for this output; returns their paths. */
export function removeStalePartials(dir: string, base: string): string[] {
  const pattern = partialPattern(base);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const pid = match[1] === undefined ? undefined : Number(match[1]);
    if (pid !== undefined && (pid === process.pid || isRunning(pid))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // another user's file, or already gone
    }
  }
  return removed;
}

/** Creates a new private (0600) partial file in `dir`; fails rather than follow or reuse an existing name. */
export function openPartial(dir: string, base: string, otherFolder: string): PartialFile {
  const path = join(dir, `.${base}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    throw new UserError(`cannot write in ${dir} (${(error as NodeJS.ErrnoException).code}); ${otherFolder}`);
  }
  return { path, stream: createWriteStream(path, { fd }) };
}
