// Processing one chunk of whole CSV records: find the planned cells, decrypt
// (or encrypt) them, and copy every other byte through unchanged. Runs in a
// worker thread or in-process; one Transformer per thread keeps its key
// objects and HPKE context cache warm.

import { cellBytes, CsvSyntaxError, encodeCell, isBlankRecord, isFormulaLike, newRecordCells, scanRecord, type RecordCells } from '../csv/scan.js';
import { utf8Strict } from '../encoding.js';
import { EnvelopeError, Opener, openLegacy, parseToken, sealResponse, type ResponseCell } from '../envelope/index.js';
import { looksIpaV2, openIpaV2 } from '../envelope/ipa-v2.js';
import { ipaV2KeyFromRaw, type IpaV2Key } from '../keys/ipa-v2-key.js';
import { emptyKeyring, parsePrivateKeyPem, parsePublicKey, parseSharedKey, type Recipient } from '../keys/keys.js';
import { looksLikeLegacy, looksLikeToken, MAX_SEALED_CELL_BYTES } from './cell-kind.js';
import { LegacyBatchOpener } from '../envelope/legacy-batch.js';
import { FastTokenOpener } from '../envelope/token-fast.js';
import { fingerprint, ROW_KEY_WORDS } from './row-ledger.js';
import type { CellFailure, ChunkResult, DecryptSetup, EncryptSetup, TransformSetup } from './setup.js';

const MAX_REPORTED = 10;

/**
 * The chunk with some cells replaced. Replacements are kept as text and
 * written once, straight into the output buffer: no Buffer per cell (the
 * garbage collector's largest share of a run).
 */
class ChunkWriter {
  /** Pairs [start, end) of input bytes to copy, each followed by texts[i] (the last pair by nothing). */
  private readonly ranges: number[] = [];
  private readonly texts: string[] = [];
  private copyFrom = 0;
  constructor(private readonly buf: Buffer) {}
  replace(start: number, end: number, text: string): void {
    this.ranges.push(this.copyFrom, start);
    this.texts.push(text);
    this.copyFrom = end;
  }
  /** The chunk with its replacements; into a buffer from `take` when given (a worker reuses its output buffers). */
  finish(take?: (size: number) => Uint8Array): Uint8Array {
    if (this.texts.length === 0 && !take) return this.buf;
    const { ranges, texts } = this;
    ranges.push(this.copyFrom, this.buf.length);
    // At most 3 UTF-8 bytes per UTF-16 code unit: an upper bound, the result is cut to what was written.
    let bound = 0;
    for (let i = 0; i < ranges.length; i += 2) bound += (ranges[i + 1] as number) - (ranges[i] as number);
    for (const text of texts) bound += 3 * text.length;
    const space = take ? take(bound) : Buffer.allocUnsafe(bound);
    const out = Buffer.from(space.buffer, space.byteOffset, space.byteLength);
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      at += this.buf.copy(out, at, ranges[i] as number, ranges[i + 1] as number);
      const text = texts[i >> 1];
      if (text !== undefined) at += out.write(text, at);
    }
    return space.subarray(0, at);
  }
}

class Tally {
  readonly failures: CellFailure[] = [];
  readonly failureCounts: Record<string, number> = {};
  readonly ragged: Array<{ record: number; cells: number }> = [];
  raggedCount = 0;
  legacyCells = 0;
  ipaV2Cells = 0;
  readonly firstToken: number[];
  readonly firstLegacy: number[];
  readonly firstIpaV2: number[];
  private keys = new Uint32Array(1024 * ROW_KEY_WORDS);
  private keyCount = 0;

  constructor(columns: number) {
    this.firstToken = new Array<number>(columns).fill(-1);
    this.firstLegacy = new Array<number>(columns).fill(-1);
    this.firstIpaV2 = new Array<number>(columns).fill(-1);
  }

  /** The last failure, which in fail mode is the one that stopped the chunk. */
  last: CellFailure | undefined;

  fail(record: number, column: string, error: { code: string; message: string; execution?: string | undefined }, listed = true): void {
    this.failureCounts[column] = (this.failureCounts[column] ?? 0) + 1;
    if (!listed) return;
    this.last = { record, column, code: error.code, message: error.message, ...(error.execution === undefined ? {} : { execution: error.execution }) };
    if (this.failures.length < MAX_REPORTED) this.failures.push(this.last);
  }

