// spreadsheets.values: get, batchGet, update, batchUpdate and append.

import { columnLetter, formatA1, type A1Range } from '../../sheets/a1.js';
import { render, transpose, trimmed, type Input, type Rendered } from './cells.js';
import { invalid, within } from './errors.js';
import type { Answer, Context } from './http.js';
import { box, boxA1, gridLimits, readBox, resolve, writeRect } from './ranges.js';
import { BatchUpdateValuesSchema, inputs, majorDimension, parseBody, renderOption, valueInputOption, ValueRangeSchema } from './requests.js';
import { cellCount, cellLimit, MAX_CELLS, type Book, type Tab } from './storage.js';

function valueRange(book: Book, text: string, query: URLSearchParams) {
  const b = box(book, text);
  const option = renderOption(query);
  let matrix = readBox<Rendered>(b, (c) => render(c, option));
  if (majorDimension(query) === 'COLUMNS') matrix = transpose<Rendered>(matrix, '');
  const values = trimmed(matrix, (v) => v === '');
  return { range: boxA1(b), majorDimension: majorDimension(query), ...(values.length > 0 ? { values } : {}) };
}

export function get(ctx: Context, id: string, range: string, query: URLSearchParams): Answer {
  return { body: valueRange(ctx.store.get(id), range, query) };
}

export function batchGet(ctx: Context, id: string, query: URLSearchParams): Answer {
  const book = ctx.store.get(id);
  return { body: { spreadsheetId: book.spreadsheetId, valueRanges: query.getAll('ranges').map((range) => valueRange(book, range, query)) } };
}

interface PlannedUpdate {
  tab: Tab;
  /** Where the values land. */
  written: Required<A1Range>;
  cells: Input[][];
}

/** Where an update writes, checked against its range and the grid; undefined when it writes nothing. Changes nothing. */
function planUpdate(book: Book, text: string, cells: Input[][]): PlannedUpdate | undefined {
  const { tab, range } = resolve(book, text);
  const height = cells.length;
  const width = Math.max(0, ...cells.map((v) => v.length));
  if (height === 0 || width === 0) return undefined;
  const written = { tab: tab.title, startRow: range.startRow, startCol: range.startCol, endRow: range.startRow + height - 1, endCol: range.startCol + width - 1 };
  // A single cell is only the anchor; a larger range bounds the write.
  const bounded = !(range.endRow === range.startRow && range.endCol === range.startCol);
  const asked = formatA1({ ...range, tab: tab.title });
  if (bounded && range.endRow !== undefined && written.endRow > range.endRow) throw invalid(`Requested writing within range [${asked}], but tried writing to row [${written.endRow + 1}]`);
  if (bounded && range.endCol !== undefined && written.endCol > range.endCol) throw invalid(`Requested writing within range [${asked}], but tried writing to column [${columnLetter(written.endCol)}]`);
  if (written.endRow >= tab.rowCount || written.endCol >= tab.columnCount) throw gridLimits(tab, written);
  return { tab, written, cells };
}

/** An UpdateValuesResponse. */
function applyUpdate(book: Book, plan: PlannedUpdate | undefined) {
  if (!plan) return { spreadsheetId: book.spreadsheetId };
  const result = writeRect(plan.tab, plan.written.startRow, plan.written.startCol, plan.cells);
  return { spreadsheetId: book.spreadsheetId, updatedRange: formatA1(plan.written), ...result };
}

export function update(ctx: Context, id: string, range: string, query: URLSearchParams, body: Buffer): Answer {
  const book = ctx.store.get(id);
  const option = valueInputOption(query.get('valueInputOption'));
  const plan = planUpdate(book, range, inputs(parseBody(ValueRangeSchema, body), option));
  const answer = applyUpdate(book, plan);
  return plan ? { body: answer, saved: ctx.store.persist(book) } : { body: answer };
}

