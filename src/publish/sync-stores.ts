// The Twilio Sync objects one sheet's publishing uses, named once for the
// Function and flush alike: the row claims (a Map and a List named after the
// sheet, so two surveys in one Sync service never share positions) and the
// pending queue.

import { createHash } from 'node:crypto';
import { rowClaims, type RowClaims } from '../queue/row-claims.js';
import { syncQueue, type PendingQueue, type SyncQueueOptions } from '../queue/sync-queue.js';
import type { SheetTarget } from '../sheets/table.js';

export interface SyncStores {
  readonly claims: RowClaims;
  readonly queue: PendingQueue;
}

/** The suffix of the claims' Sync names: the sheet (spreadsheet and SHEET_TAB), hashed. */
export function sheetTag(target: SheetTarget): string {
  return createHash('sha256').update(`${target.spreadsheetId}\u0000${target.tab ?? ''}`).digest('hex').slice(0, 16);
}

/** Per-request timeouts: twilio-node's default (30 s) when unset, as suits flush. */
export interface SyncTimeouts {
  readonly claimMs?: number;
  readonly queueMs?: number;
}

export function syncStores(sync: SyncQueueOptions, target: SheetTarget, timeouts: SyncTimeouts = {}): SyncStores {
  const tag = sheetTag(target);
  const timeout = (ms: number | undefined) => (ms === undefined ? {} : { timeoutMs: ms });
  return {
    claims: rowClaims({ ...sync, ...timeout(timeouts.claimMs), mapName: `sealed-survey-claims-${tag}`, listName: `sealed-survey-rows-${tag}` }),
    queue: syncQueue({ ...sync, ...timeout(timeouts.queueMs) }),
  };
}