  /** Fingerprints the next record's response binding and execution_sid (either may be absent). */
  addRowKeys(binding: string | undefined, execution: string | undefined): void {
    if (this.keyCount === this.keys.length / ROW_KEY_WORDS) {
      const grown = new Uint32Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const at = this.keyCount++ * ROW_KEY_WORDS;
    if (binding) fingerprint(binding, this.keys, at);
    if (execution) fingerprint(execution, this.keys, at + 2);
  }

  rowKeys(): Uint32Array {
    return this.keys.subarray(0, this.keyCount * ROW_KEY_WORDS);
  }
}

export class Transformer {
  private readonly opener: Opener | undefined;
  private readonly legacyKey: Buffer | undefined;
  /** The fast path's legacy opener; undefined on the reference path (decrypt-path.ts). */
  private readonly legacyBatch: LegacyBatchOpener | undefined;
  private readonly legacyCells: Uint8Array[] = [];
  private readonly legacyTexts: Array<string | undefined> = [];
  /** The fast path's token opener; undefined on the reference path. */
  private readonly tokenFast: FastTokenOpener | undefined;
  private readonly recipient: Recipient | undefined;
  private readonly delimiter: number;
  private readonly ipaV2Keys: IpaV2Key[];

  constructor(private readonly setup: TransformSetup) {
    this.delimiter = setup.delimiter.charCodeAt(0);
    this.ipaV2Keys = ((setup.op === 'decrypt' ? setup.ipaV2Keys : setup.openIpaV2Keys) ?? []).map((k) => ipaV2KeyFromRaw(Buffer.from(k, 'base64url')));
    if (setup.op === 'decrypt') {
      const ring = emptyKeyring();
      for (const pem of setup.privateKeyPems) {
        const k = parsePrivateKeyPem(pem);
        ring.sealed.set(k.kid, k.pair);
      }
      for (const text of setup.sharedKeys) {
        const k = parseSharedKey(text);
        ring.shared.set(k.kid, k.key);
      }
      this.opener = new Opener(ring);
      this.tokenFast = setup.decryptPath === 'reference' ? undefined : new FastTokenOpener(ring);
      this.legacyKey = setup.legacyKey ? Buffer.from(setup.legacyKey) : undefined;
      this.legacyBatch = this.legacyKey && setup.decryptPath !== 'reference' ? new LegacyBatchOpener(this.legacyKey) : undefined;
    } else {
      this.legacyBatch = undefined;
      this.tokenFast = undefined;
      this.recipient = setup.recipientText.trim().startsWith('sspk1.') ? parsePublicKey(setup.recipientText) : parseSharedKey(setup.recipientText);
    }
  }

  /** Scans the chunk record by record; every byte the row handlers do not replace is copied through. */
  process(data: Uint8Array, take?: (size: number) => Uint8Array): ChunkResult {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const setup = this.setup;
    const writer = new ChunkWriter(buf);
    const tally = new Tally(setup.columns.length);
    const cells = newRecordCells();
    let record = 0;
    let pos = 0;
    while (pos < buf.length) {
      let next: number;
      try {
        next = scanRecord(buf, pos, buf.length, cells, record, this.delimiter);
      } catch (error) {
        if (!(error instanceof CsvSyntaxError)) throw error;
        tally.fail(record, '', { code: 'CSV_SYNTAX', message: `the file is not valid CSV here: ${error.message}` });
        return this.stop(record, tally);
      }
      pos = next;
      if (cells.count !== setup.width && !isBlankRecord(cells)) {
        tally.raggedCount++;
        if (tally.ragged.length < MAX_REPORTED) tally.ragged.push({ record, cells: cells.count });
      }
      const stopped = setup.op === 'decrypt' ? this.decryptRow(setup, buf, cells, record, writer, tally) : this.encryptRow(setup, buf, cells, record, writer, tally);
      if (stopped) return this.stop(record, tally);
      record++;
    }
    return this.result(writer.finish(take), record, false, tally);
  }

