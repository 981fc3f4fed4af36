// Reading the input in chunks of whole records into a fixed ring of buffers:
// each chunk is read straight into a buffer of the ring (no stream pieces to
// concatenate), lent to whoever processes it (a worker thread gets the buffer
// itself, transferred, and sends it back) and reused once returned. Memory
// then stays flat on any file size instead of growing with buffers that the
// garbage collector frees late.

import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { recordBoundary } from '../csv/scan.js';

/** Where the bytes come from: read(into, at, length) resolves with the number read, 0 at the end. */
export interface ByteSource {
  read(into: Uint8Array, at: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export async function fileSource(path: string): Promise<ByteSource> {
  const handle: FileHandle = await open(path, 'r');
  return {
    read: async (into, at, length) => (await handle.read(into, at, length, null)).bytesRead,
    close: () => handle.close(),
  };
}

/** Standard input (or any stream): its pieces are copied into the caller's buffers. */
export function streamSource(stream: Readable): ByteSource {
  const pieces = stream[Symbol.asyncIterator]();
  let left: Buffer | undefined;
  return {
    async read(into, at, length) {
      if (!left || left.length === 0) {
        const next = await pieces.next();
        if (next.done) return 0;
        left = next.value as Buffer;
      }
      const n = Math.min(length, left.length);
      into.set(left.subarray(0, n), at);
      left = left.subarray(n);
      return n;
    },
    close: async () => {},
  };
}

/** Fills `into` from `at` until it is full or the source ends; resolves with the bytes now held. */
async function fill(source: ByteSource, into: Uint8Array, at: number): Promise<{ size: number; eof: boolean }> {
  let size = at;
  while (size < into.length) {
    const n = await source.read(into, size, into.length - size);
    if (n === 0) return { size, eof: true };
    size += n;
  }
  return { size, eof: false };
}

/**
 * Buffers of one size, handed out and taken back. Only ever as many exist as
 * are lent at once, which the caller bounds (chunks in flight).
 */
export class BufferRing {
  private readonly free: Uint8Array[] = [];
  constructor(readonly size: number) {}

  take(): Uint8Array {
    // Not Buffer.allocUnsafe: a buffer of Node's shared pool cannot be transferred to a worker.
    return this.free.pop() ?? new Uint8Array(this.size);
  }

  /** Takes back a buffer of this ring (others, such as one grown for a huge record, are left to the collector). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.size && this.free.length < 64) this.free.push(new Uint8Array(buffer));
  }
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** A buffer holding `bytes` at its start: one of the ring when they fit, else one of twice their size. */
function bufferFor(bytes: Uint8Array, ring: BufferRing): Uint8Array {
  const buf = bytes.length <= ring.size ? ring.take() : new Uint8Array(2 * bytes.length);
  buf.set(bytes);
  return buf;
}

/**
 * Splits the source into chunks of whole records, each a view from offset 0 of
 * a buffer the consumer owns until it gives it back to `ring`. A record longer
 * than a ring buffer (a huge quoted cell) is read into a buffer that doubles
 * until it holds it, up to `maxRecord` bytes, past which `tooLong()` is thrown.
 */
export async function* recordChunks(source: ByteSource, carry: Uint8Array, ring: BufferRing, maxRecord: number, tooLong: () => Error): AsyncGenerator<Uint8Array> {
  let buf = bufferFor(carry, ring);
  let held = carry.length;
  for (;;) {
    const { size, eof } = await fill(source, buf, held);
    if (size === 0) return;
    const cut = recordBoundary(asBuffer(buf), size, eof);
    if (cut === 0) {
      if (size > maxRecord) throw tooLong();
      // Not one whole record yet: read on into a buffer twice the size.
      const bigger = new Uint8Array(Math.min(2 * buf.length, maxRecord + 1));
      bigger.set(buf.subarray(0, size));
      buf = bigger;
      held = size;
      continue;
    }
    // The record cut short at the end starts the next buffer (copied before this one is handed out).
    const next = eof ? undefined : bufferFor(buf.subarray(cut, size), ring);
    yield buf.subarray(0, cut);
    if (!next) return;
    buf = next;
    held = size - cut;
  }
}
