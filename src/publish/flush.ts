// Draining the pending queue into the sheet. Each queued response goes to
// the row its execution claimed (claiming one now if publish never got that
// far), many rows per request (the sheet's write quota counts requests, not
// rows); writing a row again is harmless, so a request whose answer was lost
// is simply repeated, and an item leaves the queue only once its row is
// written. Finally the execution_sid column is checked for duplicates that
// something else (a hand edit, an older version) left.

import { plural } from '../plural.js';
import { QueueError, type PendingRow } from '../queue/sync-queue.js';
import { backoffMs, classify, sleep, type BackoffPolicy } from '../sheets/retry.js';
import type { PlacedRow, SheetTable, TabGrid } from '../sheets/table.js';
import { columnFinder, guardResponse, planRow, type RowSettings } from './header.js';
import { EXECUTION_SID, RECEIVED_AT, type Problem } from './row.js';
import type { SyncStores } from './sync-stores.js';

export interface FlushOptions {
  /** Rows per write request. */
  readonly batchSize: number;
  readonly dryRun?: boolean;
  /** Attempts per request before giving up (the queue keeps what was not written). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
  readonly progress?: (message: string) => void;
  /** Sync writes per second (claims, removals): Twilio Sync allows 20 writes/s per object (10 s bursts). */
  readonly removalsPerSecond?: number;
}

export interface Refusal {
  readonly executionSid: string;
  readonly reason: string;
}

export interface Duplicate {
  readonly executionSid: string;
  /** Sheet rows (header = row 1). */
  readonly rows: readonly number[];
}

export interface FlushReport {
  readonly pending: number;
  readonly written: number;
  readonly writeRequests: number;
  /** Items left in the queue: PII columns not tokens for this key, or a field with no column. */
  readonly refused: readonly Refusal[];
  readonly remaining: number;
  /** execution_sid values found in more than one row of the sheet. */
  readonly duplicates: readonly Duplicate[];
}

export class FlushError extends Error {
  override readonly name = 'FlushError';
}

/** Google's advice for Sheets 429s: exponential backoff up to about a minute. */
const FLUSH_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 32_000 };
/** Google recommends request payloads of at most 2 MB. */
const MAX_BATCH_BYTES = 2_000_000;
const SYNC_CONCURRENCY = 8;
export const DEFAULT_REMOVALS_PER_SECOND = 15;
const SYNC_ATTEMPTS = 6;
const GROW_ROWS = 1000;

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

/** execution_sid values in more than one row; `sids` are the column's cells from row 2 on. */
export function duplicateRows(sids: readonly string[]): Duplicate[] {
  const rows = new Map<string, number[]>();
  sids.forEach((sid, i) => {
    if (sid.trim() === '') return;
    rows.set(sid, [...(rows.get(sid) ?? []), i + 2]);
  });
  return [...rows].filter(([, at]) => at.length > 1).map(([executionSid, at]) => ({ executionSid, rows: at }));
}

