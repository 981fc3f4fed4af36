// Draining the pending queue into the sheet: many rows per append request
// (the sheet's write quota counts requests, not rows), idempotent by
// execution_sid, and an item leaves the queue only once its row is confirmed.

import { QueueError, type PendingQueue, type PendingRow } from '../queue/sync-queue.js';
import { backoffMs, classify, sleep, type BackoffPolicy } from '../sheets/retry.js';
import type { SheetTable } from '../sheets/table.js';
import type { PiiGuard } from './config.js';
import { EXECUTION_SID, RECEIVED_AT, checkPii, headerIndex, toRow, unmappedFields } from './row.js';

export interface FlushSettings {
  readonly pii: PiiGuard;
  readonly missingValue: string;
  readonly autoHeaders: boolean;
}

export interface FlushOptions {
  /** Rows per append request. */
  readonly batchSize: number;
  readonly dryRun?: boolean;
  /** Attempts per request before giving up (the queue keeps what was not written). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
  readonly progress?: (message: string) => void;
  /** Queue removals per second: Twilio Sync allows 20 writes/s per Map (10 s bursts). */
  readonly removalsPerSecond?: number;
}

export interface FlushReport {
  readonly pending: number;
  readonly written: number;
  readonly alreadyInSheet: number;
  readonly appendRequests: number;
  /** Items left in the queue because their PII columns are not valid tokens. */
  readonly refused: readonly string[];
  readonly unmapped: readonly string[];
  readonly remaining: number;
}

export class FlushError extends Error {
  override readonly name = 'FlushError';
}

/** Google's advice for Sheets 429s: exponential backoff up to about a minute. */
const FLUSH_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 32_000 };
/** Google recommends append payloads of at most 2 MB. */
const MAX_BATCH_BYTES = 2_000_000;
const REMOVE_CONCURRENCY = 8;
export const DEFAULT_REMOVALS_PER_SECOND = 15;
const REMOVE_ATTEMPTS = 6;

