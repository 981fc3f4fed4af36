// The durable pending queue: encrypted rows the publish Function could not
// write to Google Sheets in time wait in a Twilio Sync Map, keyed by the Studio
// execution, until `flush` drains them. Errors name the operation, the status
// and the fix, never a row's columns.

import type TwilioSdk from 'twilio';
import { z } from 'zod';

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

export type QueueErrorCode = 'TOO_LARGE' | 'AUTH' | 'UNREACHABLE' | 'SERVICE_NOT_FOUND' | 'REJECTED';

export class QueueError extends Error {
  override readonly name = 'QueueError';
  constructor(
    message: string,
    readonly code: QueueErrorCode,
  ) {
    super(message);
  }
}

export interface SyncQueueOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** Sync service SID; 'default' (the account's default service) when unset. */
  readonly serviceSid?: string;
  /** Unique name of the Map; PENDING_MAP when unset. */
  readonly mapName?: string;
  /** Root URL of the Sync API, e.g. a local stand-in or Prism; https://sync.twilio.com when unset. */
  readonly apiUrl?: string;
  /** Per-request timeout; twilio-node's default (30 s) when unset. */
  readonly timeoutMs?: number;
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

// twilio-node puts keys and names into URL paths unencoded; execution SIDs (FN…) are plain.
const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,320}$/;

type Client = TwilioSdk.Twilio;

interface TwilioFailure {
  readonly status: number;
  readonly code: number | undefined;
}

function twilioFailure(error: unknown): TwilioFailure | undefined {
  if (!(error instanceof Error) || (error as { isAxiosError?: unknown }).isAxiosError === true) return undefined;
  const { status, code } = error as { status?: unknown; code?: unknown };
  return typeof status === 'number' ? { status, code: typeof code === 'number' ? code : undefined } : undefined;
}

export function syncQueue(options: SyncQueueOptions): PendingQueue {
  const serviceSid = options.serviceSid ?? 'default';
  const mapName = options.mapName ?? PENDING_MAP;
  if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new Error('accountSid is not an Account SID (AC followed by 32 hex digits): check ACCOUNT_SID');
  if (!options.authToken) throw new Error('authToken is empty: check AUTH_TOKEN');
  if (!PATH_SEGMENT.test(serviceSid)) throw new Error('serviceSid must be a Sync service SID (IS…) or "default": check SYNC_SERVICE_SID');
  if (!PATH_SEGMENT.test(mapName)) throw new Error('mapName may hold only letters, digits, ".", "_" and "-"');
  const apiRoot = options.apiUrl?.replace(/\/+$/, '');
  const where = apiRoot ? `Twilio Sync at ${new URL(apiRoot).origin}` : 'Twilio Sync';

  let loading: Promise<Client> | undefined;
  const client = (): Promise<Client> =>
    (loading ??= (async () => {
      // Loaded on first use: a Function that never queues does not pay for twilio-node.
      const { default: twilio } = await import('twilio');
      const c = twilio(options.accountSid, options.authToken, {
        autoRetry: false,
        ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
        // TWILIO_REGION/TWILIO_EDGE would rewrite the host of an explicit API URL.
        ...(apiRoot ? { region: '', edge: '' } : {}),
      });
      if (apiRoot) c.sync.baseUrl = apiRoot;
      return c;
    })().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));

  const items = async () => (await client()).sync.v1.services(serviceSid).syncMaps(mapName).syncMapItems;

  function queueError(doing: string, error: unknown): QueueError {
    if (error instanceof QueueError) return error;
    const failure = twilioFailure(error);
    if (failure) {
      const { status, code } = failure;
      const twilioCode = code === undefined ? '' : `, Twilio error ${code}`;
      if (status === 401 || code === 20003) {
        return new QueueError(`${doing}: ${where} refused the credentials (HTTP ${status}${twilioCode}): check ACCOUNT_SID/AUTH_TOKEN`, 'AUTH');
      }
      if (status === 429 || status >= 500) {
        return new QueueError(`${doing}: ${where} is unavailable (HTTP ${status}${twilioCode}); try again later`, 'UNREACHABLE');
      }
      // Twilio's own message is left out: it may quote what was sent.
      const info = code === undefined ? '' : ` (see https://www.twilio.com/docs/errors/${code})`;
      return new QueueError(`${doing}: ${where} rejected the request (HTTP ${status}${twilioCode})${info}`, 'REJECTED');
    }
    const network = (error as { code?: unknown } | null)?.code;
    if (error instanceof Error && typeof network === 'string') {
      const timedOut = network === 'ECONNABORTED' || network === 'ETIMEDOUT';
      const detail = timedOut && options.timeoutMs !== undefined ? `no answer within ${options.timeoutMs} ms` : network;
      const fix = apiRoot ? 'check the network and the Sync API URL override' : 'check the network';
      return new QueueError(`${doing}: ${where} is unreachable (${detail}): ${fix}`, 'UNREACHABLE');
    }
    // The name only: an unexpected error's message could quote a response body.
    return new QueueError(`${doing} failed unexpectedly (${error instanceof Error ? error.name : typeof error})`, 'REJECTED');
  }

  const serviceNotFound = (doing: string) =>
    new QueueError(`${doing}: the Sync service "${serviceSid}" does not exist: create a Sync service or set SYNC_SERVICE_SID`, 'SERVICE_NOT_FOUND');

  /** Creates the Map; one that already exists (another instance won the race) is fine. */
  async function ensureMap(doing: string): Promise<void> {
    try {
      await (await client()).sync.v1.services(serviceSid).syncMaps.create({ uniqueName: mapName });
    } catch (error) {
      const failure = twilioFailure(error);
      if (failure?.status === 409) return;
      if (failure?.status === 404) throw serviceNotFound(doing);
      throw queueError(doing, error);
    }
  }

  function parseItem(key: string, data: unknown): PendingRow {
    const parsed = StoredSchema.safeParse(data);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? 'data')))].join(', ');
      throw new QueueError(`the pending item "${key}" in Sync Map ${mapName} is not a queued row (check ${fields}): remove it or flush with the version that wrote it`, 'REJECTED');
    }
    return { executionSid: key, columns: parsed.data.columns, queuedAt: parsed.data.queuedAt };
  }

  /** Twilio's next-page URLs are absolute; keep them on the configured root (a proxy, a stand-in). */
  const onApiRoot = (url: string): string => {
    if (!apiRoot) return url;
    const next = new URL(url);
    return `${apiRoot}${next.pathname}${next.search}`;
  };

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
        page = await list.getPage(onApiRoot(page.nextPageUrl)).catch((error: unknown) => {
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
