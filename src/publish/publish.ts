// Publishing one response: one row in the sheet, exactly once, within the
// deadline; else the row goes to the pending queue for `flush`.
//
// Exactly once: an append whose outcome is unknown (reset, timeout, 5xx) is
// never repeated before the execution_sid column has been checked, and a
// repeated execution_sid is checked the same way. No loss: what the sheet
// cannot take in time is queued, keyed by execution_sid.

import type { PendingQueue } from '../queue/sync-queue.js';
import { backoffMs, classify, Deadline, sleep, type BackoffPolicy } from '../sheets/retry.js';
import type { SheetTable } from '../sheets/table.js';
import type { PublishConfig } from './config.js';
import { EXECUTION_SID, RECEIVED_AT, RESPONDENT_ID, headerIndex, toRow, unmappedFields, type Problem, type Response } from './row.js';

export type Stored = 'sheet' | 'duplicate' | 'queue';

export interface Published {
  readonly stored: Stored;
  /** Fields with no column in the sheet, by name. */
  readonly unmapped: readonly string[];
}

export interface PublishDeps {
  readonly table: SheetTable;
  readonly queue: PendingQueue | undefined;
  readonly random?: () => number;
}

export const BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 2000 };
/** Looking a row up is a cheap read: retried faster, so an unknown outcome is resolved before the deadline. */
export const LOOKUP_BACKOFF: BackoffPolicy = { baseMs: 25, capMs: 200 };
/** Kept free at the end of the deadline: for the queue write, and before it for looking up an append whose outcome is unknown. */
export const reserves = (deadlineMs: number) => ({ queueMs: Math.min(1200, deadlineMs * 0.15), lookupMs: Math.min(1500, deadlineMs * 0.25) });
/** Per Sync request while queueing: a first queueing may take three (item, map, item), all inside Studio's 10 s. */
export const queueRequestTimeoutMs = (deadlineMs: number): number => Math.max(300, Math.floor(reserves(deadlineMs).queueMs / 2));
/** An attempt gets at most this share of the deadline, so one hung request leaves time for more. */
const ATTEMPT_SHARE = 1 / 3;
const MIN_ATTEMPT_MS = 100;

/** A problem of the sheet's set-up that retrying cannot fix. */
class SheetProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.code);
  }
}

// Per warm instance: the header of each sheet, in-flight publishes, and the
// execution SIDs this instance has stored (a repeat is checked, not appended).
const headers = new Map<string, readonly string[]>();
const inFlight = new Map<string, Promise<Published | Problem>>();
const seen = new Map<string, Stored>();
const SEEN_LIMIT = 10_000;

function remember(sid: string, stored: Stored): void {
  seen.delete(sid);
  seen.set(sid, stored);
  if (seen.size > SEEN_LIMIT) seen.delete(seen.keys().next().value as string);
}

function sheetKey(table: SheetTable): string {
  return `${table.target.spreadsheetId}\u0000${table.target.tab ?? ''}`;
}

function rejected(status: number, config: PublishConfig): Problem {
  if (status === 401 || status === 403) {
    return { status: 502, code: 'SHEET_ACCESS_DENIED', message: `Google refused access to the sheet: share it with the service account ${config.account.client_email} as Editor` };
  }
  if (status === 404) return { status: 502, code: 'SHEET_NOT_FOUND', message: 'no spreadsheet has this SHEET_ID: check SHEET_ID (and SHEETS_API_URL, if set)' };
  if (status === 400) return { status: 502, code: 'SHEET_REQUEST_INVALID', message: 'Google rejected the request (HTTP 400): check that SHEET_TAB names an existing tab' };
  return { status: 502, code: 'SHEETS_REJECTED', message: `Google Sheets answered HTTP ${status}; nothing was written` };
}

/**
 * The header to write `columns` under: cached, re-read when a field has no
 * column, extended when SHEET_AUTO_HEADERS is on. Needs an execution_sid column.
 */
async function headerFor(table: SheetTable, config: PublishConfig, columns: Readonly<Record<string, string>>, timeoutMs: number): Promise<readonly string[]> {
  const key = sheetKey(table);
  let header = headers.get(key);
  if (!header || unmappedFields(columns, header).length > 0) {
    header = await table.header(timeoutMs);
    headers.set(key, header);
  }
  const missing = unmappedFields(columns, header);
  if (missing.length > 0 && config.autoHeaders) {
    const base = header.length > 0 ? header : [RECEIVED_AT, EXECUTION_SID, RESPONDENT_ID].filter((h) => h !== RESPONDENT_ID || h in columns);
    const extended = [...base, ...unmappedFields(columns, base)];
    await table.writeHeader(extended, timeoutMs);
    header = extended;
    headers.set(key, header);
  }
  if (header.length === 0) {
    throw new SheetProblem({ status: 500, code: 'SHEET_HAS_NO_HEADER', message: 'row 1 of the sheet is empty: type the column names into it (execution_sid, received_at and the fields), or set SHEET_AUTO_HEADERS=1' });
  }
  if (!headerIndex(header).has(EXECUTION_SID)) {
    throw new SheetProblem({ status: 500, code: 'NO_EXECUTION_SID_COLUMN', message: 'the sheet has no execution_sid column: add one to row 1 (it keeps one row per response), or set SHEET_AUTO_HEADERS=1' });
  }
  return header;
}

