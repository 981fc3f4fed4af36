// Row claims: each response, keyed by its Studio execution SID, claims one row
// of the sheet through Twilio Sync, so every write of that response goes to
// the same row whichever instance makes it, however late and however often.
//
// A Sync List hands out positions (a List Item's index is unique, never
// reused, and may have gaps); a Sync Map holds the claims (creating a Map Item
// whose key exists fails with 409, so the first claim of an execution wins);
// the Map's `_base` item fixes the first row once, for every instance. A
// claim's row is base + index. `_base` also records the List's SID: a List
// deleted and created again would restart its indexes at 0 and hand out rows
// already claimed, so claiming stops with an error instead.
//
// Deleting the Map (with or without the List) forgets every claim: a response
// repeated after that gets a new row. Errors name the operation and the fix,
// never a value.

import { z } from 'zod';
import { PATH_SEGMENT, QueueError, syncService, twilioFailure, type SyncServiceOptions } from './sync-client.js';

/** The Map item holding the first row of the claims. */
export const BASE_KEY = '_base';
const MAX_PAGE_SIZE = 100;

export interface Claim {
  /** The sheet row (1-based) of this execution's response. */
  readonly row: number;
  /** ISO 8601 timestamp of the claim's first receipt. */
  readonly receivedAt: string;
}

export interface RowClaims {
  /** The claim of this execution, or undefined. */
  get(executionSid: string): Promise<Claim | undefined>;
  /**
   * The row of this execution: its existing claim (fresh: false; its row may
   * or may not hold the response yet), else a new unique row (fresh: true).
   * `firstRow` (the caller reads the sheet's first unused row) is called only
   * while no instance has fixed the first row, once per instance unless it
   * fails; its own errors pass through unchanged. A claim whose answer was lost
   * comes back from the retry as fresh: false, so fresh: false alone does not
   * mean another call stored the response.
   */
  claim(executionSid: string, receivedAt: string, firstRow: () => Promise<number>): Promise<Claim & { readonly fresh: boolean }>;
  /** Every claim, in key order, 100 per request. */
  list(): AsyncIterable<{ readonly executionSid: string } & Claim>;
}

export interface RowClaimsOptions extends SyncServiceOptions {
  /** Unique name of the claims Map. */
  readonly mapName: string;
  /** Unique name of the positions List; not the Map's name (Sync unique names are shared by all objects of a service). */
  readonly listName: string;
}

const Row = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const Timestamp = z.iso.datetime({ offset: true });
const ClaimSchema = z.object({ v: z.literal(1), row: Row, receivedAt: Timestamp });
const BaseSchema = z.object({ v: z.literal(1), row: Row, list: z.string().regex(/^ES[0-9a-fA-F]{32}$/) });
type Base = Omit<z.infer<typeof BaseSchema>, 'v'>;

/** The top-level fields a failed parse points at, never their values. */
const fieldsOf = (error: z.ZodError) => [...new Set(error.issues.map((i) => String(i.path[0] ?? 'data')))].join(', ');

