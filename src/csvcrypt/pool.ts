// Chunks processed on worker threads, results consumed in submission order.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Transformer } from './chunk.js';
import type { ChunkResult, TransformSetup } from './setup.js';

export interface ChunkProcessor {
  /** Submits a chunk; results resolve in any order but callers await them in submission order. */
  submit(data: Uint8Array): Promise<ChunkResult>;
  close(): Promise<void>;
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
    submit: async (data) => transformer.process(data),
    close: async () => {},
  };
}

export function workerPool(setup: TransformSetup, size: number): ChunkProcessor {
  const file = workerFile();
  const pending = new Map<number, { ok: (r: ChunkResult) => void; fail: (e: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let closing = false;
  const workers = Array.from({ length: size }, () => {
    // execArgv: []: the worker is plain built JS; inheriting a loader such as tsx's can deadlock Node 20 workers.
    // A small young generation keeps each worker's memory flat (see cli/small-heap.ts).
    const w = new Worker(file, { workerData: setup, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 3, maxOldGenerationSizeMb: 32 } });
    w.on('message', (msg: { id: number; result?: ChunkResult; error?: { name: string; message: string } }) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (!p) return;
      if (msg.result) p.ok(msg.result);
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
      const copy = new Uint8Array(data.length);
      copy.set(data);
      return new Promise<ChunkResult>((ok, fail) => {
        pending.set(id, { ok, fail });
        (workers[id % size] as Worker).postMessage({ id, data: copy }, [copy.buffer]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
