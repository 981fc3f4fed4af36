// Publishing one response: one row in the sheet, exactly once, within the
// deadline; else the row goes to the pending queue for `flush`.
//
// Exactly once without timing assumptions: before writing, the response
// claims a row position through Twilio Sync (row-claims.ts: the first claim
// of an execution wins, and positions are never handed out twice), and every
// write of that response, by any instance, at any time, late or repeated,
// writes the same cells of that one row. A write whose answer was lost is
// simply written again; a write Google performs after the client gave up
// lands on the same row. No loss: what the sheet cannot take in time is
// queued, keyed by execution_sid, and flush writes it to the same claimed row.

import type { Claim, RowClaims } from '../queue/row-claims.js';
import { QueueError } from '../queue/sync-client.js';
import type { PendingQueue } from '../queue/sync-queue.js';
import { backoffMs, classify, Deadline, sleep, type BackoffPolicy } from '../sheets/retry.js';
import type { SheetTable, TabGrid } from '../sheets/table.js';
import type { PublishConfig } from './config.js';
import { planRow, type RowPlan } from './header.js';
import { RECEIVED_AT, type Problem, type Response } from './row.js';

export interface Published {
  /** Where the response is: its claimed row in the sheet, or the queue (flush writes it to that row). */
  readonly stored: 'sheet' | 'queue';
  /** The execution had been received before (Studio repeating the call, another instance): same row, nothing added. */
  readonly duplicate: boolean;
}

export interface PublishDeps {
  readonly table: SheetTable;
  readonly claims: RowClaims;
  readonly queue: PendingQueue;
  readonly random?: () => number;
}

export const BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 2000 };
/** Kept free at the end of the deadline for the queue write. */
export const queueReserveMs = (deadlineMs: number): number => Math.min(1200, deadlineMs * 0.15);
/**
 * Per Sync request. Claiming comes first, with the whole deadline ahead, and
 * a claim request that times out may have worked (a List index then goes
 * unused: a blank row), so it gets a generous share; queueing (up to three
 * requests: item, map, item) must fit in the queue reserve.
 */
export const syncTimeouts = (deadlineMs: number) => ({
  claimMs: Math.max(500, Math.floor(deadlineMs / 4)),
  queueMs: Math.max(300, Math.floor(queueReserveMs(deadlineMs) / 2)),
});
/** An attempt gets at most this share of the deadline, so one hung request leaves time for more. */
const ATTEMPT_SHARE = 1 / 3;
const MIN_ATTEMPT_MS = 100;
/** Rows added at a time when a claimed row is past the grid (Google's new-sheet size). */
const GROW_ROWS = 1000;

/** Out of time: the caller queues what it has. */
class OutOfTime extends Error {
  override readonly name = 'OutOfTime';
}