  /** Returns true when the run must stop (fail mode). */
  private decryptRow(setup: DecryptSetup, buf: Buffer, cells: RecordCells, record: number, writer: ChunkWriter, tally: Tally): boolean {
    const opener = this.opener as Opener;
    const encode = (value: string) => encodeCell(setup.excelSafe && isFormulaLike(value) ? `'${value}` : value, setup.delimiter);
    const cell = (index: number) => cellBytes(buf, cells.starts[index] as number, cells.ends[index] as number, cells.quoted[index] as boolean);
    // Replacements are applied left to right; collect them by cell index.
    const replacements: Array<[number, string]> = [];
    const onFailure = (index: number, column: string, error: { code: string; message: string }): boolean => {
      tally.fail(record, column, error);
      if (setup.onError === 'fail') return true;
      if (setup.onError === 'blank') replacements.push([index, '']);
      return false;
    };
    const fastLegacy = this.legacyBatch ? this.openLegacyCells(this.legacyBatch, setup, cell, cells.count) : undefined;
    // ss1 cells of the row are opened together (row binding checks); anything else is a legacy cell or an error.
    const tokenCells: Buffer[] = [];
    const tokenColumns: string[] = [];
    const tokenIndexes: number[] = [];
    for (let j = 0; j < setup.columns.length; j++) {
      const col = setup.columns[j] as { index: number; name: string };
      if (col.index >= cells.count) continue;
      const raw = cell(col.index);
      if (raw.length === 0) continue;
      if (looksIpaV2(raw)) {
        // Bound to no column or row, like a legacy cell: in an ss1 column it is refused unless --allow-legacy-cells (run.ts).
        if (tally.firstLegacy[j] === -1) tally.firstLegacy[j] = record;
        if (tally.firstIpaV2[j] === -1) tally.firstIpaV2[j] = record;
        const opened = this.openIpaV2(raw);
        if (typeof opened === 'string') {
          replacements.push([col.index, encode(opened)]);
          tally.ipaV2Cells++;
        } else if (onFailure(col.index, col.name, opened)) {
          return true;
        }
      } else if (looksLikeToken(raw)) {
        if (tally.firstToken[j] === -1) tally.firstToken[j] = record;
        if (raw.length > MAX_SEALED_CELL_BYTES) {
          if (onFailure(col.index, col.name, { code: 'MALFORMED', message: 'not a valid sealed-survey token: it is far longer than any token sealed-survey writes' })) return true;
          continue;
        }
        tokenCells.push(raw);
        tokenColumns.push(col.name);
        tokenIndexes.push(col.index);
      } else if (this.legacyKey && raw.length <= MAX_SEALED_CELL_BYTES) {
        try {
          replacements.push([col.index, encode(fastLegacy?.[j] ?? openLegacy(raw.toString('latin1'), this.legacyKey))]);
          tally.legacyCells++;
          if (tally.firstLegacy[j] === -1) tally.firstLegacy[j] = record;
        } catch (error) {
          if (!(error instanceof EnvelopeError)) throw error;
          // Judged only now: a shape check before every legacy cell would decode its base64 twice.
          if (onFailure(col.index, col.name, looksLikeLegacy(raw) ? error : notSealed(raw))) return true;
        }
      } else if (onFailure(col.index, col.name, notSealed(raw))) {
        return true;
      }
    }
    // A row cut short before its execution_sid cell has an empty one: bound tokens in it are then misplaced.
    const execution = setup.executionColumn < 0 ? undefined : setup.executionColumn < cells.count ? cell(setup.executionColumn).toString('latin1') : '';
    let binding: string | undefined;
    const fast = tokenCells.length > 0 ? this.tokenFast?.openRow(tokenCells, tokenColumns, setup.checkFields, execution) : undefined;
    if (fast) {
      binding = fast.binding;
      fast.values.forEach((value, i) => replacements.push([tokenIndexes[i] as number, encode(value)]));
    } else if (tokenCells.length > 0) {
      const tokens: ResponseCell[] = tokenCells.map((raw, i) => ({ column: tokenColumns[i] as string, token: raw.toString('latin1') }));
      const results = opener.openResponse(tokens, { checkFieldNames: setup.checkFields, executionSid: execution });
      let misplaced = false;
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        const index = tokenIndexes[i] as number;
        const column = (tokens[i] as ResponseCell).column;
        if (r?.ok) {
          binding ??= r.binding;
          replacements.push([index, encode(r.value)]);
        } else if (r?.error.code === 'EXECUTION_MISMATCH') {
          // One report per row, naming the execution its tokens belong to; the driver finds that row, which
          // may come later in the file, so even in fail mode this does not stop the run (nothing is written).
          tally.fail(record, column, { code: r.error.code, message: r.error.message, execution: tokenExecution(tokens[i] as ResponseCell) }, !misplaced);
          misplaced = true;
          if (setup.onError === 'blank') replacements.push([index, '']);
        } else if (r && onFailure(index, column, r.error)) {
          return true;
        }
      }
    }
    tally.addRowKeys(binding, execution);
    replacements.sort((a, b) => a[0] - b[0]);
    for (const [index, text] of replacements) writer.replace(cells.starts[index] as number, cells.ends[index] as number, text);
    return false;
  }

