// A local stand-in for the Google Sheets v4 REST API, for the tests and the
// demo: Google's paths and JSON shapes, its OAuth JWT-bearer token grant, and
// injectable faults (error statuses, dropped connections, write quota).
// It is not Google: any well-formed JWT gets a token (signatures are not
// checked), formulas are stored but only plain arithmetic is evaluated, and
// data is kept unencrypted on local disk. It logs nothing.

import { generateKeyPair as generateKeyPairCb, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { z } from 'zod';
import { columnLetter, formatA1, parseA1, quoteTab, type A1Range } from '../sheets/a1.js';
import { prng } from './prng.js';

export type FaultKind = 429 | 500 | 502 | 503 | 504 | 'reset' | 'drop-after-write' | 'timeout-after-write';
export const FAULT_KINDS: readonly FaultKind[] = [429, 500, 502, 503, 504, 'reset', 'drop-after-write', 'timeout-after-write'];

export interface FaultOptions {
  /** Share of API requests (0..1) that fail with one of `kinds`. */
  rate: number;
  /** Chosen uniformly for each failing request. */
  kinds: readonly FaultKind[];
  /** Added to every API answer. */
  latencyMs?: number;
  /** Makes the choice of failing requests and kinds repeatable. */
  seed?: number;
  /** Retry-After header on 429 answers. */
  retryAfterSeconds?: number;
  /** Google's write quota: per service account (JWT iss), sliding 60 s window; counts create, append and PUT. */
  writeQuotaPerMinute?: number;
}

export interface SheetsServerOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep each spreadsheet in <dataDir>/<id>.json (loaded at start); in memory only when absent. */
  dataDir?: string;
  faults?: FaultOptions;
}

export interface RunningSheetsServer {
  /** e.g. http://127.0.0.1:8787, no trailing slash. */
  url: string;
  port: number;
  /** url + '/token'. */
  tokenUrl: string;
  /** Replaces the fault options (and restarts the seeded sequence); undefined turns faults off. */
  setFaults(f: FaultOptions | undefined): void;
  /** requests: API requests received; faults: injected faults by kind ('quota' for write-quota 429s); writes: creates, appends and PUTs performed. */
  stats(): { requests: number; faults: Record<string, number>; writes: number };
  /**
   * Rows of a tab as stored, for test assertions: each cell as entered
   * (formulas as their text, numbers as String(n), booleans as TRUE/FALSE,
   * empty cells as ''), trailing empty cells and rows left out. The first tab
   * when `tab` is absent.
   */
  rows(spreadsheetId: string, tab?: string): string[][];
  /** Closes every connection, held ones included, and resolves once pending saves are on disk. */
  stop(): Promise<void>;
}

const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_LIFETIME_S = 3600;
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_CELL_CHARS = 50_000;
const DEFAULT_ROWS = 1000;
const DEFAULT_COLUMNS = 26;

// ---- Data model (also the file format under dataDir) ----

const CellSchema = z.union([
  z.strictObject({ stringValue: z.string() }),
  z.strictObject({ numberValue: z.number() }),
  z.strictObject({ boolValue: z.boolean() }),
  z.strictObject({ formulaValue: z.string() }),
]);
type Cell = z.infer<typeof CellSchema>;

const TabSchema = z.object({
  sheetId: z.number().int().nonnegative(),
  title: z.string().min(1),
  rowCount: z.number().int().positive(),
  columnCount: z.number().int().positive(),
  rows: z.array(z.array(CellSchema.nullable())),
});
type Tab = z.infer<typeof TabSchema>;

const BookSchema = z.object({
  spreadsheetId: z.string().regex(/^[A-Za-z0-9_-]+$/),
  title: z.string(),
  tabs: z.array(TabSchema).min(1),
});
type Book = z.infer<typeof BookSchema>;

// ---- Errors in Google's shape ----

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const FAULT_MESSAGES: Record<number, string> = {
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'Internal error encountered.',
  502: 'The service is currently unavailable.',
  503: 'The service is currently unavailable.',
  504: 'The request timed out. Please try again.',
};