/** All or nothing: every range is checked before any is written. */
export function batchUpdate(ctx: Context, id: string, body: Buffer): Answer {
  const book = ctx.store.get(id);
  const req = parseBody(BatchUpdateValuesSchema, body);
  const option = valueInputOption(req.valueInputOption);
  const plans = (req.data ?? []).map((item, i) =>
    within(`data[${i}]`, () => {
      if (item.range === undefined) throw invalid('range is required');
      return planUpdate(book, item.range, inputs(item, option));
    }),
  );
  const responses = plans.map((plan) => applyUpdate(book, plan));
  if (!plans.some((p) => p)) return { body: { spreadsheetId: book.spreadsheetId, ...(responses.length > 0 ? { responses } : {}) } };
  const total = (key: 'updatedRows' | 'updatedColumns' | 'updatedCells') => responses.reduce((n, r) => n + ('updatedRange' in r ? r[key] : 0), 0);
  return {
    body: {
      spreadsheetId: book.spreadsheetId,
      totalUpdatedRows: total('updatedRows'),
      totalUpdatedColumns: total('updatedColumns'),
      totalUpdatedCells: total('updatedCells'),
      totalUpdatedSheets: new Set(plans.filter((p) => p).map((p) => p?.tab)).size,
      responses,
    },
    saved: ctx.store.persist(book),
  };
}

/** After the table the range starts; grows the grid as Google does, so an append is never past it. */
export function append(ctx: Context, id: string, range: string, query: URLSearchParams, body: Buffer): Answer {
  const book = ctx.store.get(id);
  const option = valueInputOption(query.get('valueInputOption'));
  const insert = query.get('insertDataOption') ?? 'OVERWRITE';
  if (insert !== 'OVERWRITE' && insert !== 'INSERT_ROWS') throw invalid(`Invalid value at 'insert_data_option' (type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "${insert}"`);
  const b = box(book, range);
  const cells = inputs(parseBody(ValueRangeSchema, body), option);
  // The table: rows from the range's first row holding anything at or right of its first column.
  const tab = b.tab;
  let first = -1;
  let last = -1;
  let lastCol = b.c0;
  for (let row = b.r0; row < tab.rows.length; row++) {
    const values = tab.rows[row] ?? [];
    for (let c = b.c0; c < values.length; c++) {
      if (values[c]) {
        if (first < 0) first = row;
        last = row;
        lastCol = Math.max(lastCol, c);
      }
    }
  }
  const tableRange = first >= 0 ? { tableRange: formatA1({ tab: tab.title, startRow: first, startCol: b.c0, endRow: last, endCol: lastCol }) } : {};
  const height = cells.length;
  const width = Math.max(0, ...cells.map((v) => v.length));
  if (height === 0 || width === 0) return { body: { spreadsheetId: book.spreadsheetId, ...tableRange, updates: { spreadsheetId: book.spreadsheetId } } };
  const at = last >= 0 ? last + 1 : b.r0;
  const grid = {
    rowCount: insert === 'INSERT_ROWS' ? tab.rowCount + height : Math.max(tab.rowCount, at + height),
    columnCount: Math.max(tab.columnCount, b.c0 + width),
  };
  if (cellCount(book) - tab.rowCount * tab.columnCount + grid.rowCount * grid.columnCount > MAX_CELLS) throw cellLimit();
  if (insert === 'INSERT_ROWS' && at < tab.rows.length) tab.rows.splice(at, 0, ...Array.from({ length: height }, () => []));
  Object.assign(tab, grid);
  const result = writeRect(tab, at, b.c0, cells);
  const updatedRange = formatA1({ tab: tab.title, startRow: at, startCol: b.c0, endRow: at + height - 1, endCol: b.c0 + width - 1 });
  return {
    body: { spreadsheetId: book.spreadsheetId, ...tableRange, updates: { spreadsheetId: book.spreadsheetId, updatedRange, ...result } },
    saved: ctx.store.persist(book),
  };
}
