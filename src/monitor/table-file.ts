// A small table file (CSV or XLSX) as a header and rows of text, the shape the
// tracker and the contact list both come in. Errors name the file and say
// what to do; a cell's value is never quoted in them.

import { existsSync } from 'node:fs';
import { UserError } from '../cli/common.js';
import { readTable } from '../launch/table.js';

export interface TableFile {
  readonly header: readonly string[];
  /** Data rows (blank ones dropped), each with its 1-based line in the file. */
  readonly rows: ReadonlyArray<{ readonly line: number; readonly cells: readonly string[] }>;
}

/** Read exactly as launch reads its contact list (src/launch/table.ts), so both see the same cells. */
export async function readTableFile(file: string, what: string): Promise<TableFile> {
  if (!existsSync(file)) throw new UserError(`${what} ${file} does not exist: check the path`);
  let table: TableFile;
  try {
    table = await readTable(file);
  } catch (error) {
    throw new UserError(`${what} ${file} cannot be read (${error instanceof Error ? error.name : 'error'}): save it again as CSV (UTF-8) or XLSX`);
  }
  if (table.header.every((h) => h === '')) throw new UserError(`${what} ${file} is empty: it needs a header row`);
  const rows = table.rows.map((r) => ({ line: r.line, cells: r.cells.map((c) => c.trim()) })).filter((r) => r.cells.some((c) => c !== ''));
  return { header: table.header, rows };
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