class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notFound = () => new ApiError(404, 'Requested entity was not found.');
const invalid = (message: string) => new ApiError(400, message);

// ---- Cells: input parsing and rendering ----

type ValueInputOption = 'RAW' | 'USER_ENTERED';
type RenderOption = 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE' | 'FORMULA';
type Input = Cell | null | undefined; // undefined: leave the cell as it is; null: clear it
type Rendered = string | number | boolean;

const NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function inputCell(value: unknown, option: ValueInputOption, where: string): Input {
  if (value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`Invalid value at '${where}': numbers must be finite`);
    return { numberValue: value };
  }
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value !== 'string') throw invalid(`Invalid value at '${where}' (type.googleapis.com/google.protobuf.ListValue): a cell value must be a string, number, boolean or null`);
  if (value.length > MAX_CELL_CHARS) throw invalid(`Your input contains more than the maximum of ${MAX_CELL_CHARS} characters in a single cell.`);
  if (value === '') return null;
  if (option === 'RAW') return { stringValue: value };
  // USER_ENTERED, like typing into the UI (dates, percents and currencies are not parsed here).
  if (value.startsWith("'")) return value.length > 1 ? { stringValue: value.slice(1) } : null;
  if (value.startsWith('=') && value.length > 1) return { formulaValue: value };
  if (NUMBER.test(value)) return { numberValue: Number(value) };
  if (/^(true|false)$/i.test(value)) return { boolValue: value.toUpperCase() === 'TRUE' };
  return { stringValue: value };
}

/** Plain arithmetic (numbers, + - * /, parentheses); undefined for anything else. */
function evaluate(formula: string): number | undefined {
  const s = formula.slice(1).replace(/\s+/g, '');
  let i = 0;
  const expr = (): number | undefined => {
    let v = term();
    while (v !== undefined && (s[i] === '+' || s[i] === '-')) {
      const op = s[i++];
      const w = term();
      v = w === undefined ? undefined : op === '+' ? v + w : v - w;
    }
    return v;
  };
  const term = (): number | undefined => {
    let v = factor();
    while (v !== undefined && (s[i] === '*' || s[i] === '/')) {
      const op = s[i++];
      const w = factor();
      v = w === undefined ? undefined : op === '*' ? v * w : v / w;
    }
    return v;
  };
  const factor = (): number | undefined => {
    if (s[i] === '-' || s[i] === '+') {
      const sign = s[i++] === '-' ? -1 : 1;
      const v = factor();
      return v === undefined ? undefined : sign * v;
    }
    if (s[i] === '(') {
      i++;
      const v = expr();
      return s[i++] === ')' ? v : undefined;
    }
    const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const v = expr();
  return v !== undefined && i === s.length && Number.isFinite(v) ? v : undefined;
}

function render(cell: Cell | null | undefined, option: RenderOption): Rendered {
  if (!cell) return '';
  if ('stringValue' in cell) return cell.stringValue;
  if ('numberValue' in cell) return option === 'FORMATTED_VALUE' ? String(cell.numberValue) : cell.numberValue;
  if ('boolValue' in cell) return option === 'FORMATTED_VALUE' ? (cell.boolValue ? 'TRUE' : 'FALSE') : cell.boolValue;
  if (option === 'FORMULA') return cell.formulaValue;
  const v = evaluate(cell.formulaValue);
  // Formulas beyond arithmetic are not evaluated: their text stands in for the result.
  return v === undefined ? cell.formulaValue : option === 'FORMATTED_VALUE' ? String(v) : v;
}

function gridCell(cell: Cell | null | undefined): Record<string, unknown> {
  if (!cell) return {};
  const formatted = render(cell, 'FORMATTED_VALUE') as string;
  let effective: Record<string, unknown> | undefined;
  if ('formulaValue' in cell) {
    const v = evaluate(cell.formulaValue);
    if (v !== undefined) effective = { numberValue: v };
  } else {
    effective = cell;
  }
  return { userEnteredValue: cell, ...(effective ? { effectiveValue: effective } : {}), formattedValue: formatted };
}

function cellText(cell: Cell | null | undefined): string {
  if (!cell) return '';
  const v = render(cell, 'FORMULA');
  return typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v);
}

