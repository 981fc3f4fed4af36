// The streaming driver shared by decrypt-csv and encrypt-csv: read the input
// in chunks of whole records, process them (on worker threads for large
// inputs), write the results in order into a private temporary file beside
// the output, and rename it into place only when everything succeeded.

import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream, existsSync, openSync, renameSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { cellBytes, CsvSyntaxError, newRecordCells, recordBoundary, scanRecord, type RecordCells } from '../csv/scan.js';
import { UserError, EXIT_USAGE } from '../cli/common.js';
import { inProcess, workerPool, type ChunkProcessor } from './pool.js';
import type { CellFailure, ChunkResult, TransformSetup } from './setup.js';

const CHUNK_BYTES = 1 << 20;
/** Inputs smaller than this are processed in-process: starting workers would cost more than it saves. */
const WORKER_THRESHOLD_BYTES = 4 << 20;
/** No real row is this long; reading further would only exhaust memory on a broken file. */
const MAX_RECORD_BYTES = 64 << 20;

export interface Header {
  /** Raw bytes of the header record, line terminator included. */
  readonly raw: Buffer;
  /** Cell texts, BOM removed. */
  readonly names: readonly string[];
}

export interface Sample {
  readonly buf: Buffer;
  /** Calls back with the cells of each data record in the sample. */
  forEachRecord(fn: (buf: Buffer, cells: RecordCells) => void): void;
}

export interface RunOptions {
  readonly input: string;
  readonly output: string;
  readonly force: boolean;
  /** Worker threads (0 = process in this thread); undefined = decide from the input size. */
  readonly threads: number | undefined;
  /** Builds the transform once the header and a first sample of records are known. */
  readonly plan: (header: Header, sample: Sample) => TransformSetup;
  readonly progress?: (p: { bytes: number; total: number | undefined; records: number }) => void;
}

export interface RunSummary {
  readonly setup: TransformSetup;
  readonly records: number;
  readonly failures: readonly CellFailure[];
  readonly failureCounts: Readonly<Record<string, number>>;
  readonly ragged: ReadonlyArray<{ readonly row: number; readonly cells: number }>;
  readonly raggedCount: number;
  readonly legacyCells: number;
  readonly outputPath: string | undefined;
}

/** Sheet row number of data record k (0-based): the header is row 1. */
export const sheetRow = (record: number): number => record + 2;

export function defaultOutputPath(input: string, suffix: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.${suffix}${ext || '.csv'}`);
}

function checkInput(input: string): number | undefined {
  if (input === '-') return undefined;
  let size: number;
  try {
    const st = statSync(input);
    if (st.isDirectory()) throw new UserError(`${input} is a folder; give the CSV file inside it`);
    size = st.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `input file ${input} does not exist (check the path and the file name)` : `input file ${input} cannot be read (${code})`);
  }
  return size;
}

async function* chunksOf(stream: Readable): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield chunk as Buffer;
}

/** Splits a byte stream into buffers of whole records of roughly CHUNK_BYTES. */
async function* recordChunks(source: AsyncGenerator<Buffer>, carry: Buffer): AsyncGenerator<{ data: Buffer; bytesRead: number }> {
  let parts: Buffer[] = carry.length ? [carry] : [];
  let size = carry.length;
  let bytesRead = 0;
  for await (const chunk of source) {
    bytesRead += chunk.length;
    parts.push(chunk);
    size += chunk.length;
    if (size < CHUNK_BYTES) continue;
    const joined = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
    const cut = recordBoundary(joined, joined.length, false);
    if (cut === 0) {
      if (joined.length > MAX_RECORD_BYTES) {
        throw new UserError(`a single row is longer than ${MAX_RECORD_BYTES >> 20} MB: a quoted cell is probably never closed (a missing " in the file)`);
      }
      parts = [joined];
      continue; // one record longer than a chunk (a huge quoted cell): keep reading
    }
    yield { data: joined.subarray(0, cut), bytesRead };
    parts = cut < joined.length ? [Buffer.from(joined.subarray(cut))] : [];
    size = joined.length - cut;
  }
  if (size > 0) yield { data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size), bytesRead };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function readHeaderAndSample(source: AsyncGenerator<Buffer>): Promise<{ header: Header; rest: Buffer; eof: boolean }> {
  let buf = Buffer.alloc(0);
  let eof = false;
  // Enough to hold the header plus a sample of records for column detection.
  while (buf.length < CHUNK_BYTES) {
    const next = await source.next();
    if (next.done) {
      eof = true;
      break;
    }
    buf = Buffer.concat([buf, next.value]);
  }
  if (buf.length === 0) throw new UserError('the input is empty: expected a CSV file with a header row');
  const limit = recordBoundary(buf, buf.length, eof);
  // The BOM stays in the output (header.raw) but is not part of the first column's name.
  const bom = buf.subarray(0, 3).equals(BOM) ? 3 : 0;
  const cells = newRecordCells();
  const end = scanRecord(buf, bom, limit === 0 ? buf.length : limit, cells, 0);
  const names: string[] = [];
  for (let i = 0; i < cells.count; i++) {
    names.push(cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean).toString('utf8'));
  }
  return { header: { raw: buf.subarray(0, end), names }, rest: buf.subarray(end), eof };
}

