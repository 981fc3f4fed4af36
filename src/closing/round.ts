// What closing a round reads: the flow's Studio executions (status, contact,
// start and end, never their context), the execution_sid column of the sheet
// (the only proof that a row is there) and the Sync queue of rows not yet in
// the sheet. Only reads.

import type TwilioSdk from 'twilio';
import { findFlow } from '../launch/checks.js';
import { pages } from '../monitor/twilio-reads.js';
import { columnFinder } from '../publish/header.js';
import { EXECUTION_SID, RECEIVED_AT } from '../publish/row.js';
import type { PendingQueue } from '../queue/sync-queue.js';
import { twilioFailure } from '../queue/sync-client.js';
import { classify } from '../sheets/retry.js';
import { sheetsClient } from '../sheets/client.js';
import { SheetTable } from '../sheets/table.js';
import type { PublishConfig } from '../publish/config.js';
import { UserError } from '../cli/common.js';

export interface RoundExecution {
  readonly sid: string;
  /** The contact's address as Studio has it (whatsapp:+2547…): used in memory only, never printed. */
  readonly contact: string;
  readonly status: string;
  readonly created: number;
  /** When it ended (date_updated), for an ended execution. */
  readonly ended: number | undefined;
}

export interface RoundFlow {
  readonly sid: string;
  readonly name: string;
}

const PAGE_SIZE = 1000;
const SHEET_TIMEOUT_MS = 60_000;

/** A read from Twilio whose refusal is said plainly: the status and Twilio's error code, never a request's content. */
export async function twilioRead<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const failure = twilioFailure(error);
    if (failure?.status === 401 || failure?.status === 403) {
      throw new UserError(`Twilio refused the credentials (HTTP ${failure.status}) to ${what}: check TWILIO_ACCOUNT_SID and TWILIO_API_KEY/TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN)`);
    }
    if (failure) throw new UserError(`Twilio answered HTTP ${failure.status}${failure.code !== undefined ? ` (Twilio error ${failure.code}: https://www.twilio.com/docs/errors/${failure.code})` : ''} when asked to ${what}: nothing was changed; try again`);
    const network = (error as { code?: unknown } | null)?.code;
    if (typeof network === 'string') throw new UserError(`Twilio could not be reached to ${what} (${network}): check the network and try again`);
    throw error;
  }
}

export async function resolveFlow(twilio: TwilioSdk.Twilio, ref: string): Promise<RoundFlow> {
  const found = await twilioRead('find the flow', () => findFlow(twilio, ref));
  if (!found) throw new UserError(`no flow ${ref} in this account: give its name as deployed (the file name without .json) or its FW… SID`);
  return { sid: found.sid, name: found.friendlyName };
}

const time = (d: Date | null | undefined) => (d instanceof Date && Number.isFinite(d.getTime()) ? d.getTime() : undefined);

/** The flow's executions created since `since` (all Twilio still keeps when unset). */
export function listExecutions(twilio: TwilioSdk.Twilio, flowSid: string, since: Date | undefined, signal?: AbortSignal): Promise<RoundExecution[]> {
  return twilioRead("list the flow's executions", async () => {
    const found: RoundExecution[] = [];
    const first = twilio.studio.v2.flows(flowSid).executions.page({ pageSize: PAGE_SIZE, ...(since !== undefined ? { dateCreatedFrom: since } : {}) });
    for await (const instances of pages(first, signal)) {
      for (const e of instances) {
        found.push({ sid: e.sid, contact: e.contactChannelAddress, status: e.status, created: time(e.dateCreated) ?? 0, ended: e.status === 'ended' ? (time(e.dateUpdated) ?? time(e.dateCreated)) : undefined });
      }
    }
    return found;
  });
}

export interface SheetRows {
  /** Sheet row numbers (header = 1) of each execution_sid. */
  readonly rows: ReadonlyMap<string, readonly number[]>;
  /** received_at of each execution's first row, when the sheet has that column and the cell is a date. */
  readonly receivedAt: ReadonlyMap<string, number>;
}

async function sheetRead<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const outcome = classify(error);
    if (outcome.retry) throw new UserError(`Google Sheets could not ${what} (${outcome.reason}): try again later`);
    throw new UserError(`Google Sheets refused to ${what} (${outcome.reason}): check SHEET_ID, SHEET_TAB and that the sheet is shared with the service account`);
  }
}

/** The sheet's execution_sid column (and received_at, when there), read from the sheet itself. */
export async function readSheetRows(table: SheetTable): Promise<SheetRows> {
  const header = await sheetRead('read the header row', () => table.header(SHEET_TIMEOUT_MS));
  const find = columnFinder(header);
  const sidColumn = find(EXECUTION_SID);
  if (sidColumn === undefined) throw new UserError('the sheet has no execution_sid column in row 1: it is how a row is matched to its execution; is SHEET_ID (and SHEET_TAB) the survey\'s sheet?');
  const sids = await sheetRead('read the execution_sid column', () => table.column(sidColumn, SHEET_TIMEOUT_MS));
  const receivedColumn = find(RECEIVED_AT);
  const received = receivedColumn === undefined ? [] : await sheetRead('read the received_at column', () => table.column(receivedColumn, SHEET_TIMEOUT_MS));
  const rows = new Map<string, number[]>();
  const receivedAt = new Map<string, number>();
  sids.forEach((cell, i) => {
    const sid = cell.trim();
    if (sid === '') return;
    rows.set(sid, [...(rows.get(sid) ?? []), i + 2]);
    const at = Date.parse(received[i] ?? '');
    if (Number.isFinite(at) && !receivedAt.has(sid)) receivedAt.set(sid, at);
  });
  return { rows, receivedAt };
}

/** The execution SIDs of the rows waiting in the Sync queue (their columns are not kept). */
export async function queuedSids(queue: PendingQueue): Promise<Set<string>> {
  const sids = new Set<string>();
  for await (const item of queue.list()) sids.add(item.executionSid);
  return sids;
}

/** Twilio keeps Studio execution data for about 30 days after an execution starts. */
export const RETENTION_DAYS = 30;
export const RETENTION_WARNING_DAYS = 25;
const DAY_MS = 86_400_000;

/** A warning when some executions are close to Twilio's retention, else undefined. */
export function retentionWarning(executions: readonly RoundExecution[], now = Date.now()): string | undefined {
  const old = executions.filter((e) => now - e.created > RETENTION_WARNING_DAYS * DAY_MS);
  if (old.length === 0) return undefined;
  const oldest = Math.min(...old.map((e) => e.created));
  const left = Math.max(0, Math.floor((oldest + RETENTION_DAYS * DAY_MS - now) / DAY_MS));
  return (
    `${old.length === 1 ? '1 execution started' : `${old.length} executions started`} more than ${RETENTION_WARNING_DAYS} days ago (the oldest on ${new Date(oldest).toISOString().slice(0, 10)}): ` +
    `Twilio drops Studio execution data about ${RETENTION_DAYS} days after an execution starts (about ${left} ${left === 1 ? 'day' : 'days'} left for the oldest); run reconcile and purge before then`
  );
}

/** The sheet a round's publish writes to, through the real Sheets client. */
export function roundSheet(config: Pick<PublishConfig, 'account' | 'sheetsApiUrl' | 'target'>): SheetTable {
  return new SheetTable(sheetsClient({ account: config.account, rootUrl: config.sheetsApiUrl }), config.target);
}