function trimmed<T>(matrix: T[][], empty: (v: T) => boolean): T[][] {
  const rows = matrix.map((row) => {
    let end = row.length;
    while (end > 0 && empty(row[end - 1] as T)) end--;
    return row.slice(0, end);
  });
  let end = rows.length;
  while (end > 0 && (rows[end - 1] as T[]).length === 0) end--;
  return rows.slice(0, end);
}

function transpose<T>(matrix: T[][], fill: T): T[][] {
  const width = Math.max(0, ...matrix.map((r) => r.length));
  return Array.from({ length: width }, (_, c) => matrix.map((r) => (c < r.length ? (r[c] as T) : fill)));
}

// ---- Ranges on a tab ----

interface Box {
  tab: Tab;
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

function gridLimits(tab: Tab, range: A1Range): ApiError {
  return invalid(`Range (${formatA1({ ...range, tab: tab.title })}) exceeds grid limits. Max rows: ${tab.rowCount}, max columns: ${tab.columnCount}`);
}

function resolve(book: Book, text: string): { tab: Tab; range: A1Range } {
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

function box(book: Book, text: string): Box {
  const { tab, range } = resolve(book, text);
  if (range.startRow >= tab.rowCount || range.startCol >= tab.columnCount || (range.endRow ?? 0) >= tab.rowCount || (range.endCol ?? 0) >= tab.columnCount) {
    throw gridLimits(tab, range);
  }
  return { tab, r0: range.startRow, c0: range.startCol, r1: range.endRow ?? tab.rowCount - 1, c1: range.endCol ?? tab.columnCount - 1 };
}

const boxA1 = (b: Box) => formatA1({ tab: b.tab.title, startRow: b.r0, startCol: b.c0, endRow: b.r1, endCol: b.c1 });

function cellAt(tab: Tab, r: number, c: number): Cell | null | undefined {
  return tab.rows[r]?.[c];
}

function readBox<T>(b: Box, each: (cell: Cell | null | undefined) => T): T[][] {
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

interface Written {
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
  width: number;
}

function writeRect(tab: Tab, r0: number, c0: number, inputs: Input[][]): Written {
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
  return { updatedRows, updatedColumns: touchedColumns.size, updatedCells, width: Math.max(0, ...inputs.map((v) => v.length)) };
}

// ---- Request bodies and parameters ----

const ValueRangeSchema = z.object({
  range: z.string().optional(),
  majorDimension: z.enum(['ROWS', 'COLUMNS', 'DIMENSION_UNSPECIFIED']).optional(),
  values: z.array(z.array(z.unknown())).optional(),
});

const CreateSchema = z.object({
  properties: z.object({ title: z.string().optional() }).optional(),
  sheets: z
    .array(
      z.object({
        properties: z
          .object({
            title: z.string().min(1).optional(),
            sheetId: z.number().int().nonnegative().optional(),
            gridProperties: z.object({ rowCount: z.number().int().positive().optional(), columnCount: z.number().int().positive().optional() }).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});

function parseBody<T>(schema: z.ZodType<T>, body: Buffer): T {
  let json: unknown = {};
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw invalid('Invalid JSON payload received. Unexpected token.');
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`Invalid JSON payload received. Invalid value at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'not a valid request'}`);
  }
  return parsed.data;
}

function valueInputOption(query: URLSearchParams): ValueInputOption {
  const v = query.get('valueInputOption');
  if (v === null || v === '' || v === 'INPUT_VALUE_OPTION_UNSPECIFIED') throw invalid("'valueInputOption' is required but not specified");
  if (v !== 'RAW' && v !== 'USER_ENTERED') throw invalid(`Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "${v}"`);
  return v;
}

function renderOption(query: URLSearchParams): RenderOption {
  const v = query.get('valueRenderOption') ?? 'FORMATTED_VALUE';
  if (v !== 'FORMATTED_VALUE' && v !== 'UNFORMATTED_VALUE' && v !== 'FORMULA') throw invalid(`Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "${v}"`);
  return v;
}

function majorDimension(query: URLSearchParams): 'ROWS' | 'COLUMNS' {
  const v = query.get('majorDimension') ?? 'ROWS';
  if (v === 'ROWS' || v === 'DIMENSION_UNSPECIFIED') return 'ROWS';
  if (v === 'COLUMNS') return 'COLUMNS';
  throw invalid(`Invalid value at 'major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), "${v}"`);
}

function inputs(body: z.infer<typeof ValueRangeSchema>, option: ValueInputOption): Input[][] {
  const rows = (body.values ?? []).map((row, i) => row.map((v, j) => inputCell(v, option, `data.values[${i}].values[${j}]`)));
  return body.majorDimension === 'COLUMNS' ? transpose<Input>(rows, undefined) : rows;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      ended = true;
      if (size > MAX_BODY_BYTES) fail(invalid(`Request payload size exceeds the limit: ${MAX_BODY_BYTES} bytes.`));
      else ok(Buffer.concat(chunks));
    });
    req.on('error', fail);
    req.on('close', () => {
      if (!ended) fail(new Error('connection closed before the request body ended'));
    });
  });
}

// ---- OAuth JWT-bearer grant ----

function base64urlJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

const ClaimsSchema = z.object({ iss: z.string().min(1), scope: z.string(), exp: z.number() });

/** The service account (iss) of a well-formed JWT-bearer assertion, or what is wrong with it. */
function assertionIssuer(assertion: string | null): { iss: string } | { problem: string } {
  if (!assertion) return { problem: 'Missing required parameter: assertion' };
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { problem: 'Invalid JWT: expected three base64url parts separated by dots.' };
  const header = base64urlJson(parts[0] as string) as { alg?: unknown } | undefined;
  if (typeof header !== 'object' || header === null || header.alg !== 'RS256') return { problem: 'Invalid JWT: the header must be JSON with "alg": "RS256".' };
  const claims = ClaimsSchema.safeParse(base64urlJson(parts[1] as string));
  if (!claims.success) return { problem: 'Invalid JWT: the claims must be JSON with iss, scope and exp.' };
  if (!claims.data.scope.split(' ').includes(SHEETS_SCOPE)) return { problem: `Invalid JWT: scope must include ${SHEETS_SCOPE}.` };
  const now = Date.now() / 1000;
  if (claims.data.exp <= now || claims.data.exp > now + TOKEN_LIFETIME_S + 300) {
    return { problem: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.' };
  }
  return { iss: claims.data.iss };
}

// ---- Persistence: one JSON file per spreadsheet, writes serialised and coalesced ----

class Saver {
  private dirty = false;
  private waiters: Array<{ ok: () => void; fail: (e: unknown) => void }> = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => string,
  ) {}

  /** Resolves once a save that includes every change made so far is on disk. */
  save(): Promise<void> {
    this.dirty = true;
    const done = new Promise<void>((ok, fail) => this.waiters.push({ ok, fail }));
    this.running ??= this.loop();
    return done;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    await null; // let changes made in the same tick join this save
    while (this.dirty) {
      this.dirty = false;
      const batch = this.waiters;
      this.waiters = [];
      const text = this.snapshot();
      try {
        await writeFile(`${this.file}.tmp`, text, { mode: 0o600 });
        await rename(`${this.file}.tmp`, this.file);
        for (const w of batch) w.ok();
      } catch (error) {
        for (const w of batch) w.fail(error);
      }
    }
    this.running = undefined;
  }
}

/** A data folder that cannot be used; the message names the folder or file and the fix. */
export class SheetsDataError extends Error {
  override readonly name = 'SheetsDataError';
}

function loadBooks(dataDir: string): Book[] {
  let names: string[];
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    names = readdirSync(dataDir);
  } catch (error) {
    throw new SheetsDataError(`data folder ${dataDir} cannot be used (${(error as NodeJS.ErrnoException).code}): choose a writable folder`);
  }
  const books: Book[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dataDir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new SheetsDataError(`${file} cannot be read as JSON: remove it, or use another data folder`);
    }
    const parsed = BookSchema.safeParse(json);
    if (!parsed.success || `${parsed.data.spreadsheetId}.json` !== name) {
      throw new SheetsDataError(`${file} is not a spreadsheet saved by sheets-server: remove it, or use another data folder`);
    }
    books.push(parsed.data);
  }
  return books;
}