  /**
   * The fast path's first pass over a row: opens, in one batch, the cells the
   * loop of decryptRow would give to openLegacy. Indexed like setup.columns;
   * undefined where that loop must decide (not a legacy candidate, or failed).
   */
  private openLegacyCells(batch: LegacyBatchOpener, setup: DecryptSetup, cell: (index: number) => Buffer, count: number): Array<string | undefined> {
    const candidates = this.legacyCells;
    const texts = this.legacyTexts;
    candidates.length = 0;
    const columnOf: number[] = [];
    for (let j = 0; j < setup.columns.length; j++) {
      const index = (setup.columns[j] as { index: number }).index;
      if (index >= count) continue;
      const raw = cell(index);
      if (raw.length === 0 || raw.length > MAX_SEALED_CELL_BYTES || looksLikeToken(raw)) continue;
      candidates.push(raw);
      columnOf.push(j);
    }
    const byColumn = new Array<string | undefined>(setup.columns.length);
    if (candidates.length === 0) return byColumn;
    batch.openAll(candidates, texts);
    for (let k = 0; k < columnOf.length; k++) byColumn[columnOf[k] as number] = texts[k];
    return byColumn;
  }

  private encryptRow(setup: EncryptSetup, buf: Buffer, cells: RecordCells, record: number, writer: ChunkWriter, tally: Tally): boolean {
    const fields: Array<[string, string]> = [];
    const indexes: number[] = [];
    for (const col of setup.columns) {
      if (col.index >= cells.count) continue;
      const raw = cellBytes(buf, cells.starts[col.index] as number, cells.ends[col.index] as number, cells.quoted[col.index] as boolean);
      let text = utf8Strict(raw);
      if (setup.openIpaV2Keys && raw.length > 0) {
        const opened = looksIpaV2(raw) ? this.openIpaV2(raw) : { code: 'NOT_SEALED', message: 'the cell is not a requests_to_twilio_v2 token ("v2:…"), so it cannot be re-sealed from one; leave this column out of --columns' };
        if (typeof opened !== 'string') {
          tally.fail(record, col.name, opened);
          return true;
        }
        text = opened;
        tally.ipaV2Cells++;
      }
      if (text === undefined) {
        tally.fail(record, col.name, { code: 'NOT_UTF8', message: 'the cell is not UTF-8 text (save the file as "CSV UTF-8")' });
        return true;
      }
      fields.push([col.field, text]);
      indexes.push(col.index);
    }
    if (fields.length > 0) {
      const tokens = sealResponse(fields, this.recipient as Recipient);
      fields.forEach(([field], i) => {
        const index = indexes[i] as number;
        writer.replace(cells.starts[index] as number, cells.ends[index] as number, tokens.get(field) as string);
      });
    }
    return false;
  }

  private openIpaV2(raw: Buffer): string | EnvelopeError {
    if (raw.length > MAX_SEALED_CELL_BYTES) return new EnvelopeError('MALFORMED', 'not a valid requests_to_twilio_v2 token: it is far longer than any sheet cell');
    try {
      return openIpaV2(raw.toString('latin1'), this.ipaV2Keys);
    } catch (error) {
      if (error instanceof EnvelopeError) return error;
      throw error;
    }
  }

  private stop(record: number, tally: Tally): ChunkResult {
    return { ...this.result(new Uint8Array(0), record, true, tally), ...(tally.last ? { stoppedBy: tally.last } : {}) };
  }

  private result(out: Uint8Array, records: number, stopped: boolean, tally: Tally): ChunkResult {
    const { failures, failureCounts, ragged, raggedCount, legacyCells, ipaV2Cells, firstToken, firstLegacy, firstIpaV2 } = tally;
    const rowKeys = this.setup.op === 'decrypt' ? { rowKeys: tally.rowKeys() } : {};
    return { out, records, stopped, failures, failureCounts, ragged, raggedCount, legacyCells, ipaV2Cells, firstToken, firstLegacy, firstIpaV2, ...rowKeys };
  }
}

/** Why a non-token cell in a sealed column is refused, with the fix. */
function notSealed(raw: Buffer): { code: string; message: string } {
  if (looksLikeLegacy(raw)) {
    return { code: 'LEGACY_CELL', message: 'an old CryptoJS cell (twilio_encrypt_fields.js): add --legacy-passphrase-file to decrypt it' };
  }
  return {
    code: 'NOT_SEALED',
    message: 'the cell is not sealed, but its column holds sealed cells (text typed into the sheet, or a placeholder); --on-error keep leaves such cells as they are',
  };
}

/** The execution a bound token names (parsed again only for rows that are misplaced). */
function tokenExecution(cell: ResponseCell): string | undefined {
  try {
    return parseToken(cell.token).execution;
  } catch {
    return undefined;
  }
}
