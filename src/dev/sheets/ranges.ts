// A1 ranges on a spreadsheet's tabs: which tab and cells a range names,
// Google's grid-limit checks, and reading and writing rectangles of cells.

import { formatA1, parseA1, type A1Range } from '../../sheets/a1.js';
import type { Cell, Input } from './cells.js';
import { ApiError, invalid } from './errors.js';
import type { Book, Tab } from './storage.js';

/** A rectangle on a tab, zero-based and inclusive. */
export interface Box {
  tab: Tab;
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

/** Google's answer to a range past the tab's grid, e.g. `Range (Sheet1!A1001) exceeds grid limits. Max rows: 1000, max columns: 26`. */
export function gridLimits(tab: Tab, range: A1Range): ApiError {
  return invalid(`Range (${formatA1({ ...range, tab: tab.title })}) exceeds grid limits. Max rows: ${tab.rowCount}, max columns: ${tab.columnCount}`);
}

/** The tab and range a text names; the first tab when it names none. */
export function resolve(book: Book, text: string): { tab: Tab; range: A1Range } {
  // A tab named like a cell (or anything else) wins when the whole text is its title.
  const whole = book.tabs.find((t) => t.title === text);
  if (whole) return { tab: whole, range: { tab: whole.title, startRow: 0, startCol: 0 } };
  const range = parseA1(text);
  if (range) {
    const tab = range.tab === undefined ? book.tabs[0] : (book.tabs.find((t) => t.title === range.tab) ?? book.tabs.find((t) => t.title.toLowerCase() === range.tab?.toLowerCase()));
    if (tab) return { tab, range };
  }
  throw invalid(`Unable to parse range: ${text}`);
}

/** The cells a range names, open ends running to the grid's edge; a range past the grid is Google's 400. */
export function box(book: Book, text: string): Box {
  const { tab, range } = resolve(book, text);
  if (range.startRow >= tab.rowCount || range.startCol >= tab.columnCount || (range.endRow ?? 0) >= tab.rowCount || (range.endCol ?? 0) >= tab.columnCount) {
    throw gridLimits(tab, range);
  }
  return { tab, r0: range.startRow, c0: range.startCol, r1: range.endRow ?? tab.rowCount - 1, c1: range.endCol ?? tab.columnCount - 1 };
}

export const wholeTab = (tab: Tab): Box => ({ tab, r0: 0, c0: 0, r1: tab.rowCount - 1, c1: tab.columnCount - 1 });

export const boxA1 = (b: Box) => formatA1({ tab: b.tab.title, startRow: b.r0, startCol: b.c0, endRow: b.r1, endCol: b.c1 });

/** Stored cells of a box, row by row, stopping at the last stored row and cell. */
export function readBox<T>(b: Box, each: (cell: Cell | null | undefined) => T): T[][] {
  const out: T[][] = [];
  const last = Math.min(b.r1, b.tab.rows.length - 1);
  for (let r = b.r0; r <= last; r++) {
    const row = b.tab.rows[r] ?? [];
    const end = Math.min(b.c1, row.length - 1);
    const values: T[] = [];
    for (let c = b.c0; c <= end; c++) values.push(each(row[c]));
    out.push(values);
  }
  return out;
}

/** Counts as in Google's UpdateValuesResponse. */
export interface Written {
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
}

/** Writes inputs from (r0, c0); the caller has checked the grid. */
export function writeRect(tab: Tab, r0: number, c0: number, inputs: Input[][]): Written {
  const touchedColumns = new Set<number>();
  let updatedRows = 0;
  let updatedCells = 0;
  inputs.forEach((values, i) => {
    let touched = false;
    values.forEach((value, j) => {
      if (value === undefined) return;
      const r = r0 + i;
      const c = c0 + j;
      while (tab.rows.length <= r) tab.rows.push([]);
      const row = tab.rows[r] as (Cell | null)[];
      while (row.length <= c) row.push(null);
      row[c] = value;
      touched = true;
      touchedColumns.add(c);
      updatedCells++;
    });
    if (touched) updatedRows++;
  });
  return { updatedRows, updatedColumns: touchedColumns.size, updatedCells };
}