// ---- The server ----

function checkFaults(f: FaultOptions | undefined): void {
  if (!f) return;
  const bad = (what: string) => {
    throw new RangeError(`sheets-server faults: ${what}`);
  };
  if (!(f.rate >= 0 && f.rate <= 1)) bad('rate must be from 0 to 1');
  if (f.rate > 0 && f.kinds.length === 0) bad('kinds must name at least one fault when rate > 0');
  for (const k of f.kinds) if (!FAULT_KINDS.includes(k)) bad(`unknown fault kind ${String(k)}`);
  if (f.latencyMs !== undefined && !(f.latencyMs >= 0)) bad('latencyMs must be ≥ 0');
  if (f.retryAfterSeconds !== undefined && !(f.retryAfterSeconds >= 0)) bad('retryAfterSeconds must be ≥ 0');
  if (f.writeQuotaPerMinute !== undefined && !(Number.isInteger(f.writeQuotaPerMinute) && f.writeQuotaPerMinute > 0)) bad('writeQuotaPerMinute must be a whole number > 0');
}

type Route =
  | { kind: 'create' }
  | { kind: 'get'; id: string }
  | { kind: 'values.get'; id: string; range: string }
  | { kind: 'values.batchGet'; id: string }
  | { kind: 'values.append'; id: string; range: string }
  | { kind: 'values.update'; id: string; range: string };

