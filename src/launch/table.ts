// A contact list as a table of text: CSV (comma, semicolon or tab, as Excel
// and Sheets save it) or the first worksheet of an XLSX workbook (exceljs).

import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { cellBytes, detectDelimiter, isBlankRecord, newRecordCells, scanRecord } from '../csv/scan.js';

export interface Table {
  readonly header: readonly string[];
  /** Data rows, each with its row number as a spreadsheet shows it (the header is row 1). */
  readonly rows: ReadonlyArray<{ readonly line: number; readonly cells: readonly string[] }>;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function readCsv(buf: Buffer): string[][] {
  const start = buf.subarray(0, 3).equals(BOM) ? 3 : 0;
  const delimiter = detectDelimiter(buf, start).charCodeAt(0);
  const records: string[][] = [];
  const cells = newRecordCells();
  for (let pos = start, index = 0; pos < buf.length; index++) {
    pos = scanRecord(buf, pos, buf.length, cells, index, delimiter);
    const row: string[] = [];
    for (let i = 0; i < cells.count; i++) row.push(cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean).toString('utf8'));
    records.push(isBlankRecord(cells) ? [] : row);
  }
  return records;
}

/** A cell's text as the sheet shows it; a number typed without `+` (254711…) stays whole, not 2.54E+11. */
function cellText(cell: ExcelJS.Cell): string {
  const v = cell.value;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(0) : String(v);
  return cell.text;
}

async function readXlsx(path: string): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  const sheet = workbook.worksheets[0];
  if (!sheet) return [];
  const records: string[][] = [];
  for (let r = 1; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const cells: string[] = [];
    for (let c = 1; c <= sheet.columnCount; c++) cells.push(cellText(row.getCell(c)));
    records.push(cells.every((x) => x.trim() === '') ? [] : cells);
  }
  return records;
}

export async function readTable(path: string): Promise<Table> {
  const records = /\.xlsx$/i.test(path) ? await readXlsx(path) : readCsv(readFileSync(path));
  const [header = [], ...data] = records;
  return {
    header: header.map((h) => h.trim()),
    rows: data.map((cells, i) => ({ line: i + 2, cells })).filter((r) => r.cells.length > 0),
  };
}
