// A small table file (CSV or XLSX) as a header and rows of text, the shape the
// tracker and the contact list both come in. Errors name the file and say
// what to do; a cell's value is never quoted in them.

import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { readCsvRows } from '../csv/scan.js';
import { UserError } from '../cli/common.js';

export interface TableFile {
  readonly header: readonly string[];
  /** Data rows (blank ones dropped), each with its 1-based line in the file. */
  readonly rows: ReadonlyArray<{ readonly line: number; readonly cells: readonly string[] }>;
}

const cellText = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && 'text' in value) return String((value as { text: unknown }).text);
  if (typeof value === 'object' && 'result' in value) return String((value as { result: unknown }).result);
  if (value instanceof Date) return value.toISOString();
  return String(value);
};

async function xlsxRows(file: string): Promise<string[][]> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(file);
  const sheet = book.worksheets[0];
  if (!sheet) return [];
  const rows: string[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    const values = row.values as unknown[];
    // ExcelJS rows are 1-based: values[0] is always empty.
    rows[row.number - 1] = values.slice(1).map(cellText);
  });
  return Array.from(rows, (r) => r ?? []);
}

export async function readTableFile(file: string, what: string): Promise<TableFile> {
  if (!existsSync(file)) throw new UserError(`${what} ${file} does not exist: check the path`);
  const kind = extname(file).toLowerCase();
  let raw: string[][];
  try {
    raw = kind === '.xlsx' ? await xlsxRows(file) : readCsvRows(readFileSync(file));
  } catch (error) {
    throw new UserError(`${what} ${file} cannot be read (${error instanceof Error ? error.name : 'error'}): save it again as CSV (UTF-8) or XLSX`);
  }
  const [first, ...rest] = raw;
  if (!first || first.every((c) => c.trim() === '')) throw new UserError(`${what} ${file} is empty: it needs a header row`);
  const header = first.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
  const rows = rest.map((cells, i) => ({ line: i + 2, cells: cells.map((c) => c.trim()) })).filter((r) => r.cells.some((c) => c !== ''));
  return { header, rows };
}

/** Where each wanted column is (case-insensitive), or a UserError listing the missing ones. */
export function columnsOf<K extends string>(table: TableFile, wanted: readonly K[], file: string, what: string): Record<K, number> {
  const lower = table.header.map((h) => h.toLowerCase());
  const missing = wanted.filter((w) => !lower.includes(w.toLowerCase()));
  if (missing.length > 0) {
    throw new UserError(`${what} ${file} has no ${missing.map((m) => `"${m}"`).join(', ')} column${missing.length > 1 ? 's' : ''} (its columns: ${table.header.join(', ')})`);
  }
  return Object.fromEntries(wanted.map((w) => [w, lower.indexOf(w.toLowerCase())])) as Record<K, number>;
}