const WRITES = new Set<Route['kind']>(['create', 'values.append', 'values.update']);

function route(method: string, path: string): Route | undefined {
  if (path === '/v4/spreadsheets') return method === 'POST' ? { kind: 'create' } : undefined;
  const m = /^\/v4\/spreadsheets\/([^/:]+)(\/.*|:.*)?$/.exec(path);
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1] as string);
  } catch {
    return undefined;
  }
  const rest = m[2] ?? '';
  if (rest === '') return method === 'GET' ? { kind: 'get', id } : undefined;
  if (rest === '/values:batchGet') return method === 'GET' ? { kind: 'values.batchGet', id } : undefined;
  if (!rest.startsWith('/values/')) return undefined;
  let raw = rest.slice('/values/'.length);
  const append = raw.endsWith(':append');
  if (append) raw = raw.slice(0, -':append'.length);
  if (raw === '' || raw.includes('/')) return undefined;
  let range: string;
  try {
    range = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (append) return method === 'POST' ? { kind: 'values.append', id, range } : undefined;
  if (method === 'GET') return { kind: 'values.get', id, range };
  if (method === 'PUT') return { kind: 'values.update', id, range };
  return undefined;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: ApiError): void {
  send(res, error.code, { error: { code: error.code, message: error.message, status: STATUS[error.code] ?? 'UNKNOWN' } }, error.headers);
}

const generateKeyPair = promisify(generateKeyPairCb);

