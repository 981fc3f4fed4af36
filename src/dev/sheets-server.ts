// A local stand-in for the Google Sheets v4 REST API, for the tests and the
// demo: Google's paths and JSON shapes, its grid limits, its OAuth JWT-bearer
// token grant, and injectable faults (error statuses, dropped connections,
// late writes, write quota). It is not Google: any well-formed JWT gets a
// token (signatures are not checked), formulas are stored but only plain
// arithmetic is evaluated, and data is kept unencrypted on local disk. It
// logs nothing. The parts live in ./sheets/.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteTab } from '../sheets/a1.js';
import { Tokens } from './sheets/auth.js';
import { cellText, trimmed } from './sheets/cells.js';
import { ApiError, internal, notFound } from './sheets/errors.js';
import { Faults, WRITE_FAULTS, type FaultOptions } from './sheets/faults.js';
import { applyFields, parseFields, type FieldMask } from './sheets/fields.js';
import { readBody, route, send, sendError, WRITES, type Answer, type Context, type Route } from './sheets/http.js';
import * as spreadsheets from './sheets/spreadsheets.js';
import { Store } from './sheets/storage.js';
import * as values from './sheets/values.js';

export { testServiceAccount } from './sheets/auth.js';
export { DEFAULT_LATE_WRITE_MS, FAULT_KINDS, type FaultKind, type FaultOptions } from './sheets/faults.js';
export { SheetsDataError } from './sheets/storage.js';

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
  /** requests: API requests received; faults: injected faults by kind ('quota' for write-quota 429s); writes: writing requests performed (late ones included, once performed). */
  /** pendingLateWrites: late-write requests held or waiting to be performed (0 once every late write has landed). */
  stats(): { requests: number; faults: Record<string, number>; writes: number; pendingLateWrites: number };
  /**
   * Rows of a tab as stored, for test assertions: each cell as entered
   * (formulas as their text, numbers as String(n), booleans as TRUE/FALSE,
   * empty cells as ''), trailing empty cells and rows left out. The first tab
   * when `tab` is absent.
   */
  rows(spreadsheetId: string, tab?: string): string[][];
  /** Closes every connection, held ones included, drops late writes not yet performed, and resolves once pending saves are on disk. */
  stop(): Promise<void>;
}

/** Runs one API call; mutations happen synchronously here, so concurrent calls never interleave. */
function execute(ctx: Context, r: Route, query: URLSearchParams, body: Buffer, fields: FieldMask | undefined): Answer {
  switch (r.kind) {
    case 'create':
      return spreadsheets.create(ctx, body);
    case 'get':
      return spreadsheets.get(ctx, r.id, query, fields);
    case 'batchUpdate':
      return spreadsheets.batchUpdate(ctx, r.id, body);
    case 'values.get':
      return values.get(ctx, r.id, r.range, query);
    case 'values.batchGet':
      return values.batchGet(ctx, r.id, query);
    case 'values.update':
      return values.update(ctx, r.id, r.range, query, body);
    case 'values.batchUpdate':
      return values.batchUpdate(ctx, r.id, body);
    case 'values.append':
      return values.append(ctx, r.id, r.range, query, body);
  }
}

export async function startSheetsServer(options: SheetsServerOptions = {}): Promise<RunningSheetsServer> {
  const host = options.host ?? '127.0.0.1';
  const faults = new Faults();
  faults.set(options.faults);
  const store = new Store(options.dataDir);
  const ctx: Context = { store, baseUrl: '' };
  const tokens = new Tokens();
  const sockets = new Set<Socket>();
  const lateWrites = new Set<NodeJS.Timeout>();
  const shutdown = new AbortController();
  const counters = { requests: 0, writes: 0, pendingLateWrites: 0 };
  let stopping: Promise<void> | undefined;

  const perform = (r: Route, query: URLSearchParams, body: Buffer, fields: FieldMask | undefined): Answer => {
    const answer = execute(ctx, r, query, body, fields);
    if (answer.saved) counters.writes++;
    return answer;
  };

  /** late-write: nothing is answered; once the client gives up (`closed`), the write is performed lateWriteMs later. */
  const writeLate = (closed: Promise<void>, r: Route, query: URLSearchParams, body: Buffer) => {
    const delay = faults.lateWriteMs;
    counters.pendingLateWrites++;
    void closed.then(() => {
      if (shutdown.signal.aborted) return;
      const timer = setTimeout(() => {
        lateWrites.delete(timer);
        counters.pendingLateWrites--;
        try {
          perform(r, query, body, undefined).saved?.catch(() => undefined);
        } catch {
          // The write would have failed (a bad range, say); there is nobody to tell.
        }
      }, delay);
      lateWrites.add(timer);
    });
  };

  const handleToken = async (req: IncomingMessage, res: ServerResponse) => {
    const answer = tokens.grant(new URLSearchParams((await readBody(req)).toString('utf8')));
    send(res, answer.status, answer.body);
  };

  const handleApi = async (r: Route, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    counters.requests++;
    // Listening from the start: the client may give up while the body is still read.
    const closed = new Promise<void>((ok) => res.once('close', ok));
    const fault = faults.choose();
    const write = WRITES.has(r.kind);
    if (fault === 'reset' || (fault !== undefined && WRITE_FAULTS.has(fault) && !write)) {
      faults.count(String(fault));
      req.socket.resetAndDestroy();
      return;
    }
    const body = await readBody(req);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs, undefined, { signal: shutdown.signal }).catch(() => undefined);
    if (shutdown.signal.aborted) return;
    if (typeof fault === 'number') {
      faults.count(String(fault));
      return sendError(res, faults.statusError(fault));
    }
    const fieldsText = query.get('fields');
    const fields = fieldsText !== null && fieldsText !== '' ? parseFields(fieldsText) : undefined;
    const iss = tokens.authenticate(req.headers.authorization);
    if (write) faults.chargeWrite(iss);
    if (fault === 'late-write') {
      faults.count(fault);
      writeLate(closed, r, query, body);
      return;
    }
    const answer = perform(r, query, body, fields);
    await answer.saved?.catch(() => {
      throw internal();
    });
    if (fault === 'drop-after-write') {
      faults.count(fault);
      req.socket.destroy();
      return;
    }
    if (fault === 'timeout-after-write') {
      faults.count(fault); // held open until the client gives up or stop()
      return;
    }
    send(res, 200, fields ? applyFields(answer.body, fields) : answer.body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const r = route(method, url.pathname);
    const work = url.pathname === '/token' && method === 'POST' ? handleToken(req, res) : r ? handleApi(r, req, res, url.searchParams) : Promise.reject(notFound());
    work.catch((error: unknown) => {
      if (res.headersSent || req.socket.destroyed) return;
      sendError(res, error instanceof ApiError ? error : internal());
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
  ctx.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  return {
    url: ctx.baseUrl,
    port: address.port,
    tokenUrl: `${ctx.baseUrl}/token`,
    setFaults: (f) => faults.set(f),
    stats: () => ({ requests: counters.requests, writes: counters.writes, pendingLateWrites: counters.pendingLateWrites, faults: { ...faults.counts } }),
    rows: (spreadsheetId, tabTitle) => {
      const book = store.find(spreadsheetId);
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
        shutdown.abort();
        for (const timer of lateWrites) clearTimeout(timer);
        lateWrites.clear();
        const closed = new Promise<void>((ok) => server.close(() => ok()));
        for (const socket of sockets) socket.destroy();
        await closed;
        await store.idle();
      })();
      return stopping;
    },
  };
}
