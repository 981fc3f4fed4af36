// Chunks processed on worker threads, results consumed in submission order.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Transformer } from './chunk.js';
import type { ChunkResult, TransformSetup } from './setup.js';

export interface ChunkProcessor {
  /**
   * Submits a chunk, a view from offset 0 of a buffer that the processor owns
   * until it hands it back with the result (`buffer`, free to be read into
   * again: the result never points into it). Results resolve in any order but
   * callers await them in submission order.
   */
  submit(data: Uint8Array): Promise<{ result: ChunkResult; buffer: ArrayBuffer }>;
  /** Hands back a result's output once it is written out, to be filled again. */
  recycle(out: Uint8Array): void;
  close(): Promise<void>;
}

/** The result's output as bytes of its own, never a view of the input buffer that is about to be reused. */
export function detachedOutput(result: ChunkResult, input: ArrayBufferLike): ChunkResult {
  return result.out.buffer === input ? { ...result, out: new Uint8Array(result.out) } : result;
}

/** The built worker beside the CLI bundle, or (when running from source) in dist/cli/. */
function workerFile(): string {
  for (const candidate of ['./csv-worker.js', '../../dist/cli/csv-worker.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('dist/cli/csv-worker.js is missing: run `npm run build`');
}

export function inProcess(setup: TransformSetup): ChunkProcessor {
  const transformer = new Transformer(setup);
  return {
    submit: async (data) => ({ result: detachedOutput(transformer.process(data), data.buffer), buffer: data.buffer as ArrayBuffer }),
    recycle: () => {},
    close: async () => {},
  };
}

export function workerPool(setup: TransformSetup, size: number): ChunkProcessor {
  const file = workerFile();
  const pending = new Map<number, { ok: (r: { result: ChunkResult; buffer: ArrayBuffer }) => void; fail: (e: Error) => void }>();
  let nextId = 0;
  let nextGive = 0;
  let failure: Error | undefined;
  let closing = false;
  const workers = Array.from({ length: size }, () => {
    // execArgv: []: the worker is plain built JS; inheriting a loader such as tsx's can deadlock Node 20 workers.
    // A small young generation keeps each worker's memory flat (see cli/small-heap.ts).
    const w = new Worker(file, { workerData: setup, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
    w.on('message', (msg: { id: number; result?: ChunkResult; input?: ArrayBuffer; error?: { name: string; message: string } }) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (!p) return;
      if (msg.result && msg.input) p.ok({ result: msg.result, buffer: msg.input });
      else p.fail(Object.assign(new Error(msg.error?.message ?? 'worker failed'), { name: msg.error?.name ?? 'Error' }));
    });
    const failAll = (e: Error) => {
      failure = e;
      for (const p of pending.values()) p.fail(e);
      pending.clear();
    };
    w.on('error', failAll);
    // A worker that dies without an 'error' (killed, out of memory) must not leave its chunks waiting forever.
    w.on('exit', (code) => {
      if (!closing) failAll(new Error(`a worker thread stopped unexpectedly (exit code ${code})`));
    });
    return w;
  });
  return {
    submit(data) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      // The buffer itself moves to the worker (no copy) and comes back with the result.
      return new Promise((ok, fail) => {
        pending.set(id, { ok, fail });
        (workers[id % size] as Worker).postMessage({ id, data }, [data.buffer as ArrayBuffer]);
      });
    },
    recycle(out) {
      // Any worker can use it; spread them so each keeps a few.
      if (!closing && out.byteOffset === 0 && out.buffer.byteLength > 0) (workers[nextGive++ % size] as Worker).postMessage({ give: out.buffer }, [out.buffer as ArrayBuffer]);
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
