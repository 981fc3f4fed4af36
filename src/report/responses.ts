// The sheet export as the report sees it: only the system columns it counts
// with (received_at, execution_sid, outcome, final_status, and caseid when the
// flow publishes one). Every other cell is left where it is, so a sealed
// export and a decrypted one give the same report, and no answer can reach it.

import { UserError } from '../cli/common.js';
import { FINAL_STATUS_COLUMN, OUTCOME_COLUMN } from '../flow/outcomes.js';
import { columnsOf, readTableFile } from '../monitor/table-file.js';
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
}

export interface Responses {
  readonly rows: readonly ResponseRow[];
  readonly hasFinalStatus: boolean;
  readonly hasCaseid: boolean;
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

export async function readResponses(file: string): Promise<Responses> {
  const what = 'the responses export';
  const table = await readTableFile(file, what);
  const missing = REQUIRED_COLUMNS.filter((c) => !table.header.some((h) => h.toLowerCase() === c));
  if (missing.length > 0) {
    throw new UserError(
      `${what} ${file} has no ${missing.map((m) => `"${m}"`).join(', ')} column${missing.length > 1 ? 's' : ''}: export the survey's sheet as it is (File → Download → CSV), with its header row (received_at, execution_sid, …, outcome, final_status)`,
    );
  }
  const at = columnsOf(table, REQUIRED_COLUMNS, file, what);
  const lower = table.header.map((h) => h.toLowerCase());
  const finalAt = lower.indexOf(FINAL_STATUS_COLUMN);
  const caseAt = lower.indexOf(CASEID_COLUMN);
  const cell = (cells: readonly string[], i: number) => (i < 0 ? '' : (cells[i] ?? ''));
  const rows = table.rows.map(({ line, cells }) => ({
    line,
    executionSid: cell(cells, at.execution_sid),
    receivedAt: parseReceivedAt(cell(cells, at.received_at)),
    outcome: cell(cells, at.outcome).toLowerCase(),
    finalStatus: cell(cells, finalAt).toLowerCase(),
    caseid: caseAt < 0 ? undefined : cell(cells, caseAt),
  }));
  if (rows.length === 0) throw new UserError(`${what} ${file} has a header but no rows: nothing to report yet`);
  return { rows, hasFinalStatus: finalAt >= 0, hasCaseid: caseAt >= 0 };
}