/**
 * Tries to put the row in the sheet before `by`. Appends stop early enough
 * to leave time for looking up one whose outcome is unknown. Returns
 * undefined when out of time (the caller queues the row).
 */
async function storeInSheet(response: Response, config: PublishConfig, deps: PublishDeps, by: Deadline, startUnknown: boolean): Promise<Published | Problem | undefined> {
  const { table } = deps;
  const random = deps.random ?? Math.random;
  const attemptCap = Math.max(MIN_ATTEMPT_MS, config.deadlineMs * ATTEMPT_SHARE);
  const appendBy = by.minus(reserves(config.deadlineMs).lookupMs);
  // 'unknown': the row may already be in the sheet and must be looked up before appending.
  let state: 'absent' | 'unknown' = startUnknown ? 'unknown' : 'absent';
  let header: readonly string[] | undefined;
  let appendFailures = 0;
  let lookupFailures = 0;
  for (;;) {
    const window = state === 'unknown' && header ? by : appendBy;
    const timeout = Math.min(window.remaining(), attemptCap);
    if (timeout < MIN_ATTEMPT_MS) return undefined;
    let writing = false;
    try {
      header ??= await headerFor(table, config, response.columns, timeout);
      const unmapped = unmappedFields(response.columns, header);
      if (state === 'unknown') {
        const sids = await table.column(headerIndex(header).get(EXECUTION_SID) as number, timeout);
        if (sids.includes(response.executionSid)) return { stored: 'duplicate', unmapped };
        state = 'absent';
        continue;
      }
      writing = true;
      await table.append([toRow(response.columns, header, config.missingValue)], timeout);
      return { stored: 'sheet', unmapped };
    } catch (error) {
      if (error instanceof SheetProblem) return error.problem;
      const outcome = classify(error, writing);
      if (!outcome.retry) {
        // A 400 after the header was cached may mean the tab changed; read it again next time.
        headers.delete(sheetKey(table));
        return rejected(outcome.status, config);
      }
      if (outcome.ambiguous) state = 'unknown';
      const lookingUp = state === 'unknown' && header !== undefined;
      const delay = lookingUp ? backoffMs(LOOKUP_BACKOFF, lookupFailures++, outcome.retryAfterMs, random) : backoffMs(BACKOFF, appendFailures++, outcome.retryAfterMs, random);
      const next = lookingUp ? by : appendBy;
      if (delay + MIN_ATTEMPT_MS > next.remaining()) return undefined;
      await sleep(delay);
    }
  }
}

async function publishOnce(response: Response, config: PublishConfig, deps: PublishDeps): Promise<Published | Problem> {
  const deadline = new Deadline(config.deadlineMs);
  const sheetDeadline = deps.queue ? deadline.minus(reserves(config.deadlineMs).queueMs) : deadline;
  const stored = await storeInSheet(response, config, deps, sheetDeadline, seen.has(response.executionSid));
  if (stored) return stored;
  if (!deps.queue) {
    return { status: 503, code: 'SHEET_UNAVAILABLE', message: 'Google Sheets did not take the row before the deadline and no queue is configured (set ACCOUNT_SID and AUTH_TOKEN for the Sync queue); nothing was stored' };
  }
  try {
    await deps.queue.put({ executionSid: response.executionSid, columns: response.columns, queuedAt: new Date().toISOString() });
  } catch (error) {
    const why = error instanceof Error && error.name === 'QueueError' ? `: ${error.message}` : '';
    return { status: 503, code: 'NOT_STORED', message: `Google Sheets did not take the row in time and the Sync queue failed too${why}; nothing was stored` };
  }
  const header = headers.get(sheetKey(deps.table));
  return { stored: 'queue', unmapped: header ? unmappedFields(response.columns, header) : [] };
}

/** Stores one response; concurrent calls for one execution_sid share one attempt. */
export async function publishResponse(response: Response, config: PublishConfig, deps: PublishDeps): Promise<Published | Problem> {
  const sid = response.executionSid;
  if (seen.get(sid) === 'sheet' || seen.get(sid) === 'duplicate') {
    const header = headers.get(sheetKey(deps.table)) ?? [];
    return { stored: 'duplicate', unmapped: unmappedFields(response.columns, header) };
  }
  const running = inFlight.get(sid);
  if (running) {
    const result = await running;
    return 'stored' in result && result.stored === 'sheet' ? { ...result, stored: 'duplicate' } : result;
  }
  const attempt = publishOnce(response, config, deps);
  inFlight.set(sid, attempt);
  try {
    const result = await attempt;
    if ('stored' in result) remember(sid, result.stored);
    return result;
  } finally {
    inFlight.delete(sid);
  }
}