export async function flushQueue(table: SheetTable, stores: SyncStores, settings: RowSettings, options: FlushOptions): Promise<FlushReport> {
  const policy = options.backoff ?? FLUSH_BACKOFF;
  const maxAttempts = options.maxAttempts ?? 10;
  const timeout = options.requestTimeoutMs ?? 60_000;
  const random = options.random ?? Math.random;
  const say = options.progress ?? (() => {});
  const syncRate = options.removalsPerSecond ?? DEFAULT_REMOVALS_PER_SECOND;

  /** One Sheets request with retries; every request here is safe to repeat. */
  async function sheets<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const outcome = classify(error);
        if (!outcome.retry) throw new FlushError(`Google Sheets refused to ${what} (HTTP ${outcome.status}): check SHEET_ID, SHEET_TAB and that the sheet is shared with the service account as Editor`);
        if (attempt + 1 >= maxAttempts) throw new FlushError(`Google Sheets kept failing to ${what} (${outcome.reason}, ${maxAttempts} attempts); the rows not yet written stay queued: run flush again later`);
        const delay = backoffMs(policy, attempt, outcome.retryAfterMs, random);
        say(`  ${what}: ${outcome.reason}, retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
      }
    }
  }

  /** One Sync call with retries on an unreachable Sync. */
  async function sync<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof QueueError) || error.code !== 'UNREACHABLE' || attempt + 1 >= SYNC_ATTEMPTS) throw error;
        await sleep(backoffMs(policy, attempt, undefined, random));
      }
    }
  }

  const items: PendingRow[] = [];
  for await (const item of stores.queue.list()) items.push(item);

  let header: readonly string[] = await sheets('read the header row', () => table.header(timeout));
  let extendsHeader = false;
  const refused: Refusal[] = [];
  const planned: Array<{ item: PendingRow; values?: readonly string[] }> = [];
  for (const item of items) {
    const response = { executionSid: item.executionSid, columns: item.columns };
    const problem: Problem | undefined = guardResponse(response, settings.pii);
    const plan = problem ?? planRow(response, header, settings);
    if ('code' in plan) {
      if (plan.status === 500) throw new FlushError(`${plan.message} — then run flush again`);
      refused.push({ executionSid: item.executionSid, reason: plan.message });
      continue;
    }
    header = plan.header;
    extendsHeader ||= plan.extendsHeader;
    planned.push({ item });
  }
  say(`${plural(items.length, 'queued row')}: ${planned.length} to write${refused.length ? `, ${refused.length} refused` : ''}`);

  const sidColumn = columnFinder(header)(EXECUTION_SID);
  const checkDuplicates = async () =>
    sidColumn === undefined || header.length === 0 ? [] : duplicateRows(await sheets('read the execution_sid column', () => table.column(sidColumn, timeout)));

  if (options.dryRun || planned.length === 0) {
    return { pending: items.length, written: 0, writeRequests: 0, refused, remaining: items.length, duplicates: await checkDuplicates() };
  }

  // Every response's row: the one its execution claimed, or one claimed now.
  let grid: TabGrid | undefined;
  const firstRow = async () => {
    grid ??= await sheets('read the sheet\'s size', () => table.grid(timeout));
    const g = grid;
    // Row 1 is the header even while it is still empty.
    return Math.max(2, (await sheets('count the sheet\'s rows', () => table.usedRows(g, timeout))) + 1);
  };
  const placed: Array<{ item: PendingRow; row: PlacedRow }> = [];
  await paced(planned, SYNC_CONCURRENCY, syncRate, async ({ item }) => {
    const receivedAt = item.columns[RECEIVED_AT] ?? item.queuedAt;
    const claim = await sync(() => stores.claims.claim(item.executionSid, receivedAt, firstRow));
    const columns = { ...item.columns, [RECEIVED_AT]: claim.receivedAt };
    const plan = planRow({ executionSid: item.executionSid, columns }, header, settings);
    if ('code' in plan) throw new FlushError(plan.message);
    placed.push({ item, row: { row: claim.row, values: plan.values } });
  });
  placed.sort((a, b) => a.row.row - b.row.row);

  grid ??= await sheets('read the sheet\'s size', () => table.grid(timeout));
  const lastRow = placed.at(-1)?.row.row ?? 0;
  if (grid.rows < lastRow) {
    const g = grid;
    await sheets('add rows to the sheet', () => table.extend(g, 'ROWS', Math.max(GROW_ROWS, lastRow - g.rows), timeout));
  }
  if (grid.columns < header.length) {
    const g = grid;
    await sheets('add columns to the sheet', () => table.extend(g, 'COLUMNS', header.length - g.columns, timeout));
  }
  if (extendsHeader) await sheets('extend the header row', () => table.writeHeader(header, timeout));

  let written = 0;
  let writeRequests = 0;
  for (let start = 0; start < placed.length; ) {
    const batch: Array<{ item: PendingRow; row: PlacedRow }> = [];
    let bytes = 0;
    for (const entry of placed.slice(start)) {
      const size = entry.row.values.reduce((n, v) => n + v.length + 3, 0);
      if (batch.length > 0 && (batch.length >= options.batchSize || bytes + size > MAX_BATCH_BYTES)) break;
      batch.push(entry);
      bytes += size;
    }
    await sheets(`write ${plural(batch.length, 'row')}`, () => (writeRequests++, table.writeRows(batch.map((e) => e.row), timeout)));
    await paced(batch, SYNC_CONCURRENCY, syncRate, ({ item }) => sync(() => stores.queue.remove(item.executionSid)));
    written += batch.length;
    start += batch.length;
    say(`  wrote ${written} of ${placed.length}`);
  }
  return { pending: items.length, written, writeRequests, refused, remaining: refused.length, duplicates: await checkDuplicates() };
}