function sampleOf(rest: Buffer, eof: boolean): Sample {
  const cut = recordBoundary(rest, rest.length, eof);
  const buf = rest.subarray(0, cut);
  return {
    buf,
    forEachRecord(fn) {
      const cells = newRecordCells();
      let pos = 0;
      let i = 0;
      while (pos < buf.length) {
        try {
          pos = scanRecord(buf, pos, buf.length, cells, i++);
        } catch (error) {
          // Broken CSV: stop sampling here; processing reports it with its row number.
          if (error instanceof CsvSyntaxError) return;
          throw error;
        }
        fn(buf, cells);
      }
    },
  };
}

function write(stream: Writable, data: Uint8Array): Promise<void> {
  return new Promise((ok, fail) => {
    if (stream.write(data)) ok();
    else {
      const onError = (e: Error) => fail(e);
      stream.once('error', onError);
      stream.once('drain', () => {
        stream.off('error', onError);
        ok();
      });
    }
  });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((ok, fail) => {
    stream.once('error', fail);
    stream.end(() => ok());
  });
}

/** Opens a private temporary file beside the destination (same folder, so the final rename is atomic). */
function openTemp(output: string): { path: string; stream: WriteStream } {
  const dir = dirname(resolve(output));
  if (!existsSync(dir)) throw new UserError(`the output folder ${dir} does not exist`);
  const path = join(dir, `.${basename(output)}.${randomBytes(4).toString('hex')}.partial`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    throw new UserError(`cannot write in ${dir} (${(error as NodeJS.ErrnoException).code}); choose another folder with -o`);
  }
  return { path, stream: createWriteStream(path, { fd }) };
}

export async function runCsvTransform(options: RunOptions): Promise<RunSummary> {
  const total = checkInput(options.input);
  const toStdout = options.output === '-';
  if (!toStdout && !options.force && existsSync(options.output)) {
    throw new UserError(`${options.output} already exists; add --force to replace it, or choose another name with -o`, EXIT_USAGE);
  }
  if (!toStdout && options.input !== '-' && resolve(options.input) === resolve(options.output)) {
    throw new UserError('the output would replace the input file; choose another name with -o', EXIT_USAGE);
  }
  const inputStream: Readable = options.input === '-' ? process.stdin : createReadStream(options.input, { highWaterMark: CHUNK_BYTES });
  const source = chunksOf(inputStream);
  let temp: { path: string; stream: WriteStream } | undefined;
  let processor: ChunkProcessor | undefined;
  const cleanup = () => {
    if (temp) {
      temp.stream.destroy();
      try {
        unlinkSync(temp.path);
      } catch {
        // already gone
      }
      temp = undefined;
    }
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { header, rest, eof } = await readHeaderAndSample(source);
    const setup = options.plan(header, sampleOf(rest, eof));
    const threads = options.threads ?? (total === undefined || total >= WORKER_THRESHOLD_BYTES ? Math.max(1, Math.min(availableParallelism(), 4)) : 0);
    processor = threads > 0 ? workerPool(setup, threads) : inProcess(setup);
    temp = toStdout ? undefined : openTemp(options.output);
    const out: Writable = temp ? temp.stream : process.stdout;
    await write(out, header.raw);

    let records = 0;
    let bytes = header.raw.length;
    const failures: CellFailure[] = [];
    const failureCounts: Record<string, number> = {};
    const ragged: Array<{ row: number; cells: number }> = [];
    let raggedCount = 0;
    let legacyCells = 0;
    const inflight: Array<{ promise: Promise<ChunkResult>; size: number }> = [];
    const maxInflight = Math.max(2, threads * 2);

    const consume = async (result: ChunkResult, size: number) => {
      for (const f of result.failures) if (failures.length < 10) failures.push({ ...f, record: records + f.record });
      for (const [col, n] of Object.entries(result.failureCounts)) failureCounts[col] = (failureCounts[col] ?? 0) + n;
      for (const r of result.ragged) if (ragged.length < 10) ragged.push({ row: sheetRow(records + r.record), cells: r.cells });
      raggedCount += result.raggedCount;
      legacyCells += result.legacyCells;
      if (result.stopped) {
        const f = failures[failures.length - 1] as CellFailure;
        throw new UserError(f.column ? `row ${sheetRow(f.record)}, column "${f.column}": ${f.message}` : `row ${sheetRow(f.record)}: ${f.message}`);
      }
      records += result.records;
      bytes += size;
      await write(out, result.out);
      options.progress?.({ bytes, total, records });
    };

    for await (const { data } of recordChunks(source, rest)) {
      inflight.push({ promise: processor.submit(data), size: data.length });
      if (inflight.length >= maxInflight) {
        const head = inflight.shift() as { promise: Promise<ChunkResult>; size: number };
        await consume(await head.promise, head.size);
      }
    }
    for (const head of inflight.splice(0)) await consume(await head.promise, head.size);

    if (temp) {
      await closeStream(temp.stream);
      renameSync(temp.path, options.output);
      temp = undefined;
    }
    return { setup, records, failures, failureCounts, ragged, raggedCount, legacyCells, outputPath: toStdout ? undefined : options.output };
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new UserError(`the input is not valid CSV: ${error.message}`);
    }
    throw error;
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await processor?.close();
    if (options.input !== '-') inputStream.destroy();
  }
}