/** Runs `work` on every item, at most `limit` at once and starting at most `perSecond` a second. */
async function paced<T>(items: readonly T[], limit: number, perSecond: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let slot = Date.now();
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      const wait = slot - Date.now();
      slot = Math.max(slot, Date.now()) + 1000 / perSecond;
      if (wait > 0) await sleep(wait);
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function flushQueue(table: SheetTable, queue: PendingQueue, settings: FlushSettings, options: FlushOptions): Promise<FlushReport> {
  const policy = options.backoff ?? FLUSH_BACKOFF;
  const maxAttempts = options.maxAttempts ?? 10;
  const timeout = options.requestTimeoutMs ?? 60_000;
  const random = options.random ?? Math.random;
  const say = options.progress ?? (() => {});

  /**
   * One request with retries. A write that may have landed is not repeated
   * here: AmbiguousWrite sends the caller to look first. `failures` counts
   * across those round trips, so a sheet that keeps failing ends the flush.
   */
  async function withRetries<T>(what: string, write: boolean, run: () => Promise<T>, failures = { count: 0 }): Promise<T> {
    for (;;) {
      const attempt = failures.count;
      try {
        return await run();
      } catch (error) {
        failures.count++;
        const outcome = classify(error, write);
        if (!outcome.retry) throw new FlushError(`Google Sheets refused to ${what} (HTTP ${outcome.status}): check SHEET_ID, SHEET_TAB and that the sheet is shared with the service account as Editor`);
        if (attempt + 1 >= maxAttempts) throw new FlushError(`Google Sheets kept failing to ${what} (${outcome.reason}, ${maxAttempts} attempts); the rows not yet written stay queued: run flush again later`);
        const delay = backoffMs(policy, attempt, outcome.retryAfterMs, random);
        say(`  ${what}: ${outcome.reason}, retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
        if (outcome.ambiguous) throw new AmbiguousWrite();
      }
    }
  }

  const items: PendingRow[] = [];
  for await (const item of queue.list()) items.push(item);
  const empty = { pending: items.length, written: 0, alreadyInSheet: 0, appendRequests: 0, refused: [], unmapped: [], remaining: items.length };
  if (items.length === 0) return empty;

  const refused: string[] = [];
  const valid = items.filter((item) => {
    if (!checkPii(item.columns, settings.pii)) return true;
    refused.push(item.executionSid);
    return false;
  });

  let header = await withRetries('read the header row', false, () => table.header(timeout));
  const allFields = Object.assign({}, ...valid.map((i) => i.columns)) as Record<string, string>;
  if (settings.autoHeaders && unmappedFields(allFields, header).length > 0) {
    const base = header.length > 0 ? header : [RECEIVED_AT, EXECUTION_SID];
    const extended = [...base, ...unmappedFields(allFields, base)];
    if (!options.dryRun) await withRetries('extend the header row', false, () => table.writeHeader(extended, timeout));
    header = extended;
  }
  const sidColumn = headerIndex(header).get(EXECUTION_SID);
  if (sidColumn === undefined) throw new FlushError('the sheet has no execution_sid column: add one to row 1 (or set SHEET_AUTO_HEADERS=1), then run flush again');
  const unmapped = unmappedFields(allFields, header);

  const inSheet = async () => new Set(await withRetries('read the execution_sid column', false, () => table.column(sidColumn, timeout)));
  let present = await inSheet();
  let alreadyInSheet = 0;
  let written = 0;
  let appendRequests = 0;
  /** Removes confirmed rows from the queue; a Sync hiccup is retried, and a row left behind is found in the sheet next time. */
  const removeOne = async (row: PendingRow) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await queue.remove(row.executionSid);
      } catch (error) {
        if (!(error instanceof QueueError) || error.code !== 'UNREACHABLE' || attempt + 1 >= REMOVE_ATTEMPTS) throw error;
        await sleep(backoffMs(policy, attempt, undefined, random));
      }
    }
  };
  const removeAll = async (rows: readonly PendingRow[]) => {
    if (!options.dryRun) await paced(rows, REMOVE_CONCURRENCY, options.removalsPerSecond ?? DEFAULT_REMOVALS_PER_SECOND, removeOne);
  };

  const done = valid.filter((i) => present.has(i.executionSid));
  await removeAll(done);
  alreadyInSheet += done.length;
  let todo = valid.filter((i) => !present.has(i.executionSid));
  say(`${items.length} queued row(s): ${done.length} already in the sheet, ${todo.length} to write${refused.length ? `, ${refused.length} refused (PII columns not encrypted for this key)` : ''}`);
  if (options.dryRun) return { ...empty, alreadyInSheet: done.length, refused, unmapped, remaining: items.length };

  let failures = { count: 0 };
  while (todo.length > 0) {
    const batch: PendingRow[] = [];
    let bytes = 0;
    for (const item of todo) {
      const size = JSON.stringify(item.columns).length;
      if (batch.length > 0 && (batch.length >= options.batchSize || bytes + size > MAX_BATCH_BYTES)) break;
      batch.push(item);
      bytes += size;
    }
    try {
      await withRetries(`append ${batch.length} row(s)`, true, () => (appendRequests++, table.append(batch.map((i) => toRow(i.columns, header, settings.missingValue)), timeout)), failures);
    } catch (error) {
      if (!(error instanceof AmbiguousWrite)) throw error;
      // The append may have landed: look before writing any of these rows again.
      present = await inSheet();
      const landed = batch.filter((i) => present.has(i.executionSid));
      await removeAll(landed);
      written += landed.length;
      todo = todo.filter((i) => !present.has(i.executionSid));
      continue;
    }
    failures = { count: 0 };
    await removeAll(batch);
    written += batch.length;
    todo = todo.slice(batch.length);
    say(`  wrote ${written} of ${written + todo.length}`);
  }
  return { pending: items.length, written, alreadyInSheet, appendRequests, refused, unmapped, remaining: refused.length };
}

class AmbiguousWrite extends Error {
  override readonly name = 'AmbiguousWrite';
}
