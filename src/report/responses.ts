// The sheet export as the report sees it: only the system columns it counts
// with (received_at, execution_sid, outcome, final_status, last_answered, and
// caseid when the flow publishes one). Of a CSV, every other cell is scanned past without
// being decoded, so a sealed export and a decrypted one give the same report,
// no answer can reach it, and a large export costs little memory.

import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../cli/common.js';
import { cellBytes, detectDelimiter, isBlankRecord, newRecordCells, scanRecord } from '../csv/scan.js';
import { LAST_ANSWERED_COLUMN } from '../flow/order.js';
import { FINAL_STATUS_COLUMN, OUTCOME_COLUMN } from '../flow/outcomes.js';
import { columnsOf, readTableFile, type TableFile } from '../monitor/table-file.js';
import { EXECUTION_SID, RECEIVED_AT } from '../publish/row.js';

export interface ResponseRow {
  /** The row number as a spreadsheet shows it (the header is row 1). */
  readonly line: number;
  readonly executionSid: string;
  /** Milliseconds since the epoch; undefined when the cell is not an ISO 8601 time with a zone. */
  readonly receivedAt: number | undefined;
  readonly outcome: string;
  /** '' when the export has no final_status column. */
  readonly finalStatus: string;
  /** From the export's own caseid column; undefined when it has none. */
  readonly caseid: string | undefined;
  /** The last question answered ('' none); undefined when the export has no last_answered column (older flows). */
  readonly lastAnswered: string | undefined;
}

export interface Responses {
  readonly rows: readonly ResponseRow[];
  readonly hasFinalStatus: boolean;
  readonly hasCaseid: boolean;
  readonly hasLastAnswered: boolean;
}

export const REQUIRED_COLUMNS = [RECEIVED_AT, EXECUTION_SID, OUTCOME_COLUMN] as const;
const CASEID_COLUMN = 'caseid';

/**
 * publish stamps received_at as `Date.toISOString()`. A time without a zone
 * (a sheet re-saved by Excel) would be read in the analyst's time zone, so it
 * is refused rather than guessed.
 */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function parseReceivedAt(text: string): number | undefined {
  if (!ISO_WITH_ZONE.test(text)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : undefined;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * A CSV export's header and, for each data record, only the cells at
 * `wanted(header)`: the other cells are scanned past, never decoded, so a
 * 200,000-row sealed export costs its bytes, not millions of strings. Records
 * are numbered as a spreadsheet shows its rows (the header is row 1).
 */
function readCsvColumns(buf: Buffer, wanted: (header: readonly string[]) => readonly number[]): { header: string[]; rows: TableFile['rows'] } {
  const start = buf.subarray(0, 3).equals(BOM) ? 3 : 0;
  const delimiter = detectDelimiter(buf, start).charCodeAt(0);
  const cells = newRecordCells();
  const text = (i: number) => (i < cells.count ? cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean).toString('utf8').trim() : '');
  let pos = scanRecord(buf, start, buf.length, cells, 0, delimiter);
  const header = Array.from({ length: cells.count }, (_, i) => text(i));
  const at = wanted(header);
  const rows: Array<{ line: number; cells: string[] }> = [];
  for (let index = 1; pos < buf.length; index++) {
    pos = scanRecord(buf, pos, buf.length, cells, index, delimiter);
    if (isBlankRecord(cells)) continue;
    const row: string[] = [];
    for (const i of at) row[i] = text(i);
    rows.push({ line: index + 1, cells: row });
  }
  return { header, rows };
}

/** The export's header and rows; of a CSV, only the cells of `wanted` columns are read. */
async function readExport(file: string, what: string, wanted: (header: readonly string[]) => readonly number[]): Promise<TableFile> {
  if (/\.xlsx$/i.test(file)) return readTableFile(file, what);
  if (!existsSync(file)) throw new UserError(`${what} ${file} does not exist: check the path`);
  let table: TableFile;
  try {
    table = readCsvColumns(readFileSync(file), wanted);
  } catch (error) {
    throw new UserError(`${what} ${file} cannot be read (${error instanceof Error ? error.name : 'error'}): save it again as CSV (UTF-8) or XLSX`);
  }
  if (table.header.every((h) => h === '')) throw new UserError(`${what} ${file} is empty: it needs a header row`);
  return table;
}

const OPTIONAL_COLUMNS = [FINAL_STATUS_COLUMN, CASEID_COLUMN, LAST_ANSWERED_COLUMN] as const;

export async function readResponses(file: string): Promise<Responses> {
  const what = 'the responses export';
  const indexOf = (header: readonly string[], name: string) => header.findIndex((h) => h.toLowerCase() === name);
  const table = await readExport(file, what, (header) => [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].map((c) => indexOf(header, c)).filter((i) => i >= 0));
  const missing = REQUIRED_COLUMNS.filter((c) => indexOf(table.header, c) < 0);
  if (missing.length > 0) {
    throw new UserError(
      `${what} ${file} has no ${missing.map((m) => `"${m}"`).join(', ')} column${missing.length > 1 ? 's' : ''}: export the survey's sheet as it is (File → Download → CSV), with its header row (received_at, execution_sid, …, outcome, final_status)`,
    );
  }
  const at = columnsOf(table, REQUIRED_COLUMNS, file, what);
  const finalAt = indexOf(table.header, FINAL_STATUS_COLUMN);
  const caseAt = indexOf(table.header, CASEID_COLUMN);
  const lastAt = indexOf(table.header, LAST_ANSWERED_COLUMN);
  const cell = (cells: readonly string[], i: number) => (i < 0 ? '' : (cells[i] ?? ''));
  const rows = table.rows.map(({ line, cells }) => ({
    line,
    executionSid: cell(cells, at.execution_sid),
    receivedAt: parseReceivedAt(cell(cells, at.received_at)),
    outcome: cell(cells, at.outcome).toLowerCase(),
    finalStatus: cell(cells, finalAt).toLowerCase(),
    caseid: caseAt < 0 ? undefined : cell(cells, caseAt),
    lastAnswered: lastAt < 0 ? undefined : cell(cells, lastAt),
  }));
  if (rows.length === 0) throw new UserError(`${what} ${file} has a header but no rows: nothing to report yet`);
  return { rows, hasFinalStatus: finalAt >= 0, hasCaseid: caseAt >= 0, hasLastAnswered: lastAt >= 0 };
}