/** Google refused in a way retrying cannot fix. */
class Refused extends Error {
  override readonly name = 'Refused';
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

// Per warm instance and sheet: row 1 and the grid (both read again when they no longer fit), and in-flight publishes.
const headers = new Map<string, readonly string[]>();
const grids = new Map<string, TabGrid>();
const inFlight = new Map<string, Promise<Published | Problem>>();

function sheetKey(table: SheetTable): string {
  return `${table.target.spreadsheetId}\u0000${table.target.tab ?? ''}`;
}

function rejected(status: number, config: PublishConfig): Problem {
  if (status === 401 || status === 403) {
    return { status: 502, code: 'SHEET_ACCESS_DENIED', message: `Google refused access to the sheet: share it with the service account ${config.account.client_email} as Editor` };
  }
  if (status === 404) return { status: 502, code: 'SHEET_NOT_FOUND', message: 'no spreadsheet has this SHEET_ID (or no tab this SHEET_TAB): check SHEET_ID and SHEET_TAB (and SHEETS_API_URL, if set)' };
  if (status === 400) return { status: 502, code: 'SHEET_REQUEST_INVALID', message: 'Google rejected the request (HTTP 400): check that SHEET_TAB names an existing tab' };
  return { status: 502, code: 'SHEETS_REJECTED', message: `Google Sheets answered HTTP ${status}; nothing was written` };
}

/** Runs one Sheets request until it succeeds, retrying 429/5xx/timeouts with backoff; OutOfTime at `by`, Refused on other 4xx. */
async function retrying<T>(by: Deadline, config: PublishConfig, random: () => number, run: (timeoutMs: number) => Promise<T>): Promise<T> {
  const attemptCap = Math.max(MIN_ATTEMPT_MS, config.deadlineMs * ATTEMPT_SHARE);
  for (let failures = 0; ; failures++) {
    const timeout = Math.min(by.remaining(), attemptCap);
    if (timeout < MIN_ATTEMPT_MS) throw new OutOfTime();
    try {
      return await run(timeout);
    } catch (error) {
      // Every write here is idempotent (a whole row at a fixed position), so a write that may have landed is simply repeated.
      const outcome = classify(error);
      if (!outcome.retry) throw new Refused(outcome.status);
      const delay = backoffMs(BACKOFF, failures, outcome.retryAfterMs, random);
      if (delay + MIN_ATTEMPT_MS > by.remaining()) throw new OutOfTime();
      await sleep(delay);
    }
  }
}

/** The response laid out on row 1: the cached header, read again once when the response does not fit it. */
async function plan(response: Response, config: PublishConfig, deps: PublishDeps, by: Deadline, random: () => number): Promise<RowPlan | Problem> {
  const key = sheetKey(deps.table);
  const cached = headers.get(key);
  if (cached) {
    const planned = planRow(response, cached, config);
    if (!('code' in planned)) return planned;
  }
  const header = await retrying(by, config, random, (t) => deps.table.header(t));
  headers.set(key, header);
  return planRow(response, header, config);
}

/** The tab's grid, with at least `rows` rows and `columns` columns. */
async function gridFitting(rows: number, columns: number, deps: PublishDeps, by: Deadline, config: PublishConfig, random: () => number): Promise<TabGrid> {
  const key = sheetKey(deps.table);
  let grid = grids.get(key);
  if (grid && grid.rows >= rows && grid.columns >= columns) return grid;
  grid = await retrying(by, config, random, (t) => deps.table.grid(t));
  // appendDimension is not idempotent, but extra empty rows or columns at the end are harmless.
  if (grid.rows < rows) {
    const add = Math.max(GROW_ROWS, rows - grid.rows);
    const g = grid;
    await retrying(by, config, random, (t) => deps.table.extend(g, 'ROWS', add, t));
    grid = { ...grid, rows: grid.rows + add };
  }
  if (grid.columns < columns) {
    const add = columns - grid.columns;
    const g = grid;
    await retrying(by, config, random, (t) => deps.table.extend(g, 'COLUMNS', add, t));
    grid = { ...grid, columns: grid.columns + add };
  }
  grids.set(key, grid);
  return grid;
}

/** A Sync failure: the set-up's (credentials, service: 500 CONFIG_INVALID naming the variable) or Sync's (503 NOT_STORED). */
function syncProblem(error: unknown, what: string, outcome: string): Problem {
  if (error instanceof QueueError && (error.code === 'AUTH' || error.code === 'SERVICE_NOT_FOUND')) {
    const variable = error.code === 'AUTH' ? 'ACCOUNT_SID/AUTH_TOKEN' : 'SYNC_SERVICE_SID';
    return { status: 500, code: 'CONFIG_INVALID', message: `${what}: ${error.message} (${variable}); ${outcome}` };
  }
  const why = error instanceof QueueError ? `: ${error.message}` : '';
  return { status: 503, code: 'NOT_STORED', message: `${what}${why}; ${outcome}` };
}

/** Claims the response's row, retrying Sync while time allows; the first claim of a sheet reads its first free row. */
async function claimRow(response: Response, config: PublishConfig, deps: PublishDeps, by: Deadline, random: () => number): Promise<Claim & { readonly fresh: boolean }> {
  const { table } = deps;
  const firstRow = async () => {
    const grid = await retrying(by, config, random, (t) => table.grid(t));
    // Row 1 is the header even while it is still empty (SHEET_AUTO_HEADERS writes it).
    return Math.max(2, (await retrying(by, config, random, (t) => table.usedRows(grid, t))) + 1);
  };
  const receivedAt = response.columns[RECEIVED_AT] as string;
  for (let failures = 0; ; failures++) {
    try {
      const claim = await deps.claims.claim(response.executionSid, receivedAt, firstRow);
      // Our own earlier attempt whose answer was lost is not a repeat: its claim carries our receipt time.
      return failures > 0 && claim.receivedAt === receivedAt ? { ...claim, fresh: true } : claim;
    } catch (error) {
      const unreachable = error instanceof QueueError && error.code === 'UNREACHABLE';
      const delay = backoffMs(BACKOFF, failures, undefined, random);
      if (!unreachable || delay + syncTimeouts(config.deadlineMs).claimMs > by.remaining()) throw error;
      await sleep(delay);
    }
  }
}

async function publishOnce(response: Response, config: PublishConfig, deps: PublishDeps): Promise<Published | Problem> {
  const random = deps.random ?? Math.random;
  const deadline = new Deadline(config.deadlineMs);
  const sheetBy = deadline.minus(queueReserveMs(config.deadlineMs));
  const { table, claims, queue } = deps;

  let planned: RowPlan | Problem | undefined;
  try {
    planned = await plan(response, config, deps, sheetBy, random);
  } catch (error) {
    if (error instanceof Refused) return rejected(error.status, config);
    if (!(error instanceof OutOfTime)) throw error;
    // Row 1 cannot be read now: the response is already guarded, so it can wait in the queue; flush lays it out.
  }
  if (planned && 'code' in planned) return planned;

  let claim: (Claim & { readonly fresh: boolean }) | undefined;
  try {
    claim = await claimRow(response, config, deps, sheetBy, random);
  } catch (error) {
    if (error instanceof Refused) return rejected(error.status, config);
    if (!(error instanceof OutOfTime)) return syncProblem(error, 'the response could not claim its row in Twilio Sync', 'nothing was stored');
    // The sheet could not say where the first row goes in time: queue; flush claims the row.
  }
  // The first receipt's time: a repeated or late write carries exactly the same cells.
  const columns = claim ? { ...response.columns, [RECEIVED_AT]: claim.receivedAt } : response.columns;
  const duplicate = claim ? !claim.fresh : false;

  if (planned && claim) {
    const { values } = planRow({ ...response, columns }, planned.header, config) as RowPlan;
    try {
      await gridFitting(claim.row, planned.header.length, deps, sheetBy, config, random);
      if (planned.extendsHeader) {
        const header = planned.header;
        await retrying(sheetBy, config, random, (t) => table.writeHeader(header, t));
        headers.set(sheetKey(table), header);
      }
      const row = claim.row;
      await retrying(sheetBy, config, random, (t) => table.writeRows([{ row, values }], t));
      return { stored: 'sheet', duplicate };
    } catch (error) {
      if (error instanceof Refused) {
        // A 400 may mean the tab or its grid changed under a cached view: read both again next time.
        headers.delete(sheetKey(table));
        grids.delete(sheetKey(table));
        return rejected(error.status, config);
      }
      if (!(error instanceof OutOfTime)) throw error;
    }
  }
  try {
    await queue.put({ executionSid: response.executionSid, columns, queuedAt: new Date().toISOString() });
  } catch (error) {
    return syncProblem(error, 'Google Sheets did not take the row in time and the Sync queue failed too', 'a repeat of this call will write the row');
  }
  return { stored: 'queue', duplicate };
}

/** Stores one guarded response; concurrent calls for one execution_sid in this instance share one attempt. */
export async function publishResponse(response: Response, config: PublishConfig, deps: PublishDeps): Promise<Published | Problem> {
  const sid = response.executionSid;
  const running = inFlight.get(sid);
  if (running) {
    const result = await running;
    return 'stored' in result ? { ...result, duplicate: true } : result;
  }
  const attempt = publishOnce(response, config, deps);
  inFlight.set(sid, attempt);
  try {
    return await attempt;
  } finally {
    inFlight.delete(sid);
  }
}