export function rowClaims(options: RowClaimsOptions): RowClaims {
  const { mapName, listName } = options;
  const sync = syncService(options);
  if (!PATH_SEGMENT.test(mapName) || !PATH_SEGMENT.test(listName)) throw new Error('mapName and listName may hold only letters, digits, ".", "_" and "-"');
  if (mapName === listName) throw new Error('mapName and listName must differ: Sync unique names are shared by the Maps and Lists of a service');

  /** The first row, once known to this instance. */
  let basing: Promise<Base> | undefined;
  const mapItems = async () => (await sync.context()).syncMaps(mapName).syncMapItems;

  function checkKey(doing: string, executionSid: string): void {
    if (!PATH_SEGMENT.test(executionSid) || executionSid.startsWith('_')) {
      throw new QueueError(`${doing}: executionSid must be 1–320 letters, digits, ".", "_" or "-", not starting with "_" (it is the Sync item key)`, 'REJECTED');
    }
  }

  /** The data of a Map item, or undefined when there is none (or no Map yet). */
  async function fetchItem(doing: string, key: string): Promise<unknown> {
    try {
      return (await (await mapItems())(key).fetch()).data;
    } catch (error) {
      if (twilioFailure(error)?.status === 404) return undefined;
      throw sync.error(doing, error);
    }
  }

  /** Creates a Map item: true, or false when the key exists. */
  async function createItem(doing: string, key: string, data: object, onMissingMap: 'create' | 'fail'): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await (await mapItems()).create({ key, data });
        return true;
      } catch (error) {
        const failure = twilioFailure(error);
        if (failure?.status === 409) return false;
        if (failure?.status !== 404 || attempt > 0) throw sync.error(doing, error);
        if (onMissingMap === 'fail') {
          basing = undefined;
          throw new QueueError(`${doing}: the Sync Map "${mapName}" was deleted while claiming: try again (claims then start after the sheet's used rows)`, 'REJECTED');
        }
      }
      await sync.ensure('map', mapName, doing);
    }
  }

  function parseClaim(executionSid: string, data: unknown): Claim {
    const parsed = ClaimSchema.safeParse(data);
    if (!parsed.success) {
      throw new QueueError(
        `the claim "${executionSid}" in Sync Map ${mapName} is not a row claim (check ${fieldsOf(parsed.error)}): correct or remove it (once removed, the response claims a new row)`,
        'REJECTED',
      );
    }
    return { row: parsed.data.row, receivedAt: parsed.data.receivedAt };
  }

  async function fetchBase(doing: string): Promise<Base | undefined> {
    const data = await fetchItem(doing, BASE_KEY);
    if (data === undefined) return undefined;
    const parsed = BaseSchema.safeParse(data);
    if (!parsed.success) {
      throw new QueueError(
        `${doing}: the item "${BASE_KEY}" in Sync Map ${mapName} is not the claims' first row (check ${fieldsOf(parsed.error)}): delete the Map "${mapName}" and the List "${listName}" to start the claims again after the sheet's used rows`,
        'REJECTED',
      );
    }
    return { row: parsed.data.row, list: parsed.data.list };
  }

  /** The SID of the positions List, creating it when missing. */
  async function listSid(doing: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await (await sync.context()).syncLists(listName).fetch()).sid;
      } catch (error) {
        if (twilioFailure(error)?.status !== 404 || attempt > 0) throw sync.error(doing, error);
      }
      await sync.ensure('list', listName, doing);
    }
  }

  async function decideBase(firstRow: () => Promise<number>): Promise<Base> {
    const doing = "fixing the claims' first row";
    const found = await fetchBase(doing);
    if (found) return found;
    const list = await listSid(doing);
    const row = await firstRow();
    if (!Row.safeParse(row).success) throw new RangeError('firstRow must resolve to a whole row number ≥ 1');
    if (await createItem(doing, BASE_KEY, { v: 1, row, list }, 'create')) return { row, list };
    // Another instance fixed it first: theirs holds for everyone.
    const won = await fetchBase(doing);
    if (!won) throw new QueueError(`${doing}: the item "${BASE_KEY}" in Sync Map ${mapName} exists yet cannot be read: try again`, 'UNREACHABLE');
    return won;
  }

  const base = (firstRow: () => Promise<number>): Promise<Base> =>
    (basing ??= decideBase(firstRow).catch((error: unknown) => {
      basing = undefined;
      throw error;
    }));

  /** A fresh position in the List (its data names the execution, so a position can be traced). */
  async function position(doing: string, executionSid: string, list: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const item = await (await sync.context()).syncLists(listName).syncListItems.create({ data: { sid: executionSid } });
        if (item.listSid !== list) {
          throw new QueueError(
            `${doing}: the Sync List "${listName}" is not the one the claims in Sync Map "${mapName}" were counted in (it was deleted and created again), so its positions would repeat claimed rows: delete the Map "${mapName}" too (claims then start after the sheet's used rows)`,
            'REJECTED',
          );
        }
        if (!Number.isSafeInteger(item.index) || item.index < 0) throw new QueueError(`${doing}: Sync answered a List Item without a valid index: try again`, 'REJECTED');
        return item.index;
      } catch (error) {
        if (twilioFailure(error)?.status !== 404 || attempt > 0) throw sync.error(doing, error);
      }
      await sync.ensure('list', listName, doing);
    }
  }

  async function get(doing: string, executionSid: string): Promise<Claim | undefined> {
    const data = await fetchItem(doing, executionSid);
    return data === undefined ? undefined : parseClaim(executionSid, data);
  }

  return {
    async get(executionSid) {
      const doing = 'reading a row claim';
      checkKey(doing, executionSid);
      return get(doing, executionSid);
    },

    async claim(executionSid, receivedAt, firstRow) {
      const doing = 'claiming a row';
      checkKey(doing, executionSid);
      if (!Timestamp.safeParse(receivedAt).success) throw new QueueError(`${doing}: receivedAt must be an ISO 8601 timestamp`, 'REJECTED');
      const existing = await get(doing, executionSid);
      if (existing) return { ...existing, fresh: false };
      const { row, list } = await base(firstRow);
      const claim: Claim = { row: row + (await position(doing, executionSid, list)), receivedAt };
      if (await createItem(doing, executionSid, { v: 1, ...claim }, 'fail')) return { ...claim, fresh: true };
      // A concurrent claim of this execution won; our position stays a gap.
      const won = await get(doing, executionSid);
      if (!won) throw new QueueError(`${doing}: the claim of ${executionSid} exists yet cannot be read: try again`, 'UNREACHABLE');
      return { ...won, fresh: false };
    },

    async *list() {
      const doing = 'listing row claims';
      const items = await mapItems().catch((error: unknown) => {
        throw sync.error(doing, error);
      });
      let page;
      try {
        page = await items.page({ pageSize: MAX_PAGE_SIZE });
      } catch (error) {
        if (twilioFailure(error)?.status !== 404) throw sync.error(doing, error);
        // No Map yet (nothing ever claimed), or no service: ensure tells which.
        await sync.ensure('map', mapName, doing);
        page = await items.page({ pageSize: MAX_PAGE_SIZE }).catch((again: unknown) => {
          throw sync.error(doing, again);
        });
      }
      for (;;) {
        for (const item of page.instances) if (item.key !== BASE_KEY) yield { executionSid: item.key, ...parseClaim(item.key, item.data) };
        if (!page.nextPageUrl) return;
        page = await items.getPage(sync.onApiRoot(page.nextPageUrl)).catch((error: unknown) => {
          throw sync.error(doing, error);
        });
      }
    },
  };
}
