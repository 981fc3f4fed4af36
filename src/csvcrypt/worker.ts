// Worker thread entry (built to dist/cli/csv-worker.js): processes chunks in order received.
// Buffers travel both ways without copies: the input chunk goes back to the
// main thread with its result, and the output buffer, once written out, comes
// back here to be filled again.
import { parentPort, workerData } from 'node:worker_threads';
import { Transformer } from './chunk.js';
import type { TransformSetup } from './setup.js';

const KEPT_OUTPUTS = 8;
const outputs: ArrayBuffer[] = [];

/** A view of `size` bytes from offset 0 of an output buffer of this worker's own (never Node's shared pool). */
function take(size: number): Uint8Array {
  const i = outputs.findIndex((b) => b.byteLength >= size);
  const buffer = i >= 0 ? (outputs.splice(i, 1)[0] as ArrayBuffer) : new ArrayBuffer(Math.max(size + (size >> 2), 64 << 10));
  return new Uint8Array(buffer, 0, size);
}

const transformer = new Transformer(workerData as TransformSetup);
parentPort?.on('message', ({ id, data, give }: { id: number; data?: Uint8Array; give?: ArrayBuffer }) => {
  if (give) {
    if (outputs.length < KEPT_OUTPUTS) outputs.push(give);
    return;
  }
  if (!data) return;
  try {
    const result = transformer.process(data, take);
    const out = result.out;
    const rowKeys = result.rowKeys?.slice();
    const transfer = [out.buffer as ArrayBuffer, data.buffer as ArrayBuffer, ...(rowKeys ? [rowKeys.buffer as ArrayBuffer] : [])];
    parentPort?.postMessage({ id, input: data.buffer, result: { ...result, out, ...(rowKeys ? { rowKeys } : {}) } }, transfer);
  } catch (error) {
    // Name and message only: our errors never quote cell contents.
    parentPort?.postMessage({ id, error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } });
  }
});
