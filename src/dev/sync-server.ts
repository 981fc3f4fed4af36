// A local, in-memory stand-in for the Twilio Sync v1 endpoints this project
// uses — Maps and Lists, and their Items — for tests and offline runs, with
// injectable faults. Bodies follow twilio_sync_v1.json; errors follow Twilio's
// {code, message, more_info, status}.
//
// Faults (options.faults or setFaults) make a share of the requests, or the
// next `count` requests of one kind, fail:
//   setFaults({ kinds: [503] , rate: 0.3, seed: 7 })          30% of all requests answer 503
//   setFaults({ kinds: ['timeout-after-write'], count: 1,
//               only: { method: 'POST', resource: 'map-items' } })  the next Map Item create is
//                                                             stored but never answered
// A status answers in Twilio's error shape and changes nothing; 'reset' drops
// the connection and 'timeout' holds it unanswered (until the client gives up
// or stop()), both before anything changes; 'drop-after-write' and
// 'timeout-after-write' carry the request out, then drop or hold the answer.

import { FaultPicker, type FaultPlan } from './fault-picker.js';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_ITEM_BYTES, PENDING_MAP } from '../queue/sync-queue.js';

const MAX_BODY_BYTES = 64 * 1024;
/** Sync's longest time-to-live, in seconds (a year). */
const MAX_TTL_S = 31_536_000;

export type SyncFaultKind = 429 | 500 | 502 | 503 | 504 | 'reset' | 'timeout' | 'drop-after-write' | 'timeout-after-write';
export const SYNC_FAULT_KINDS: readonly SyncFaultKind[] = [429, 500, 502, 503, 504, 'reset', 'timeout', 'drop-after-write', 'timeout-after-write'];

/** What a request addresses: the Maps of a service ('maps'), one Map ('map'), its Items ('map-items') or one Item ('map-item'); the same for Lists. */
export type SyncResource = 'maps' | 'map' | 'map-items' | 'map-item' | 'lists' | 'list' | 'list-items' | 'list-item';

/** Kinds chosen uniformly for each failing request (rate, count and seed: FaultPlan). */
export interface SyncFaults extends FaultPlan<SyncFaultKind> {
  /** Only requests with this method and/or to this resource can fail; any request when unset. */
  readonly only?: { readonly method?: 'GET' | 'POST' | 'DELETE'; readonly resource?: SyncResource };
}

export interface SyncServerOptions {
  readonly port?: number;
  readonly accountSid: string;
  readonly authToken: string;
  readonly faults?: SyncFaults;
  /** Milliseconds since the epoch, for time-to-live expiry; Date.now when unset. */
  readonly clock?: () => number;
  /** SIDs of Sync services that exist besides the account's default one; any other IS… SID is a 404, as on Twilio. */
  readonly serviceSids?: readonly string[];
}

export interface RunningSyncServer {
  readonly url: string;
  readonly port: number;
  /** The items of a Map (by unique name or SID, PENDING_MAP by default) in key order, in any service. */
  items(mapName?: string): Array<{ key: string; data: unknown }>;
  /** The items of a List (by unique name or SID) in index order, in any service. */
  listItems(listName: string): Array<{ index: number; data: unknown }>;
  /** HTTP requests received so far, refused ones included. */
  requests(): number;
  /** Replaces the fault options (restarting the seeded sequence and the count); undefined turns faults off. */
  setFaults(faults: SyncFaults | undefined): void;
  /** Faults injected so far, by kind. */
  faultsInjected(): Record<string, number>;
  /** Makes a Sync service exist from now on (one created through another stand-in's Services API). */
  addService(serviceSid: string): void;
  stop(): Promise<void>;
}

type Kind = 'Maps' | 'Lists';

interface Item {
  /** The Map Item's key, or the List Item's index as a string. */
  readonly key: string;
  readonly data: unknown;
  readonly created: string;
  /** Epoch milliseconds; undefined: never expires. */
  readonly expiresAt: number | undefined;
}

