// The durable pending queue: encrypted rows the publish Function could not
// write to Google Sheets in time wait in a Twilio Sync Map, keyed by the Studio
// execution, until `flush` drains them. Errors name the operation, the status
// and the fix, never a row's columns.

import { z } from 'zod';
import { PATH_SEGMENT, QueueError, syncService, twilioFailure, type SyncServiceOptions } from './sync-client.js';

export { QueueError, type QueueErrorCode } from './sync-client.js';

export const PENDING_MAP = 'sealed-survey-pending';

/** Twilio's limit on a Sync Map item's data, as serialized JSON. */
export const MAX_ITEM_BYTES = 16 * 1024;
const MAX_PAGE_SIZE = 100;

export interface PendingRow {
  readonly executionSid: string;
  readonly columns: Readonly<Record<string, string>>;
  /** ISO 8601 timestamp. */
  readonly queuedAt: string;
}

export interface SyncQueueOptions extends SyncServiceOptions {
  /** Unique name of the Map; PENDING_MAP when unset. */
  readonly mapName?: string;
}

export interface PendingQueue {
  /** Stores the row under its executionSid, creating the Map on first use. */
  put(row: PendingRow): Promise<'queued' | 'already-queued'>;
  /** Every queued row, page by page (pageSize 1–100, default 100). */
  list(pageSize?: number): AsyncIterable<PendingRow>;
  /** Deletes the row; a row that is not there is fine. */
  remove(executionSid: string): Promise<void>;
}

const StoredSchema = z.object({
  v: z.literal(1),
  columns: z.record(z.string(), z.string()),
  queuedAt: z.iso.datetime({ offset: true }),
});

export function syncQueue(options: SyncQueueOptions): PendingQueue {
  const mapName = options.mapName ?? PENDING_MAP;
  const sync = syncService(options);
  if (!PATH_SEGMENT.test(mapName)) throw new Error('mapName may hold only letters, digits, ".", "_" and "-"');

  const items = async () => (await sync.context()).syncMaps(mapName).syncMapItems;
  const queueError = sync.error;
  const ensureMap = (doing: string) => sync.ensure('map', mapName, doing);

  function parseItem(key: string, data: unknown): PendingRow {
    const parsed = StoredSchema.safeParse(data);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? 'data')))].join(', ');
      throw new QueueError(`the pending item "${key}" in Sync Map ${mapName} is not a queued row (check ${fields}): remove it or flush with the version that wrote it`, 'REJECTED');
    }
    return { executionSid: key, columns: parsed.data.columns, queuedAt: parsed.data.queuedAt };
  }

  return {
    async put(row) {
      const doing = 'queueing a row';
      if (!PATH_SEGMENT.test(row.executionSid)) {
        throw new QueueError(`${doing}: executionSid must be 1–320 letters, digits, ".", "_" or "-" (it is the Sync item key)`, 'REJECTED');
      }
      const data = { v: 1, columns: row.columns, queuedAt: row.queuedAt };
      if (!StoredSchema.safeParse(data).success) {
        throw new QueueError(`${doing}: the row for ${row.executionSid} is malformed: columns must map names to strings and queuedAt must be an ISO 8601 timestamp`, 'REJECTED');
      }
      const bytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
      if (bytes > MAX_ITEM_BYTES) {
        throw new QueueError(
          `${doing}: the row for ${row.executionSid} is ${bytes} bytes as JSON, over Sync's ${MAX_ITEM_BYTES}-byte item limit: shorten the survey's answers or split the row`,
          'TOO_LARGE',
        );
      }
      const create = async (): Promise<'queued' | 'already-queued'> => {
        await (await items()).create({ key: row.executionSid, data });
        return 'queued';
      };
      try {
        return await create();
      } catch (error) {
        const failure = twilioFailure(error);
        if (failure?.status === 409) return 'already-queued';
        if (failure?.status !== 404) throw queueError(doing, error);
      }
      // 404: the Map (or the service) does not exist yet.
      await ensureMap(doing);
      try {
        return await create();
      } catch (error) {
        if (twilioFailure(error)?.status === 409) return 'already-queued';
        throw queueError(doing, error);
      }
    },

    async *list(pageSize = MAX_PAGE_SIZE) {
      const doing = 'listing pending rows';
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE} (Sync's maximum)`);
      }
      const list = await items().catch((error: unknown) => {
        throw queueError(doing, error);
      });
      let page;
      try {
        page = await list.page({ pageSize });
      } catch (error) {
        if (twilioFailure(error)?.status !== 404) throw queueError(doing, error);
        // No Map yet (nothing ever queued), or no service: ensureMap tells which.
        await ensureMap(doing);
        page = await list.page({ pageSize }).catch((again: unknown) => {
          throw queueError(doing, again);
        });
      }
      for (;;) {
        for (const item of page.instances) yield parseItem(item.key, item.data);
        if (!page.nextPageUrl) return;
        page = await list.getPage(sync.onApiRoot(page.nextPageUrl)).catch((error: unknown) => {
          throw queueError(doing, error);
        });
      }
    },

    async remove(executionSid) {
      const doing = 'removing a pending row';
      if (!PATH_SEGMENT.test(executionSid)) throw new QueueError(`${doing}: executionSid must be 1–320 letters, digits, ".", "_" or "-"`, 'REJECTED');
      try {
        await (await items())(executionSid).remove();
      } catch (error) {
        if (twilioFailure(error)?.status === 404) return;
        throw queueError(doing, error);
      }
    },
  };
}
