// Worker thread entry (built to dist/cli/csv-worker.js): processes chunks in order received.
import { parentPort, workerData } from 'node:worker_threads';
import { Transformer } from './chunk.js';
import type { TransformSetup } from './setup.js';

const transformer = new Transformer(workerData as TransformSetup);
parentPort?.on('message', ({ id, data }: { id: number; data: Uint8Array }) => {
  try {
    const result = transformer.process(data);
    // A fresh, exactly-sized buffer: safe to transfer (never a view of Node's shared pool).
    const out = new Uint8Array(result.out.length);
    out.set(result.out);
    const rowKeys = result.rowKeys?.slice();
    parentPort?.postMessage({ id, result: { ...result, out, ...(rowKeys ? { rowKeys } : {}) } }, rowKeys ? [out.buffer, rowKeys.buffer] : [out.buffer]);
  } catch (error) {
    // Name and message only: our errors never quote cell contents.
    parentPort?.postMessage({ id, error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } });
  }
});
