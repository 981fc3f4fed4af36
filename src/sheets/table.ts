// One tab of one spreadsheet, as the publish Function and flush use it: a
// header row, an execution_sid column, and RAW writes of whole rows at fixed
// positions (idempotent: repeating one writes the same cells again).
// Single attempts with a timeout; retrying is the caller's decision.

import type { sheets_v4 } from '@googleapis/sheets';
import { columnLetter, quoteTab } from './a1.js';

export interface SheetTarget {
  readonly spreadsheetId: string;
  /** The tab's title; the first tab when absent. */
  readonly tab?: string | undefined;
}

/** The tab's identity and grid size: writes (unlike appends) fail past the grid. */
export interface TabGrid {
  readonly sheetId: number;
  readonly title: string;
  readonly rows: number;
  readonly columns: number;
}

/** One row's cells, written from column A of sheet row `row` (1-based). */
export interface PlacedRow {
  readonly row: number;
  readonly values: readonly string[];
}

export class SheetTable {
  constructor(
    private readonly client: sheets_v4.Sheets,
    readonly target: SheetTarget,
  ) {}

  private range(a1: string): string {
    return this.target.tab ? `${quoteTab(this.target.tab)}!${a1}` : a1;
  }

  private options(timeoutMs: number) {
    return { retry: false, timeout: Math.max(1, Math.floor(timeoutMs)) };
  }

  /** Row 1, as text; [] for an empty sheet. */
  async header(timeoutMs: number): Promise<string[]> {
    const res = await this.client.spreadsheets.values.get(
      { spreadsheetId: this.target.spreadsheetId, range: this.range('1:1'), valueRenderOption: 'FORMATTED_VALUE' },
      this.options(timeoutMs),
    );
    return (res.data.values?.[0] ?? []).map((v) => String(v ?? ''));
  }

  async writeHeader(names: readonly string[], timeoutMs: number): Promise<void> {
    await this.client.spreadsheets.values.update(
      { spreadsheetId: this.target.spreadsheetId, range: this.range('A1'), valueInputOption: 'RAW', requestBody: { values: [[...names]] } },
      this.options(timeoutMs),
    );
  }

  /** The cells of one column below the header (0-based column index). */
  async column(index: number, timeoutMs: number): Promise<string[]> {
    const letter = columnLetter(index);
    const res = await this.client.spreadsheets.values.get(
      { spreadsheetId: this.target.spreadsheetId, range: this.range(`${letter}2:${letter}`), majorDimension: 'COLUMNS', valueRenderOption: 'FORMATTED_VALUE' },
      this.options(timeoutMs),
    );
    return (res.data.values?.[0] ?? []).map((v) => String(v ?? ''));
  }

  /** The tab's sheetId, title and grid size (SHEET_TAB, else the first tab). */
  async grid(timeoutMs: number): Promise<TabGrid> {
    const res = await this.client.spreadsheets.get(
      { spreadsheetId: this.target.spreadsheetId, fields: 'sheets.properties(sheetId,title,index,gridProperties(rowCount,columnCount))' },
      this.options(timeoutMs),
    );
    const tabs = res.data.sheets ?? [];
    const tab = this.target.tab === undefined ? tabs[0] : tabs.find((t) => t.properties?.title === this.target.tab);
    const p = tab?.properties;
    if (!p) throw new TabMissing(this.target.tab);
    return { sheetId: p.sheetId ?? 0, title: p.title ?? '', rows: p.gridProperties?.rowCount ?? 0, columns: p.gridProperties?.columnCount ?? 0 };
  }

  /** Adds rows or columns at the end of the grid. */
  async extend(grid: TabGrid, dimension: 'ROWS' | 'COLUMNS', length: number, timeoutMs: number): Promise<void> {
    await this.client.spreadsheets.batchUpdate(
      { spreadsheetId: this.target.spreadsheetId, requestBody: { requests: [{ appendDimension: { sheetId: grid.sheetId, dimension, length } }] } },
      this.options(timeoutMs),
    );
  }

  /** How many rows hold anything, header included: the next free row is this + 1. */
  async usedRows(grid: TabGrid, timeoutMs: number): Promise<number> {
    const res = await this.client.spreadsheets.values.get(
      { spreadsheetId: this.target.spreadsheetId, range: quoteTab(grid.title), valueRenderOption: 'FORMATTED_VALUE' },
      this.options(timeoutMs),
    );
    return res.data.values?.length ?? 0;
  }

  /** Writes whole rows at their positions in one request, values exactly as given (RAW: never parsed as formulas). */
  async writeRows(rows: readonly PlacedRow[], timeoutMs: number): Promise<void> {
    await this.client.spreadsheets.values.batchUpdate(
      {
        spreadsheetId: this.target.spreadsheetId,
        requestBody: { valueInputOption: 'RAW', data: rows.map((r) => ({ range: this.range(`A${r.row}`), values: [[...r.values]] })) },
      },
      this.options(timeoutMs),
    );
  }
}

export class TabMissing extends Error {
  override readonly name = 'TabMissing';
  constructor(tab: string | undefined) {
    super(tab === undefined ? 'the spreadsheet has no tab' : `the spreadsheet has no tab named "${tab}": check SHEET_TAB`);
  }
}

/** SHEET_ID may be the bare ID or the sheet's URL as copied from the browser. */
export function parseSpreadsheetId(value: string): string | undefined {
  const text = value.trim();
  const fromUrl = /\/spreadsheets\/d\/([A-Za-z0-9_-]+)/.exec(text);
  const id = fromUrl ? fromUrl[1] : text;
  return id && /^[A-Za-z0-9_-]{10,100}$/.test(id) ? id : undefined;
}
