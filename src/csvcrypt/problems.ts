// How decrypt-csv words what went wrong: by sheet row number (the header is
// row 1) and column, never quoting a cell.

import { fmtInt } from '../cli/terminal.js';
import { plural } from '../plural.js';
import type { Duplicates } from './row-ledger.js';
import type { CellFailure } from './setup.js';

/** Sheet row number of data record k (0-based): the header is row 1. */
export const sheetRow = (record: number): number => record + 2;

/** "row 3", "rows 3 and 12", "rows 3, 12 and 40" for 0-based records. */
export function rowList(records: readonly number[]): string {
  const rows = records.map((r) => String(sheetRow(r)));
  if (rows.length === 1) return `row ${rows[0]}`;
  return `rows ${rows.slice(0, -1).join(', ')} and ${rows[rows.length - 1]}`;
}

export interface ReportedFailure extends CellFailure {
  /** EXECUTION_MISMATCH: the record whose execution_sid the row's tokens name, when the file has it. */
  readonly home?: number | undefined;
}

export function describeFailure(f: ReportedFailure): string {
  const row = sheetRow(f.record);
  if (f.code === 'EXECUTION_MISMATCH') {
    return f.home !== undefined
      ? `row ${row} holds the tokens of the response in row ${sheetRow(f.home)} (EXECUTION_MISMATCH)`
      : `row ${row} holds the tokens of another execution than its execution_sid, and no row of the file has that execution_sid (EXECUTION_MISMATCH: the response was moved or copied here, or the execution_sid was edited)`;
  }
  return f.column ? `row ${row}, column "${f.column}": ${f.message}` : `row ${row}: ${f.message}`;
}

export function describeDuplicateResponses(duplicates: Duplicates): string[] {
  const lines = duplicates.groups.map((g) => `${rowList(g)} hold the same response (DUPLICATE_RESPONSE)`);
  const more = duplicates.total - duplicates.groups.length;
  if (more > 0) lines.push(`… and ${plural(more, 'more response')} in more than one row`);
  return lines;
}

const MOVED_ROWS = 'Rows were moved, swapped or copied in the sheet: restore them from its version history (File → Version history)';

function isRowLevel(failures: readonly ReportedFailure[], duplicates: Duplicates): boolean {
  return duplicates.total > 0 || failures.some((f) => f.code === 'EXECUTION_MISMATCH');
}

const MAX_LINES = 5;

function indented(lines: readonly string[]): string[] {
  const shown = lines.slice(0, MAX_LINES).map((l) => `  ${l}`);
  if (lines.length > MAX_LINES) shown.push(`  … and ${plural(lines.length - MAX_LINES, 'more problem')}`);
  return shown;
}

/** The message of a run that failed (fail mode): what, where, and how to fix it. */
export function failureReport(failures: readonly ReportedFailure[], duplicates: Duplicates): string {
  const lines = [...[...failures].sort((a, b) => a.record - b.record).map(describeFailure), ...describeDuplicateResponses(duplicates)];
  const rowLevel = isRowLevel(failures, duplicates);
  if (lines.length === 1 && !rowLevel) return lines[0] as string;
  return [`${plural(lines.length, 'problem')}, nothing was written:`, ...indented(lines), ...(rowLevel ? [`${MOVED_ROWS}, or add --on-error keep to write the file anyway and list them.`] : [])].join('\n');
}

/** The message of a run that wrote its output (--on-error keep|blank) although some cells or rows failed. */
export function keptReport(
  failures: readonly ReportedFailure[],
  failureCounts: Readonly<Record<string, number>>,
  duplicates: Duplicates,
  blanked: boolean,
): string {
  const parts: string[] = [];
  const perColumn = Object.entries(failureCounts);
  const total = perColumn.reduce((n, [, c]) => n + c, 0);
  if (total > 0) {
    const what = blanked ? 'left empty' : total === 1 ? 'kept as it was' : 'kept as they were';
    const firstRows = [...new Set(failures.map((f) => sheetRow(f.record)))].slice(0, 5).join(', ');
    parts.push(
      `${plural(total, 'cell')} could not be decrypted and ${total === 1 ? 'was' : 'were'} ${what}: ${perColumn.map(([c, n]) => `"${c}" ${fmtInt(n)}`).join(', ')} (first rows: ${firstRows})`,
    );
  }
  const lines = [...failures.slice(0, 1).map((f) => `first problem: ${describeFailure(f)}`), ...describeDuplicateResponses(duplicates)];
  return [...parts, ...indented(lines), ...(isRowLevel(failures, duplicates) ? [`${MOVED_ROWS}.`] : [])].join('\n');
}