/** A throwaway service-account key JSON (fresh RSA-2048 key) whose token_uri is this server's /token — for tests and the demo. */
export async function testServiceAccount(server: { tokenUrl: string }): Promise<{ type: 'service_account'; client_email: string; private_key: string; private_key_id: string; token_uri: string; project_id: string }> {
  const { privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const project = 'sheets-server-local';
  return {
    type: 'service_account',
    client_email: `test-${randomBytes(6).toString('hex')}@${project}.iam.gserviceaccount.com`,
    private_key: privateKey,
    private_key_id: randomBytes(20).toString('hex'),
    token_uri: server.tokenUrl,
    project_id: project,
  };
}

export async function startSheetsServer(options: SheetsServerOptions = {}): Promise<RunningSheetsServer> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir;
  const books = new Map<string, Book>();
  const savers = new Map<string, Saver>();
  const tokens = new Map<string, { iss: string; expiresAt: number }>();
  const writeTimes = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  const counters = { requests: 0, writes: 0, faults: {} as Record<string, number> };
  let faults: FaultOptions | undefined;
  let random: () => number = Math.random;
  let stopping: Promise<void> | undefined;
  let baseUrl = '';

  const setFaults = (f: FaultOptions | undefined) => {
    checkFaults(f);
    faults = f ? { ...f, kinds: [...f.kinds] } : undefined;
    random = f?.seed !== undefined ? prng(f.seed) : Math.random;
  };
  setFaults(options.faults);
  if (dataDir !== undefined) for (const book of loadBooks(dataDir)) books.set(book.spreadsheetId, book);

  const persist = (book: Book): Promise<void> => {
    if (dataDir === undefined) return Promise.resolve();
    let saver = savers.get(book.spreadsheetId);
    if (!saver) {
      saver = new Saver(join(dataDir, `${book.spreadsheetId}.json`), () => JSON.stringify(book));
      savers.set(book.spreadsheetId, saver);
    }
    return saver.save();
  };

  const countFault = (name: string) => {
    counters.faults[name] = (counters.faults[name] ?? 0) + 1;
  };

  const chooseFault = (): FaultKind | undefined => {
    if (!faults || faults.rate <= 0 || faults.kinds.length === 0) return undefined;
    if (random() >= faults.rate) return undefined;
    return faults.kinds[Math.floor(random() * faults.kinds.length)];
  };

  const authenticate = (req: IncomingMessage): string => {
    const header = req.headers.authorization;
    const challenge = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    if (!header?.startsWith('Bearer ')) {
      throw new ApiError(401, 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.', challenge);
    }
    const token = tokens.get(header.slice('Bearer '.length).trim());
    if (!token || token.expiresAt <= Date.now()) {
      throw new ApiError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', challenge);
    }
    return token.iss;
  };

  const chargeWrite = (iss: string) => {
    const quota = faults?.writeQuotaPerMinute;
    if (quota === undefined) return;
    const now = Date.now();
    const times = (writeTimes.get(iss) ?? []).filter((t) => t > now - 60_000);
    writeTimes.set(iss, times);
    if (times.length >= quota) {
      countFault('quota');
      throw new ApiError(
        429,
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'.",
        faults?.retryAfterSeconds !== undefined ? { 'retry-after': String(faults.retryAfterSeconds) } : {},
      );
    }
    times.push(now);
  };

  const bookFor = (id: string): Book => {
    const book = books.get(id);
    if (!book) throw notFound();
    return book;
  };

  const spreadsheetJson = (book: Book, query: URLSearchParams) => {
    const ranges = query.getAll('ranges');
    const gridData = query.get('includeGridData') === 'true';
    const wanted = ranges.map((r) => box(book, r));
    const sheets = book.tabs
      .map((tab, index) => {
        if (ranges.length > 0 && !wanted.some((b) => b.tab === tab)) return undefined;
        const properties = { sheetId: tab.sheetId, title: tab.title, index, sheetType: 'GRID', gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount } };
        if (!gridData) return { properties };
        const boxes = ranges.length > 0 ? wanted.filter((b) => b.tab === tab) : [{ tab, r0: 0, c0: 0, r1: tab.rowCount - 1, c1: tab.columnCount - 1 }];
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
      spreadsheetUrl: `${baseUrl}/spreadsheets/d/${book.spreadsheetId}/edit`,
    };
  };

  const valueRange = (book: Book, text: string, query: URLSearchParams) => {
    const b = box(book, text);
    const option = renderOption(query);
    let matrix = readBox<Rendered>(b, (c) => render(c, option));
    if (majorDimension(query) === 'COLUMNS') matrix = transpose<Rendered>(matrix, '');
    const values = trimmed(matrix, (v) => v === '');
    return { range: boxA1(b), majorDimension: majorDimension(query), ...(values.length > 0 ? { values } : {}) };
  };

  /** Runs one API call; mutations happen synchronously here, so concurrent calls never interleave. */
  const execute = (r: Route, query: URLSearchParams, body: Buffer): { status: number; body: unknown; saved: Promise<void> } => {
    const ok = (json: unknown, saved: Promise<void> = Promise.resolve()) => ({ status: 200, body: json, saved });
    switch (r.kind) {
      case 'create': {
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
        books.set(book.spreadsheetId, book);
        counters.writes++;
        return ok(spreadsheetJson(book, new URLSearchParams()), persist(book));
      }
      case 'get':
        return ok(spreadsheetJson(bookFor(r.id), query));
      case 'values.get':
        return ok(valueRange(bookFor(r.id), r.range, query));
      case 'values.batchGet': {
        const book = bookFor(r.id);
        return ok({ spreadsheetId: book.spreadsheetId, valueRanges: query.getAll('ranges').map((range) => valueRange(book, range, query)) });
      }
      case 'values.update': {
        const book = bookFor(r.id);
        const option = valueInputOption(query);
        const { tab, range } = resolve(book, r.range);
        const cells = inputs(parseBody(ValueRangeSchema, body), option);
        const height = cells.length;
        const width = Math.max(0, ...cells.map((v) => v.length));
        if (height === 0 || width === 0) return ok({ spreadsheetId: book.spreadsheetId });
        const written = { tab: tab.title, startRow: range.startRow, startCol: range.startCol, endRow: range.startRow + height - 1, endCol: range.startCol + width - 1 };
        // A single cell is only the anchor; a larger range bounds the write.
        const bounded = !(range.endRow === range.startRow && range.endCol === range.startCol);
        if (bounded && range.endRow !== undefined && written.endRow > range.endRow) throw invalid(`Requested writing within range [${formatA1({ ...range, tab: tab.title })}], but tried writing to row [${written.endRow + 1}]`);
        if (bounded && range.endCol !== undefined && written.endCol > range.endCol) throw invalid(`Requested writing within range [${formatA1({ ...range, tab: tab.title })}], but tried writing to column [${columnLetter(written.endCol)}]`);
        if (written.endRow >= tab.rowCount || written.endCol >= tab.columnCount) throw gridLimits(tab, written);
        const result = writeRect(tab, range.startRow, range.startCol, cells);
        counters.writes++;
        return ok({ spreadsheetId: book.spreadsheetId, updatedRange: formatA1(written), updatedRows: result.updatedRows, updatedColumns: result.updatedColumns, updatedCells: result.updatedCells }, persist(book));
      }
      case 'values.append': {
        const book = bookFor(r.id);
        const option = valueInputOption(query);
        const insert = query.get('insertDataOption') ?? 'OVERWRITE';
        if (insert !== 'OVERWRITE' && insert !== 'INSERT_ROWS') throw invalid(`Invalid value at 'insert_data_option' (type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "${insert}"`);
        const b = box(book, r.range);
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
        if (height === 0 || width === 0) return ok({ spreadsheetId: book.spreadsheetId, ...tableRange, updates: { spreadsheetId: book.spreadsheetId } });
        const at = last >= 0 ? last + 1 : b.r0;
        if (insert === 'INSERT_ROWS') {
          if (at < tab.rows.length) tab.rows.splice(at, 0, ...Array.from({ length: height }, () => []));
          tab.rowCount += height;
        } else {
          tab.rowCount = Math.max(tab.rowCount, at + height);
        }
        tab.columnCount = Math.max(tab.columnCount, b.c0 + width);
        const result = writeRect(tab, at, b.c0, cells);
        counters.writes++;
        const updatedRange = formatA1({ tab: tab.title, startRow: at, startCol: b.c0, endRow: at + height - 1, endCol: b.c0 + width - 1 });
        return ok(
          {
            spreadsheetId: book.spreadsheetId,
            ...tableRange,
            updates: { spreadsheetId: book.spreadsheetId, updatedRange, updatedRows: result.updatedRows, updatedColumns: result.updatedColumns, updatedCells: result.updatedCells },
          },
          persist(book),
        );
      }
    }
  };

  const handleToken = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const oauthError = (error: string, description: string) => send(res, 400, { error, error_description: description });
    if (form.get('grant_type') !== JWT_GRANT) return oauthError('unsupported_grant_type', `Invalid grant_type: use ${JWT_GRANT}`);
    const who = assertionIssuer(form.get('assertion'));
    if ('problem' in who) return oauthError('invalid_grant', who.problem);
    const now = Date.now();
    for (const [t, v] of tokens) if (v.expiresAt <= now) tokens.delete(t);
    const accessToken = `ya29.local-${randomBytes(32).toString('base64url')}`;
    tokens.set(accessToken, { iss: who.iss, expiresAt: now + TOKEN_LIFETIME_S * 1000 });
    send(res, 200, { access_token: accessToken, expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer' });
  };

  const handleApi = async (r: Route, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    counters.requests++;
    const fault = chooseFault();
    const write = WRITES.has(r.kind);
    if (fault === 'reset' || ((fault === 'drop-after-write' || fault === 'timeout-after-write') && !write)) {
      countFault(String(fault));
      req.socket.resetAndDestroy();
      return;
    }
    const body = await readBody(req);
    const latency = faults?.latencyMs ?? 0;
    if (latency > 0) await sleep(latency, undefined, { ref: false });
    if (stopping) return;
    if (typeof fault === 'number') {
      countFault(String(fault));
      const headers: Record<string, string> = fault === 429 && faults?.retryAfterSeconds !== undefined ? { 'retry-after': String(faults.retryAfterSeconds) } : {};
      return sendError(res, new ApiError(fault, FAULT_MESSAGES[fault] ?? 'Error', headers));
    }
    const iss = authenticate(req);
    if (write) chargeWrite(iss);
    const result = execute(r, query, body);
    await result.saved.catch(() => {
      throw new ApiError(500, 'Internal error encountered.');
    });
    if (fault === 'drop-after-write') {
      countFault(fault);
      req.socket.destroy();
      return;
    }
    if (fault === 'timeout-after-write') {
      countFault(fault); // held open until the client gives up or stop()
      return;
    }
    send(res, result.status, result.body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const r = route(method, url.pathname);
    const work = url.pathname === '/token' && method === 'POST' ? handleToken(req, res) : r ? handleApi(r, req, res, url.searchParams) : Promise.reject(notFound());
    work.catch((error: unknown) => {
      if (res.headersSent || req.socket.destroyed) return;
      sendError(res, error instanceof ApiError ? error : new ApiError(500, 'Internal error encountered.'));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('sheets-server: no listening address');
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  return {
    url: baseUrl,
    port: address.port,
    tokenUrl: `${baseUrl}/token`,
    setFaults,
    stats: () => ({ requests: counters.requests, writes: counters.writes, faults: { ...counters.faults } }),
    rows: (spreadsheetId, tabTitle) => {
      const book = books.get(spreadsheetId);
      if (!book) throw new Error(`no spreadsheet ${spreadsheetId} on this server`);
      const tab = tabTitle === undefined ? book.tabs[0] : book.tabs.find((t) => t.title === tabTitle);
      if (!tab) throw new Error(`spreadsheet ${spreadsheetId} has no tab ${quoteTab(tabTitle ?? '')}`);
      return trimmed(
        tab.rows.map((row) => row.map(cellText)),
        (v) => v === '',
      );
    },
    stop: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((ok) => server.close(() => ok()));
        for (const socket of sockets) socket.destroy();
        await closed;
        await Promise.all([...savers.values()].map((s) => s.idle()));
      })();
      return stopping;
    },
  };
}
