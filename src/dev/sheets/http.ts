// Routing: Google's Sheets v4 paths to API calls, and the HTTP plumbing
// (bodies in, JSON and Google-shaped errors out).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, invalid, STATUS } from './errors.js';
import type { Store } from './storage.js';

/** What an API call works on. */
export interface Context {
  store: Store;
  /** The server's URL, for spreadsheetUrl. */
  baseUrl: string;
}

export type Route =
  | { kind: 'create' }
  | { kind: 'get'; id: string }
  | { kind: 'batchUpdate'; id: string }
  | { kind: 'values.get'; id: string; range: string }
  | { kind: 'values.batchGet'; id: string }
  | { kind: 'values.append'; id: string; range: string }
  | { kind: 'values.update'; id: string; range: string }
  | { kind: 'values.batchUpdate'; id: string };

/** What an API call answers (200); `saved` when it changed a spreadsheet, resolved once that is on disk. */
export interface Answer {
  body: unknown;
  saved?: Promise<void>;
}

/** Calls that change a spreadsheet: Google's write quota, and the faults that act on writes. */
export const WRITES: ReadonlySet<Route['kind']> = new Set(['create', 'batchUpdate', 'values.append', 'values.update', 'values.batchUpdate']);

const MAX_BODY_BYTES = 10 * 1024 * 1024;

const decoded = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

/** The API call a method and path name; undefined for anything else (404). */
export function route(method: string, path: string): Route | undefined {
  if (path === '/v4/spreadsheets') return method === 'POST' ? { kind: 'create' } : undefined;
  const m = /^\/v4\/spreadsheets\/([^/:]+)(\/.*|:.*)?$/.exec(path);
  const id = m ? decoded(m[1] as string) : undefined;
  if (id === undefined) return undefined;
  const rest = m?.[2] ?? '';
  if (rest === '') return method === 'GET' ? { kind: 'get', id } : undefined;
  if (rest === ':batchUpdate') return method === 'POST' ? { kind: 'batchUpdate', id } : undefined;
  if (rest === '/values:batchGet') return method === 'GET' ? { kind: 'values.batchGet', id } : undefined;
  if (rest === '/values:batchUpdate') return method === 'POST' ? { kind: 'values.batchUpdate', id } : undefined;
  if (!rest.startsWith('/values/')) return undefined;
  let raw = rest.slice('/values/'.length);
  const append = raw.endsWith(':append');
  if (append) raw = raw.slice(0, -':append'.length);
  const range = raw === '' || raw.includes('/') ? undefined : decoded(raw);
  if (range === undefined) return undefined;
  if (append) return method === 'POST' ? { kind: 'values.append', id, range } : undefined;
  if (method === 'GET') return { kind: 'values.get', id, range };
  if (method === 'PUT') return { kind: 'values.update', id, range };
  return undefined;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
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

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  send(res, error.code, { error: { code: error.code, message: error.message, status: STATUS[error.code] ?? 'UNKNOWN' } }, error.headers);
}
