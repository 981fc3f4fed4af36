// The streaming driver behind decrypt-csv and encrypt-csv: read the input in
// chunks of whole records, process them (on worker threads for large inputs),
// write the results in order into a private temporary file, and only when
// everything succeeded rename it into place, or copy it to standard output:
// a failed run writes nothing anywhere.

import { existsSync, renameSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { cellBytes, CsvSyntaxError, detectDelimiter, newRecordCells, recordBoundary, scanRecord, type Delimiter, type RecordCells } from '../csv/scan.js';
import { UserError, EXIT_USAGE } from '../cli/common.js';
import { openPartial, removeStalePartials, type PartialFile } from './partial-files.js';
import { inProcess, workerPool, type ChunkProcessor } from './pool.js';
import { failureReport, rowList, sheetRow, type ReportedFailure } from './problems.js';
import { BufferRing, fileSource, recordChunks, streamSource, type ByteSource } from './record-reader.js';
import { RowLedger, type Duplicates } from './row-ledger.js';
import type { ChunkResult, DecryptSetup, TransformSetup } from './setup.js';
import { copyToStdout } from './stdout.js';

/** Chunks are small so that the few in flight (see maxInflight) keep memory low; a message per 256 kB costs little. */
const CHUNK_BYTES = 256 << 10;
/** Inputs smaller than this are processed in-process: starting workers would cost more than it saves. */
const WORKER_THRESHOLD_BYTES = 4 << 20;
/**
 * No survey row comes near this (64 sealed cells are under 2 MB); past it the
 * file is broken (a quote never closed) and reading on would only fill memory.
 */
const MAX_RECORD_BYTES = 16 << 20;
/** Base name of the standard-output spool in the temporary folder. */
const STDOUT_SPOOL = 'sealed-survey-stdout';
const MAX_LISTED = 10;

export interface Header {
  /** Raw bytes of the header record, line terminator included. */
  readonly raw: Buffer;
  /** Cell texts, BOM removed. */
  readonly names: readonly string[];
  readonly delimiter: Delimiter;
  /** The delimiter was read from the header, not given with --delimiter. */
  readonly delimiterDetected: boolean;
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
  /** The separator; undefined = read it from the header. */
  readonly delimiter?: Delimiter | undefined;
  /** Builds the transform once the header and a first sample of records are known. */
  readonly plan: (header: Header, sample: Sample) => TransformSetup;
  readonly progress?: (p: { bytes: number; total: number | undefined; records: number }) => void;
  /** Tells the user something worth knowing that is not a problem. */
  readonly note?: (message: string) => void;
}

export interface RunSummary {
  readonly setup: TransformSetup;
  readonly records: number;
  /** The first few failures, by absolute record. */
  readonly failures: readonly ReportedFailure[];
  readonly failureCounts: Readonly<Record<string, number>>;
  readonly ragged: ReadonlyArray<{ readonly row: number; readonly cells: number }>;
  readonly raggedCount: number;
  readonly legacyCells: number;
  /** requests_to_twilio_v2 cells opened (decrypted, or re-sealed by encrypt-csv --from-v2-key). */
  readonly ipaV2Cells: number;
  /** Decrypt: rows holding the same response (an error) and rows sharing an execution_sid (a warning). */
  readonly duplicateResponses: Duplicates;
  readonly duplicateExecutions: Duplicates;
  readonly outputPath: string | undefined;
}

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

/** Reads of up to CHUNK_BYTES, for the header and first sample only; the rest is read into the ring. */
async function* blocksOf(source: ByteSource): AsyncGenerator<Buffer> {
  for (;;) {
    const block = Buffer.allocUnsafe(CHUNK_BYTES);
    const n = await source.read(block, 0, block.length);
    if (n === 0) return;
    yield block.subarray(0, n);
  }
}

function tooLong(): UserError {
  return new UserError(`a row is longer than ${MAX_RECORD_BYTES >> 20} MB, which no survey row is: a quoted cell is probably never closed (a missing " in the file)`);
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Reads the header and a sample for column detection: at least CHUNK_BYTES, and at least one whole record after the header. */
async function readHeaderAndSample(source: AsyncGenerator<Buffer>, forced: Delimiter | undefined): Promise<{ header: Header; rest: Buffer; eof: boolean }> {
  let buf: Buffer = Buffer.alloc(0);
  let eof = false;
  for (let want = CHUNK_BYTES; ; want = Math.min(2 * buf.length, MAX_RECORD_BYTES + 1)) {
    const parts: Buffer[] = [buf];
    let size = buf.length;
    while (size < want && !eof) {
      const next = await source.next();
      if (next.done) eof = true;
      else {
        parts.push(next.value);
        size += next.value.length;
      }
    }
    buf = Buffer.concat(parts, size);
    if (buf.length === 0) throw new UserError('the input is empty: expected a CSV file with a header row');
    // The BOM stays in the output (header.raw) but is not part of the first column's name.
    const bom = buf.subarray(0, 3).equals(BOM) ? 3 : 0;
    const delimiter = forced ?? detectDelimiter(buf, bom);
    const limit = recordBoundary(buf, buf.length, eof);
    if (limit > 0) {
      const cells = newRecordCells();
      const end = scanRecord(buf, bom, limit, cells, 0, delimiter.charCodeAt(0));
      const rest = buf.subarray(end);
      if (eof || recordBoundary(rest, rest.length, false) > 0) {
        const names: string[] = [];
        for (let i = 0; i < cells.count; i++) {
          names.push(cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean).toString('utf8'));
        }
        return { header: { raw: buf.subarray(0, end), names, delimiter, delimiterDetected: forced === undefined }, rest, eof };
      }
    }
    if (buf.length > MAX_RECORD_BYTES) throw tooLong();
  }
}

function sampleOf(rest: Buffer, eof: boolean, delimiter: Delimiter): Sample {
  const cut = recordBoundary(rest, rest.length, eof);
  const buf = rest.subarray(0, cut);
  const separator = delimiter.charCodeAt(0);
  return {
    buf,
    forEachRecord(fn) {
      const cells = newRecordCells();
      let pos = 0;
      let i = 0;
      while (pos < buf.length) {
        try {
          pos = scanRecord(buf, pos, buf.length, cells, i++, separator);
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

/** `flushed` is called once the stream no longer holds `data` (it has reached the file). */
function write(stream: Writable, data: Uint8Array, flushed?: () => void): Promise<void> {
  return new Promise((ok, fail) => {
    if (stream.write(data, flushed && ((error) => error || flushed()))) ok();
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

/**
 * A legacy cell in a column that also holds ss1 tokens could have been put in
 * place of a sealed one (FORMAT.md §7): refused unless --allow-legacy-cells.
 */
class LegacyMixCheck {
  private readonly firstToken: number[];
  private readonly firstLegacy: number[];
  /** Whether a column's first unbound cell is a `v2:` one, for the wording. */
  private readonly v2First: boolean[];
  constructor(private readonly setup: DecryptSetup) {
    this.firstToken = setup.columns.map(() => -1);
    this.firstLegacy = setup.columns.map(() => -1);
    this.v2First = setup.columns.map(() => false);
  }

  add(result: ChunkResult, base: number): void {
    if (this.setup.allowLegacyCells) return;
    this.setup.columns.forEach((col, j) => {
      const token = result.firstToken[j] as number;
      const legacy = result.firstLegacy[j] as number;
      if (this.firstToken[j] === -1 && token !== -1) this.firstToken[j] = base + token;
      if (this.firstLegacy[j] === -1 && legacy !== -1) {
        this.firstLegacy[j] = base + legacy;
        this.v2First[j] = result.firstIpaV2?.[j] === legacy;
      }
      if (this.firstToken[j] !== -1 && this.firstLegacy[j] !== -1) {
        throw new UserError(
          `column "${col.name}" holds sealed tokens (first in ${rowList([this.firstToken[j] as number])}) and ${this.v2First[j] ? 'requests_to_twilio_v2 ("v2:") cells' : 'old CryptoJS cells'} (first in ${rowList([this.firstLegacy[j] as number])}). ` +
            'An old cell carries no check of its column or row, so anyone who can edit the sheet could put one in place of a sealed cell; nothing was written. ' +
            'If this column was only partly migrated, add --allow-legacy-cells.',
        );
      }
    });
  }
}

const NO_DUPLICATES: Duplicates = { groups: [], total: 0 };

export async function runCsvTransform(options: RunOptions): Promise<RunSummary> {
  const total = checkInput(options.input);
  const toStdout = options.output === '-';
  if (!toStdout && !options.force && existsSync(options.output)) {
    throw new UserError(`${options.output} already exists; add --force to replace it, or choose another name with -o`, EXIT_USAGE);
  }
  if (!toStdout && options.input !== '-' && resolve(options.input) === resolve(options.output)) {
    throw new UserError('the output would replace the input file; choose another name with -o', EXIT_USAGE);
  }
  // Standard output gets the result only once all of it is known: spooled in the temporary folder meanwhile.
  const tempDir = toStdout ? tmpdir() : dirname(resolve(options.output));
  const tempBase = toStdout ? STDOUT_SPOOL : basename(options.output);
  const otherFolder = toStdout ? 'set TMPDIR to a folder you can write in' : 'choose another folder with -o';
  if (!existsSync(tempDir)) throw new UserError(`the ${toStdout ? 'temporary' : 'output'} folder ${tempDir} does not exist; ${otherFolder}`);
  for (const path of removeStalePartials(tempDir, tempBase)) {
    options.note?.(`removed ${path}, left behind by an interrupted run (it may have held decrypted data)`);
  }
  const input: ByteSource = options.input === '-' ? streamSource(process.stdin) : await fileSource(options.input);
  let temp: PartialFile | undefined;
  let processor: ChunkProcessor | undefined;
  const cleanup = () => {
    if (temp) {
      // A write still under way fails once the stream is destroyed: expected, the file is being removed.
      temp.stream.on('error', () => {});
      temp.stream.destroy();
      try {
        unlinkSync(temp.path);
      } catch {
        // already gone
      }
      temp = undefined;
    }
  };
  const onSigint = () => {
    cleanup();
    process.exit(130);
  };
  const onSigterm = () => {
    cleanup();
    process.exit(143);
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  // Whoever ends the process early (a closed stdout, a signal handler elsewhere), the plaintext goes with it.
  process.on('exit', cleanup);
  try {
    const { header, rest, eof } = await readHeaderAndSample(blocksOf(input), options.delimiter);
    const setup = options.plan(header, sampleOf(rest, eof, header.delimiter));
    const decrypting = setup.op === 'decrypt' ? setup : undefined;
    const threads = options.threads ?? (total === undefined || total >= WORKER_THRESHOLD_BYTES ? Math.max(1, Math.min(availableParallelism(), 4)) : 0);
    processor = threads > 0 ? workerPool(setup, threads) : inProcess(setup);
    temp = openPartial(tempDir, tempBase, otherFolder);
    const out: Writable = temp.stream;
    await write(out, header.raw);

    let records = 0;
    let bytes = header.raw.length;
    const failures: ReportedFailure[] = [];
    const failureCounts: Record<string, number> = {};
    const ragged: Array<{ row: number; cells: number }> = [];
    let raggedCount = 0;
    let legacyCells = 0;
    let ipaV2Cells = 0;
    const ledger = new RowLedger();
    const legacyMix = decrypting ? new LegacyMixCheck(decrypting) : undefined;
    // EXECUTION_MISMATCH names the row the tokens belong in, wherever it is in the file.
    const resolved = () => failures.map((f) => (f.execution === undefined ? f : { ...f, home: ledger.recordOfExecution(f.execution) }));
    const inflight: Array<{ promise: Promise<ChunkResult>; size: number }> = [];
    const maxInflight = Math.max(2, threads * 2);

    const consume = async (result: ChunkResult, size: number) => {
      for (const f of result.failures) if (failures.length < MAX_LISTED) failures.push({ ...f, record: records + f.record });
      for (const [col, n] of Object.entries(result.failureCounts)) failureCounts[col] = (failureCounts[col] ?? 0) + n;
      for (const r of result.ragged) if (ragged.length < MAX_LISTED) ragged.push({ row: sheetRow(records + r.record), cells: r.cells });
      raggedCount += result.raggedCount;
      legacyCells += result.legacyCells;
      ipaV2Cells += result.ipaV2Cells ?? 0;
      if (result.rowKeys) ledger.add(result.rowKeys);
      legacyMix?.add(result, records);
      if (result.stopped) {
        // Listed even past the first few: it is why the run stops.
        const by = result.stoppedBy;
        if (by && !failures.some((f) => f.record === records + by.record && f.column === by.column)) failures.push({ ...by, record: records + by.record });
        throw new UserError(failureReport(resolved(), NO_DUPLICATES));
      }
      records += result.records;
      bytes += size;
      const processing = processor as ChunkProcessor;
      await write(out, result.out, () => processing.recycle(result.out));
      options.progress?.({ bytes, total, records });
    };

    // Chunks in flight hold their buffer until their result is consumed; then it is read into again.
    const ring = new BufferRing(CHUNK_BYTES);
    for await (const data of recordChunks(input, rest, ring, MAX_RECORD_BYTES, tooLong)) {
      inflight.push({ promise: processor.submit(data).then(({ result, buffer }) => (ring.give(buffer), result)), size: data.length });
      if (inflight.length >= maxInflight) {
        const head = inflight.shift() as { promise: Promise<ChunkResult>; size: number };
        await consume(await head.promise, head.size);
      }
    }
    for (const head of inflight.splice(0)) await consume(await head.promise, head.size);

    const duplicateResponses = decrypting ? ledger.duplicateResponses(MAX_LISTED) : NO_DUPLICATES;
    const duplicateExecutions = decrypting ? ledger.duplicateExecutions(MAX_LISTED) : NO_DUPLICATES;
    const reported = resolved();
    if (decrypting?.onError === 'fail' && (reported.length > 0 || duplicateResponses.total > 0)) {
      throw new UserError(failureReport(reported, duplicateResponses));
    }
    await closeStream(temp.stream);
    if (toStdout) {
      await copyToStdout(temp.path, CHUNK_BYTES);
    } else {
      renameSync(temp.path, options.output);
      temp = undefined;
    }
    return {
      setup,
      records,
      failures: reported,
      failureCounts,
      ragged,
      raggedCount,
      legacyCells,
      ipaV2Cells,
      duplicateResponses,
      duplicateExecutions,
      outputPath: toStdout ? undefined : options.output,
    };
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new UserError(`the input is not valid CSV: ${error.message}`);
    }
    throw error;
  } finally {
    cleanup();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('exit', cleanup);
    await processor?.close();
    await input.close();
  }
}
