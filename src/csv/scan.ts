// A byte-level RFC 4180 scanner that reports where each cell is, so that a
// transform can replace some cells and copy every other byte of the input
// unchanged: quoting style, line endings (LF, CRLF, CR), BOM, whatever the
// exporting program wrote.
//
// Why not csv-parse: it gives values, not byte spans, so passing cells through
// byte for byte would mean re-serializing them; and it alone took ~2.2 s on the
// 200,000-row benchmark file, nearly the whole 2.5 s budget for decrypting it.

const QUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Cell separators: Google Sheets exports `,`; Excel in many European locales `;`; some tools tab. */
export type Delimiter = ',' | ';' | '\t';

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    message: string,
    /** 0-based record index within the scanned range. */
    readonly recordIndex: number,
  ) {
    super(message);
  }
}

/**
 * Cells of one record as a flat array: for cell i, starts[i] and ends[i] are
 * the raw byte span (quotes included) and quoted[i] says whether it is quoted.
 */
export interface RecordCells {
  count: number;
  starts: number[];
  ends: number[];
  quoted: boolean[];
}

export function newRecordCells(): RecordCells {
  return { count: 0, starts: [], ends: [], quoted: [] };
}

/**
 * Scans the record starting at `pos`, filling `cells`; returns the offset just
 * after its line terminator (or `end`). The caller guarantees that [pos, end)
 * holds whole records (see recordBoundary). `delimiter` is the separator's byte.
 */
export function scanRecord(buf: Buffer, pos: number, end: number, cells: RecordCells, recordIndex: number, delimiter = COMMA): number {
  let n = 0;
  let p = pos;
  for (;;) {
    const start = p;
    let quoted = false;
    if (p < end && buf[p] === QUOTE) {
      quoted = true;
      p++;
      for (;;) {
        const q = buf.indexOf(QUOTE, p);
        if (q === -1 || q >= end) throw new CsvSyntaxError('a quoted cell is never closed (a missing " in the file?)', recordIndex);
        if (q + 1 < end && buf[q + 1] === QUOTE) {
          p = q + 2;
          continue;
        }
        p = q + 1;
        break;
      }
      // Tolerate junk after a closing quote up to the separator, as spreadsheets do.
      while (p < end && buf[p] !== delimiter && buf[p] !== LF && buf[p] !== CR) p++;
    } else {
      while (p < end) {
        const c = buf[p];
        if (c === delimiter || c === LF || c === CR) break;
        p++;
      }
    }
    cells.starts[n] = start;
    cells.ends[n] = p;
    cells.quoted[n] = quoted;
    n++;
    if (p < end && buf[p] === delimiter) {
      p++;
      continue;
    }
    cells.count = n;
    if (p < end && buf[p] === CR) p++;
    if (p < end && buf[p] === LF) p++;
    return p;
  }
}

/** Whether every cell of the scanned record is empty (a blank line, or only separators). */
export function isBlankRecord(cells: RecordCells): boolean {
  for (let i = 0; i < cells.count; i++) {
    const length = (cells.ends[i] as number) - (cells.starts[i] as number);
    if (length > (cells.quoted[i] ? 2 : 0)) return false;
  }
  return true;
}

/**
 * The separator a file uses, read from its first line (the header): the most
 * frequent of `,` `;` TAB outside quotes; a comma when there is none or a tie.
 */
export function detectDelimiter(buf: Buffer, start: number): Delimiter {
  let comma = 0;
  let semicolon = 0;
  let tab = 0;
  let quoted = false;
  for (let p = start; p < buf.length; p++) {
    const c = buf[p];
    if (c === QUOTE) quoted = !quoted;
    else if (quoted) continue;
    else if (c === LF || c === CR) break;
    else if (c === COMMA) comma++;
    else if (c === SEMICOLON) semicolon++;
    else if (c === TAB) tab++;
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

/** The content of a cell: quotes removed and "" unescaped. Returns a view when it can. */
export function cellBytes(buf: Buffer, start: number, end: number, quoted: boolean): Buffer {
  if (!quoted) return buf.subarray(start, end);
  const close = buf.lastIndexOf(QUOTE, end - 1);
  const inner = buf.subarray(start + 1, close >= start + 1 ? close : end);
  return inner.indexOf(QUOTE) === -1 ? inner : Buffer.from(inner.toString('latin1').replaceAll('""', '"'), 'latin1');
}

/**
 * The offset just after the last complete record in buf[0, length), i.e. after
 * the last line break outside quotes; 0 when there is none. At end of input
 * the whole buffer is complete.
 */
export function recordBoundary(buf: Buffer, length: number, eof: boolean): number {
  if (eof) return length;
  const quotes: number[] = [];
  for (let q = buf.indexOf(QUOTE, 0); q !== -1 && q < length; q = buf.indexOf(QUOTE, q + 1)) quotes.push(q);
  // Between quote k-1 and quote k, k quotes precede: outside quotes when k is even ("" counts twice).
  // Searching only those stretches, from the last, keeps this linear in the buffer's length.
  for (let k = quotes.length - (quotes.length % 2); k >= 0; k -= 2) {
    const from = k === 0 ? 0 : (quotes[k - 1] as number) + 1;
    let to = k === quotes.length ? length : (quotes[k] as number);
    while (to > from) {
      const stretch = buf.subarray(from, to);
      const at = from + Math.max(stretch.lastIndexOf(LF), stretch.lastIndexOf(CR));
      if (at < from) break;
      // A CR at the very end may be the first half of a CRLF still to come.
      if (at === length - 1 && buf[at] === CR) {
        to = at;
        continue;
      }
      return at + 1;
    }
  }
  return 0;
}

const NEEDS_QUOTES: Record<Delimiter, RegExp> = { ',': /[",\r\n]/, ';': /[";\r\n]/, '\t': /["\t\r\n]/ };

/** RFC 4180 encoding of one cell's text, quoting only when needed (as Google Sheets exports). */
export function encodeCell(text: string, delimiter: Delimiter = ','): string {
  return NEEDS_QUOTES[delimiter].test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Spreadsheet programs run cells starting with these as formulas (OWASP CSV injection). */
export function isFormulaLike(text: string): boolean {
  const c = text.charCodeAt(0);
  return c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40 || c === 0x09 || c === 0x0d; // = + - @ TAB CR
}

/** A whole (small) CSV file as rows of text, for display; the streaming transforms do not use this. */
export function readCsvRows(buf: Buffer): string[][] {
  const rows: string[][] = [];
  const cells = newRecordCells();
  for (let pos = 0, index = 0; pos < buf.length; index++) {
    pos = scanRecord(buf, pos, buf.length, cells, index);
    const row: string[] = [];
    for (let i = 0; i < cells.count; i++) row.push(cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean).toString('utf8'));
    rows.push(row);
  }
  return rows;
}
