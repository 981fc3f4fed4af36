// spreadsheets.create, spreadsheets.get and spreadsheets.batchUpdate
// (appendDimension, the one request kind this project sends).

import { randomBytes, randomInt } from 'node:crypto';
import { gridCell, trimmed } from './cells.js';
import { invalid, within } from './errors.js';
import { selects, type FieldMask } from './fields.js';
import type { Answer, Context } from './http.js';
import { box, readBox, wholeTab } from './ranges.js';
import { AppendDimensionSchema, BatchUpdateSchema, CreateSchema, parseBody } from './requests.js';
import { cellCount, cellLimit, DEFAULT_COLUMNS, DEFAULT_ROWS, MAX_CELLS, type Book, type Tab } from './storage.js';

/** A Spreadsheet resource; grid data only when asked for, limited to `ranges` when given. */
function spreadsheetJson(ctx: Context, book: Book, ranges: readonly string[], gridData: boolean) {
  const wanted = ranges.map((r) => box(book, r));
  const sheets = book.tabs
    .map((tab, index) => {
      if (ranges.length > 0 && !wanted.some((b) => b.tab === tab)) return undefined;
      const properties = { sheetId: tab.sheetId, title: tab.title, index, sheetType: 'GRID', gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount } };
      if (!gridData) return { properties };
      const boxes = ranges.length > 0 ? wanted.filter((b) => b.tab === tab) : [wholeTab(tab)];
      const data = boxes.map((b) => {
        const rows = trimmed(readBox(b, (c) => c ?? null), (c) => c === null);
        return {
          ...(b.r0 > 0 ? { startRow: b.r0 } : {}),
          ...(b.c0 > 0 ? { startColumn: b.c0 } : {}),
          ...(rows.length > 0 ? { rowData: rows.map((r) => (r.length > 0 ? { values: r.map(gridCell) } : {})) } : {}),
        };
      });
      return { properties, data };
    })
    .filter((s) => s !== undefined);
  return {
    spreadsheetId: book.spreadsheetId,
    properties: { title: book.title, locale: 'en_US', autoRecalc: 'ON_CHANGE', timeZone: 'Etc/GMT' },
    sheets,
    spreadsheetUrl: `${ctx.baseUrl}/spreadsheets/d/${book.spreadsheetId}/edit`,
  };
}

export function create(ctx: Context, body: Buffer): Answer {
  const req = parseBody(CreateSchema, body);
  const specs: NonNullable<typeof req.sheets> = req.sheets && req.sheets.length > 0 ? req.sheets : [{}];
  const tabs: Tab[] = [];
  specs.forEach((spec, i) => {
    const title = spec.properties?.title ?? `Sheet${i + 1}`;
    if (tabs.some((t) => t.title.toLowerCase() === title.toLowerCase())) throw invalid(`A sheet with the name "${title}" already exists. Please enter another name.`);
    tabs.push({
      sheetId: spec.properties?.sheetId ?? (i === 0 ? 0 : randomInt(1, 2 ** 31 - 1)),
      title,
      rowCount: spec.properties?.gridProperties?.rowCount ?? DEFAULT_ROWS,
      columnCount: spec.properties?.gridProperties?.columnCount ?? DEFAULT_COLUMNS,
      rows: [],
    });
  });
  const book: Book = { spreadsheetId: randomBytes(33).toString('base64url'), title: req.properties?.title ?? 'Untitled spreadsheet', tabs };
  if (cellCount(book) > MAX_CELLS) throw cellLimit();
  const saved = ctx.store.add(book);
  return { body: spreadsheetJson(ctx, book, [], false), saved };
}

/** With a field mask, includeGridData is ignored and the mask decides (as on Google). */
export function get(ctx: Context, id: string, query: URLSearchParams, fields: FieldMask | undefined): Answer {
  const gridData = fields ? selects(fields, ['sheets', 'data']) : query.get('includeGridData') === 'true';
  return { body: spreadsheetJson(ctx, ctx.store.get(id), query.getAll('ranges'), gridData) };
}

type Grid = Pick<Tab, 'rowCount' | 'columnCount'>;

function appendDimension(book: Book, grids: Map<Tab, Grid>, request: unknown, where: string): void {
  const { sheetId = 0, dimension, length = 0 } = parseBody(AppendDimensionSchema, request, where);
  within(where, () => {
    const tab = book.tabs.find((t) => t.sheetId === sheetId);
    if (!tab) throw invalid(`No grid with id: ${sheetId}`);
    if (dimension !== 'ROWS' && dimension !== 'COLUMNS') throw invalid('dimension must be ROWS or COLUMNS');
    if (length <= 0) throw invalid('length must be positive');
    const grid = grids.get(tab) as Grid;
    if (dimension === 'ROWS') grid.rowCount += length;
    else grid.columnCount += length;
    if ([...grids.values()].reduce((n, g) => n + g.rowCount * g.columnCount, 0) > MAX_CELLS) throw cellLimit();
  });
}

/** All or nothing: every request is checked before any takes effect. */
export function batchUpdate(ctx: Context, id: string, body: Buffer): Answer {
  const book = ctx.store.get(id);
  const req = parseBody(BatchUpdateSchema, body);
  const requests = req.requests ?? [];
  if (requests.length === 0) throw invalid('Must specify at least one request.');
  const grids = new Map<Tab, Grid>(book.tabs.map((t) => [t, { rowCount: t.rowCount, columnCount: t.columnCount }]));
  const replies = requests.map((request, i) => {
    const kinds = Object.keys(request);
    if (kinds.length === 0) throw invalid(`Invalid requests[${i}]: No request set.`);
    if (kinds.length > 1) throw invalid(`Invalid requests[${i}]: one request kind per request, got ${kinds.join(', ')}`);
    const kind = kinds[0] as string;
    if (kind !== 'appendDimension') throw invalid(`Invalid requests[${i}]: sheets-server does not support ${kind} requests (it supports appendDimension); send them to Google, or add them to src/dev/sheets/spreadsheets.ts`);
    appendDimension(book, grids, request[kind], `requests[${i}].${kind}`);
    return {};
  });
  const before = book.tabs.map((t) => ({ rowCount: t.rowCount, columnCount: t.columnCount }));
  for (const [tab, grid] of grids) Object.assign(tab, grid);
  let updated = {};
  try {
    if (req.includeSpreadsheetInResponse) updated = { updatedSpreadsheet: spreadsheetJson(ctx, book, req.responseRanges ?? [], req.responseIncludeGridData ?? false) };
  } catch (error) {
    book.tabs.forEach((t, i) => Object.assign(t, before[i]));
    throw error;
  }
  return { body: { spreadsheetId: book.spreadsheetId, replies, ...updated }, saved: ctx.store.persist(book) };
}
