// One tab of one spreadsheet, as the publish Function and flush use it: a
// header row, an execution_sid column to look rows up by, and RAW appends.
// Single attempts with a timeout; retrying is the caller's decision.

import type { sheets_v4 } from '@googleapis/sheets';
import { columnLetter, quoteTab } from './a1.js';

export interface SheetTarget {
  readonly spreadsheetId: string;
  /** The tab's title; the first tab when absent. */
  readonly tab?: string | undefined;
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

  /** Appends rows below the table, values stored exactly as given (RAW: never parsed as formulas). */
  async append(rows: readonly (readonly string[])[], timeoutMs: number): Promise<number> {
    const res = await this.client.spreadsheets.values.append(
      {
        spreadsheetId: this.target.spreadsheetId,
        range: this.range('A1'),
        valueInputOption: 'RAW',
        insertDataOption: 'INSERT_ROWS',
        requestBody: { values: rows.map((r) => [...r]) },
      },
      this.options(timeoutMs),
    );
    return res.data.updates?.updatedRows ?? 0;
  }
}

/** SHEET_ID may be the bare ID or the sheet's URL as copied from the browser. */
export function parseSpreadsheetId(value: string): string | undefined {
  const text = value.trim();
  const fromUrl = /\/spreadsheets\/d\/([A-Za-z0-9_-]+)/.exec(text);
  const id = fromUrl ? fromUrl[1] : text;
  return id && /^[A-Za-z0-9_-]{10,100}$/.test(id) ? id : undefined;
}
