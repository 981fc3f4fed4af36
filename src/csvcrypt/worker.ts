// Worker thread entry (built to dist/cli/csv-worker.js): processes chunks in order received.
import { parentPort, workerData } from 'node:worker_threads';
import { Transformer } from './chunk.js';
import type { TransformSetup } from './setup.js';

const transformer = new Transformer(workerData as TransformSetup);
parentPort?.on('message', ({ id, data }: { id: number; data: Uint8Array }) => {
  try {
    const result = transformer.process(data);
    // Transferred as it is when it is a whole buffer of its own; else (a view of the input, of
    // Node's shared pool, or of a larger buffer) copied into one.
    const whole = result.out.byteOffset === 0 && result.out.byteLength === result.out.buffer.byteLength && result.out.buffer !== data.buffer;
    const out = whole ? result.out : new Uint8Array(result.out);
    const rowKeys = result.rowKeys?.slice();
    // The input buffer goes back to the main thread, to be read into again.
    const transfer = [out.buffer as ArrayBuffer, data.buffer as ArrayBuffer, ...(rowKeys ? [rowKeys.buffer as ArrayBuffer] : [])];
    parentPort?.postMessage({ id, input: data.buffer, result: { ...result, out, ...(rowKeys ? { rowKeys } : {}) } }, transfer);
  } catch (error) {
    // Name and message only: our errors never quote cell contents.
    parentPort?.postMessage({ id, error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } });
  }
});
