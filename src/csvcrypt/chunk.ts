// Processing one chunk of whole CSV records: find the planned cells, decrypt
// (or encrypt) them, and copy every other byte through unchanged. Runs in a
// worker thread or in-process; one Transformer per thread keeps its key
// objects and HPKE context cache warm.

import { cellBytes, CsvSyntaxError, encodeCell, isFormulaLike, newRecordCells, scanRecord, type RecordCells } from '../csv/scan.js';
import { utf8Strict } from '../encoding.js';
import { EnvelopeError, isToken, Opener, openLegacy, sealResponse, type ResponseCell } from '../envelope/index.js';
import { emptyKeyring, parsePrivateKeyPem, parsePublicKey, parseSharedKey, type Recipient } from '../keys/keys.js';
import type { CellFailure, ChunkResult, DecryptSetup, EncryptSetup, TransformSetup } from './setup.js';

const MAX_REPORTED = 10;

class ChunkWriter {
  private readonly pieces: Buffer[] = [];
  private copyFrom = 0;
  constructor(private readonly buf: Buffer) {}
  replace(start: number, end: number, text: string): void {
    if (start > this.copyFrom) this.pieces.push(this.buf.subarray(this.copyFrom, start));
    this.pieces.push(Buffer.from(text, 'utf8'));
    this.copyFrom = end;
  }
  finish(): Buffer {
    if (this.copyFrom === 0) return this.buf;
    this.pieces.push(this.buf.subarray(this.copyFrom));
    return Buffer.concat(this.pieces);
  }
}

class Tally {
  readonly failures: CellFailure[] = [];
  readonly failureCounts: Record<string, number> = {};
  readonly ragged: Array<{ record: number; cells: number }> = [];
  raggedCount = 0;
  legacyCells = 0;
  fail(record: number, column: string, error: { code: string; message: string }): void {
    this.failureCounts[column] = (this.failureCounts[column] ?? 0) + 1;
    if (this.failures.length < MAX_REPORTED) this.failures.push({ record, column, code: error.code, message: error.message });
  }
}

export class Transformer {
  private readonly opener: Opener | undefined;
  private readonly legacyKey: Buffer | undefined;
  private readonly recipient: Recipient | undefined;

  constructor(private readonly setup: TransformSetup) {
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
      this.legacyKey = setup.legacyKey ? Buffer.from(setup.legacyKey) : undefined;
    } else {
      this.recipient = setup.recipientText.trim().startsWith('sspk1.') ? parsePublicKey(setup.recipientText) : parseSharedKey(setup.recipientText);
    }
  }

  /** Scans the chunk record by record; every byte the row handlers do not replace is copied through. */
  process(data: Uint8Array): ChunkResult {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const setup = this.setup;
    const writer = new ChunkWriter(buf);
    const tally = new Tally();
    const cells = newRecordCells();
    let record = 0;
    let pos = 0;
    while (pos < buf.length) {
      let next: number;
      try {
        next = scanRecord(buf, pos, buf.length, cells, record);
      } catch (error) {
        if (!(error instanceof CsvSyntaxError)) throw error;
        tally.fail(record, '', { code: 'CSV_SYNTAX', message: `the file is not valid CSV here: ${error.message}` });
        return this.stop(record, tally);
      }
      pos = next;
      if (cells.count !== setup.width) {
        tally.raggedCount++;
        if (tally.ragged.length < MAX_REPORTED) tally.ragged.push({ record, cells: cells.count });
      }
      const stopped = setup.op === 'decrypt' ? this.decryptRow(setup, buf, cells, record, writer, tally) : this.encryptRow(setup, buf, cells, record, writer, tally);
      if (stopped) return this.stop(record, tally);
      record++;
    }
    return { out: writer.finish(), records: record, stopped: false, ...tally };
  }

  /** Returns true when the run must stop (fail mode). */
  private decryptRow(setup: DecryptSetup, buf: Buffer, cells: RecordCells, record: number, writer: ChunkWriter, tally: Tally): boolean {
    const opener = this.opener as Opener;
    const encode = (value: string) => encodeCell(setup.excelSafe && isFormulaLike(value) ? `'${value}` : value);
    // Replacements are applied left to right; collect them by cell index.
    const replacements: Array<[number, string]> = [];
    const onFailure = (index: number, column: string, error: { code: string; message: string }): boolean => {
      tally.fail(record, column, error);
      if (setup.onError === 'fail') return true;
      if (setup.onError === 'blank') replacements.push([index, '']);
      return false;
    };
    // ss1 cells of the row are opened together (row binding checks); anything else is a legacy cell or an error.
    const tokens: ResponseCell[] = [];
    const tokenIndexes: number[] = [];
    for (const col of setup.columns) {
      if (col.index >= cells.count) continue;
      const raw = cellBytes(buf, cells.starts[col.index] as number, cells.ends[col.index] as number, cells.quoted[col.index] as boolean);
      if (raw.length === 0) continue;
      const text = raw.toString('latin1');
      if (isToken(text)) {
        tokens.push({ column: col.name, token: text });
        tokenIndexes.push(col.index);
      } else if (this.legacyKey) {
        try {
          replacements.push([col.index, encode(openLegacy(text, this.legacyKey))]);
          tally.legacyCells++;
        } catch (error) {
          if (!(error instanceof EnvelopeError)) throw error;
          if (onFailure(col.index, col.name, error)) return true;
        }
      } else if (onFailure(col.index, col.name, { code: 'MALFORMED', message: 'the cell is not a sealed-survey token (if it is a legacy encrypted cell, add --legacy-passphrase-file)' })) {
        return true;
      }
    }
    if (tokens.length > 0) {
      const results = opener.openResponse(tokens, { checkFieldNames: setup.checkFields });
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        const index = tokenIndexes[i] as number;
        if (r?.ok) replacements.push([index, encode(r.value)]);
        else if (r && onFailure(index, (tokens[i] as ResponseCell).column, r.error)) return true;
      }
    }
    replacements.sort((a, b) => a[0] - b[0]);
    for (const [index, text] of replacements) writer.replace(cells.starts[index] as number, cells.ends[index] as number, text);
    return false;
  }

  private encryptRow(setup: EncryptSetup, buf: Buffer, cells: RecordCells, record: number, writer: ChunkWriter, tally: Tally): boolean {
    const fields: Array<[string, string]> = [];
    const indexes: number[] = [];
    for (const col of setup.columns) {
      if (col.index >= cells.count) continue;
      const raw = cellBytes(buf, cells.starts[col.index] as number, cells.ends[col.index] as number, cells.quoted[col.index] as boolean);
      const text = utf8Strict(raw);
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

  private stop(record: number, tally: Tally): ChunkResult {
    return { out: new Uint8Array(0), records: record, stopped: true, ...tally };
  }
}