interface Collection {
  readonly kind: Kind;
  readonly sid: string;
  readonly uniqueName: string | null;
  readonly serviceSid: string;
  readonly created: string;
  readonly items: Map<string, Item>;
  /** The next List Item index: auto-increment from 0, never reused. */
  nextIndex: number;
}

interface Route {
  readonly kind: Kind;
  readonly serviceSid: string;
  readonly collection: string | undefined;
  readonly items: boolean;
  readonly key: string | undefined;
  readonly resource: SyncResource;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const KINDS = {
  Maps: { prefix: 'MP', noun: 'map', sidField: 'map_sid', page: 'maps' },
  Lists: { prefix: 'ES', noun: 'list', sidField: 'list_sid', page: 'lists' },
} as const;

const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
/** Twilio's timestamps: ISO 8601 to the second. */
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const notFound = (path: string) => new HttpError(404, 20404, `The requested resource ${path} was not found`);
const notAllowed = () => new HttpError(405, 20004, 'Method not allowed');

function route(path: string): Route | undefined {
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [version, services, serviceSid, kind, collection, items, key, ...rest] = segments;
  if (version !== 'v1' || services !== 'Services' || !serviceSid || (kind !== 'Maps' && kind !== 'Lists') || rest.length > 0) return undefined;
  if (collection === '' || (items !== undefined && items !== 'Items') || key === '') return undefined;
  const noun = KINDS[kind].noun;
  const resource: SyncResource = collection === undefined ? `${noun}s` : items === undefined ? noun : key === undefined ? `${noun}-items` : `${noun}-item`;
  return { kind, serviceSid, collection, items: items !== undefined, key, resource };
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 20001, 'Request body too large');
    chunks.push(chunk);
  }
  const type = req.headers['content-type'] ?? '';
  if (size > 0 && !/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new HttpError(415, 20001, 'Send the parameters form-encoded (application/x-www-form-urlencoded)');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function checkFaults(f: SyncFaults | undefined): void {
  if (!f) return;
  const bad = (what: string) => {
    throw new RangeError(`sync-server faults: ${what}`);
  };
  if (f.kinds.length === 0) bad('kinds must name at least one fault');
  for (const k of f.kinds) if (!SYNC_FAULT_KINDS.includes(k)) bad(`unknown fault kind ${String(k)}`);
  if (f.rate !== undefined && !(f.rate >= 0 && f.rate <= 1)) bad('rate must be from 0 to 1');
  if (f.count !== undefined && !(Number.isInteger(f.count) && f.count >= 0)) bad('count must be a whole number ≥ 0');
}

/** Ttl/ItemTtl of an item (ItemTtl wins, as in Twilio): seconds, 0 for none. */
function itemTtl(form: URLSearchParams): number {
  const given = form.get('ItemTtl') ?? form.get('Ttl');
  if (given === null) return 0;
  const ttl = Number(given);
  if (!/^\d+$/.test(given) || ttl > MAX_TTL_S) throw new HttpError(400, 54011, `Invalid TTL: a whole number of seconds from 0 to ${MAX_TTL_S}`);
  return ttl;
}

function itemData(form: URLSearchParams): unknown {
  const data = form.get('Data');
  if (data === null) throw new HttpError(400, 20001, 'Missing required parameter Data');
  if (Buffer.byteLength(data, 'utf8') > MAX_ITEM_BYTES) throw new HttpError(413, 54006, 'Request entity too large');
  try {
    return JSON.parse(data);
  } catch {
    throw new HttpError(400, 54008, 'Invalid JSON in Data');
  }
}

export async function startSyncServer(options: SyncServerOptions): Promise<RunningSyncServer> {
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const clock = options.clock ?? Date.now;
  const defaultServiceSid = newSid('IS');
  const knownServices = new Set(options.serviceSids ?? []);
  /** Collections by service SID, then by collection SID (insertion order = creation order). */
  const services = new Map<string, Map<string, Collection>>();
  let requestCount = 0;
  const faults = new FaultPicker<SyncFaultKind, SyncFaults>();
  const setFaults = (f: SyncFaults | undefined) => {
    checkFaults(f);
    faults.set(f);
  };
  setFaults(options.faults);

  const chooseFault = (method: string, r: Route | undefined): SyncFaultKind | undefined =>
    faults.pick(({ only = {} }) => (only.method === undefined || only.method === method) && (only.resource === undefined || only.resource === r?.resource));

  const serviceOf = (serviceSid: string, path: string): { sid: string; collections: Map<string, Collection> } => {
    const resolved = serviceSid === 'default' || serviceSid === defaultServiceSid ? defaultServiceSid : knownServices.has(serviceSid) ? serviceSid : undefined;
    if (!resolved) throw notFound(path);
    let collections = services.get(resolved);
    if (!collections) services.set(resolved, (collections = new Map()));
    return { sid: resolved, collections };
  };

  const find = (collections: Map<string, Collection>, kind: Kind, sidOrName: string): Collection | undefined => {
    const bySid = collections.get(sidOrName);
    if (bySid) return bySid.kind === kind ? bySid : undefined;
    return [...collections.values()].find((c) => c.kind === kind && c.uniqueName === sidOrName);
  };

  /** The live items of a collection; expired ones are removed on the way, as Sync deletes them. */
  const live = (c: Collection): Map<string, Item> => {
    const now = clock();
    for (const [key, item] of c.items) if (item.expiresAt !== undefined && item.expiresAt <= now) c.items.delete(key);
    return c.items;
  };

  function handle(method: string, r: Route, url: URL, form: URLSearchParams, origin: string): { status: number; body?: unknown } {
    const path = url.pathname;
    const service = serviceOf(r.serviceSid, path);
    const { prefix, sidField, page } = KINDS[r.kind];
    const collectionUrl = (c: Collection) => `${origin}/v1/Services/${c.serviceSid}/${c.kind}/${c.sid}`;
    const collectionBody = (c: Collection) => ({
      sid: c.sid,
      unique_name: c.uniqueName,
      account_sid: options.accountSid,
      service_sid: c.serviceSid,
      url: collectionUrl(c),
      links: { items: `${collectionUrl(c)}/Items`, permissions: `${collectionUrl(c)}/Permissions` },
      revision: '0',
      date_expires: null,
      date_created: c.created,
      date_updated: c.created,
      created_by: 'system',
    });
    const itemBody = (c: Collection, i: Item) => ({
      ...(c.kind === 'Maps' ? { key: i.key } : { index: Number(i.key) }),
      account_sid: options.accountSid,
      service_sid: c.serviceSid,
      [sidField]: c.sid,
      url: `${collectionUrl(c)}/Items/${encodeURIComponent(i.key)}`,
      revision: '0',
      data: i.data,
      date_expires: i.expiresAt === undefined ? null : iso(i.expiresAt),
      date_created: i.created,
      date_updated: i.created,
      created_by: 'system',
    });

    if (r.collection === undefined) {
      if (method === 'GET') {
        const all = [...service.collections.values()].filter((c) => c.kind === r.kind);
        return { status: 200, body: pageOf(page, all.map((c) => ({ key: c.sid, body: collectionBody(c) })), url, origin, 'none') };
      }
      if (method !== 'POST') throw notAllowed();
      const uniqueName = form.get('UniqueName');
      if (uniqueName !== null) {
        if (uniqueName.length < 1 || uniqueName.length > 320 || /^[A-Z]{2}[0-9a-fA-F]{32}$/.test(uniqueName)) {
          throw new HttpError(400, 54302, 'Invalid unique name: 1–320 characters that do not look like a SID');
        }
        // Unique within the service, whatever the object type (Twilio error 54301 says "in this Sync Service Instance").
        if ([...service.collections.values()].some((c) => c.uniqueName === uniqueName)) throw new HttpError(409, 54301, 'Unique name already exists');
      }
      const created: Collection = { kind: r.kind, sid: newSid(prefix), uniqueName, serviceSid: service.sid, created: iso(clock()), items: new Map(), nextIndex: 0 };
      service.collections.set(created.sid, created);
      return { status: 201, body: collectionBody(created) };
    }

    const collection = find(service.collections, r.kind, r.collection);
    if (!collection) throw notFound(path);
    if (!r.items) {
      if (method === 'GET') return { status: 200, body: collectionBody(collection) };
      if (method !== 'DELETE') throw notAllowed();
      service.collections.delete(collection.sid);
      return { status: 204 };
    }

    const items = live(collection);
    if (r.key === undefined) {
      if (method === 'GET') {
        const all = [...items.values()].map((i) => ({ key: r.kind === 'Maps' ? i.key : Number(i.key), body: itemBody(collection, i) }));
        return { status: 200, body: pageOf('items', all, url, origin, r.kind === 'Maps' ? 'key' : 'index') };
      }
      if (method !== 'POST') throw notAllowed();
      let key: string;
      if (r.kind === 'Maps') {
        const given = form.get('Key');
        if (!given || given.length > 320) throw new HttpError(400, 20001, 'Missing or invalid required parameter Key');
        key = given;
      } else {
        key = String(collection.nextIndex);
      }
      const data = itemData(form);
      const ttl = itemTtl(form);
      if (items.has(key)) throw new HttpError(409, 54208, 'Item with the specified key already exists in the Map');
      if (r.kind === 'Lists') collection.nextIndex += 1;
      const now = clock();
      const item: Item = { key, data, created: iso(now), expiresAt: ttl > 0 ? now + ttl * 1000 : undefined };
      items.set(key, item);
      return { status: 201, body: itemBody(collection, item) };
    }

    if (r.kind === 'Lists' && !/^(0|[1-9]\d{0,15})$/.test(r.key)) throw new HttpError(400, 54458, 'Invalid List Item index: a non-negative integer');
    const item = items.get(r.key);
    if (!item) throw notFound(path);
    if (method === 'GET') return { status: 200, body: itemBody(collection, item) };
    if (method !== 'DELETE') throw notAllowed();
    items.delete(r.key);
    return { status: 204 };
  }

  /**
   * One page of `entries` in the order of their sort keys (a Map Item's key, a
   * List Item's index, a collection's SID), honouring Order, and From and
   * Bounds where Twilio takes them (`from`: how From is read, or 'none'). The
   * page token names the last key served, so deletions between pages skip nothing.
   */
  function pageOf(name: string, entries: Array<{ key: string | number; body: unknown }>, url: URL, origin: string, from: 'key' | 'index' | 'none') {
    const q = url.searchParams;
    const pageSize = Number(q.get('PageSize') ?? 50);
    const page = Number(q.get('Page') ?? 0);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new HttpError(400, 20001, 'PageSize must be an integer from 1 to 100');
    if (!Number.isInteger(page) || page < 0) throw new HttpError(400, 20001, 'Page must be a non-negative integer');
    if (from === 'none') {
      for (const unsupported of ['Order', 'From', 'Bounds']) if (q.has(unsupported)) throw new HttpError(400, 20001, `${unsupported} is not a parameter when listing ${name}`);
    }
    const order = q.get('Order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new HttpError(400, 20001, 'Order must be asc or desc');
    const bounds = q.get('Bounds') ?? 'inclusive';
    if (bounds !== 'inclusive' && bounds !== 'exclusive') throw new HttpError(400, 20001, 'Bounds must be inclusive or exclusive');
    const fromText = q.get('From');
    if (from === 'index' && fromText !== null && !/^\d{1,16}$/.test(fromText)) throw new HttpError(400, 20001, 'From must be a List Item index');
    const start = fromText === null ? undefined : from === 'index' ? Number(fromText) : fromText;
    const token = q.get('PageToken');
    let after: string | number | undefined;
    if (token !== null) {
      try {
        if (!token.startsWith('PT')) throw new Error('not a page token of this server');
        after = JSON.parse(Buffer.from(token.slice(2), 'base64url').toString('utf8')) as string | number;
      } catch {
        throw new HttpError(400, 20001, 'Invalid PageToken');
      }
    }

    const desc = order === 'desc';
    const before = (a: string | number, b: string | number) => (desc ? a > b : a < b);
    const keep = entries
      .filter((e) => (after !== undefined ? before(after, e.key) : start === undefined || before(start, e.key) || (bounds === 'inclusive' && e.key === start)))
      .sort((a, b) => (before(a.key, b.key) ? -1 : before(b.key, a.key) ? 1 : 0));
    const served = keep.slice(0, pageSize);
    const base = `${origin}${url.pathname}`;
    const pageUrl = (n: number, lastKey?: string | number) =>
      `${base}?PageSize=${pageSize}&Page=${n}${desc ? '&Order=desc' : ''}` +
      (lastKey === undefined ? '' : `&PageToken=PT${Buffer.from(JSON.stringify(lastKey)).toString('base64url')}`);
    const last = served.at(-1);
    return {
      [name]: served.map((e) => e.body),
      meta: {
        page,
        page_size: pageSize,
        first_page_url: pageUrl(0),
        // Going back would need the keys of every earlier page; nothing here pages backwards.
        previous_page_url: null,
        url: `${base}${url.search}`,
        next_page_url: keep.length > pageSize && last !== undefined ? pageUrl(page + 1, last.key) : null,
        key: name,
      },
    };
  }

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };

  const sendError = (res: ServerResponse, e: HttpError) =>
    send(res, e.status, { code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status });

  const server = createServer((req, res) => {
    requestCount += 1;
    void (async () => {
      try {
        const method = req.method ?? 'GET';
        const url = new URL(req.url ?? '/', 'http://stand-in');
        const r = route(url.pathname);
        const fault = chooseFault(method, r);
        if (fault === 'reset') {
          req.socket.resetAndDestroy();
          return;
        }
        if (fault === 'timeout') {
          req.resume(); // held open until the client gives up or stop()
          return;
        }
        if (typeof fault === 'number') {
          req.resume();
          sendError(res, fault === 429 ? new HttpError(429, 54009, 'Rate limit exceeded') : new HttpError(fault, 20500, 'Internal Server Error'));
          return;
        }
        if (req.headers.authorization !== expectedAuth) {
          // Drain the body so the client sees the answer rather than a reset.
          req.resume();
          throw new HttpError(401, 20003, 'Authenticate');
        }
        const form = await formBody(req);
        if (!r) throw new HttpError(404, 20404, `The requested resource ${url.pathname} was not found (the local Sync stand-in serves only Sync Maps, Lists and their Items)`);
        const origin = `http://${req.headers.host ?? 'localhost'}`;
        const { status, body } = handle(method, r, url, form, origin);
        if (fault === 'drop-after-write') {
          req.socket.destroy();
          return;
        }
        if (fault === 'timeout-after-write') return; // held open until the client gives up or stop()
        send(res, status, body);
      } catch (error) {
        sendError(res, error instanceof HttpError ? error : new HttpError(500, 20500, 'Internal Server Error'));
      }
    })();
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;

  const everywhere = (kind: Kind, name: string) =>
    [...services.values()].map((collections) => find(collections, kind, name)).filter((c) => c !== undefined);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    addService: (serviceSid) => void knownServices.add(serviceSid),
    items(mapName = PENDING_MAP) {
      return everywhere('Maps', mapName).flatMap((m) =>
        [...live(m).values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((i) => ({ key: i.key, data: i.data })),
      );
    },
    listItems(listName) {
      return everywhere('Lists', listName).flatMap((l) => [...live(l).values()].map((i) => ({ index: Number(i.key), data: i.data })).sort((a, b) => a.index - b.index));
    },
    requests: () => requestCount,
    setFaults,
    faultsInjected: () => faults.injected(),
    stop: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : ok()));
      }),
  };
}
