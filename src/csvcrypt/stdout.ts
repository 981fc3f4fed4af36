// Standard output that may close early (`decrypt-csv … -o - | head`, `--help | head`):
// that ends the command quietly instead of with an EPIPE stack trace.

import { createReadStream } from 'node:fs';

/** Thrown when the program reading our standard output stopped reading. */
export class StdoutClosed extends Error {
  override readonly name = 'StdoutClosed';
  constructor() {
    super('standard output was closed');
  }
}

let listening = false;

/**
 * Without a listener, an EPIPE on stdout is an uncaught 'error' event (a stack
 * trace). Write failures are seen by the writers' callbacks (copyToStdout), so
 * the event itself needs no action. Installed once per process.
 */
export function tolerateClosedStdout(): void {
  if (listening) return;
  listening = true;
  process.stdout.on('error', () => {});
}

function flushed(data: Buffer): Promise<void> {
  return new Promise((ok, fail) => {
    process.stdout.write(data, (error) => (error ? fail(error) : ok()));
  });
}

/** Copies a finished file to stdout; StdoutClosed when the reader goes away. */
export async function copyToStdout(path: string, chunkBytes: number): Promise<void> {
  tolerateClosedStdout();
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) await flushed(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') throw new StdoutClosed();
    throw error;
  } finally {
    stream.destroy();
  }
}
