// A local, in-memory stand-in for the Twilio Sync v1 endpoints the pending
// queue uses (Maps and Map Items), for tests and offline runs. Bodies follow
// twilio_sync_v1.json; errors follow Twilio's {code, message, more_info, status}.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_ITEM_BYTES, PENDING_MAP } from '../queue/sync-queue.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface SyncServerOptions {
  readonly port?: number;
  readonly accountSid: string;
  readonly authToken: string;
}

export interface RunningSyncServer {
  readonly url: string;
  readonly port: number;
  /** The items of a Map (by unique name or SID, PENDING_MAP by default) in key order, in any service. */
  items(mapName?: string): Array<{ key: string; data: unknown }>;
  /** HTTP requests received so far, refused ones included. */
  requests(): number;
  stop(): Promise<void>;
}

interface Item {
  readonly key: string;
  readonly data: unknown;
  readonly revision: string;
  readonly created: string;
}

interface SyncMap {
  readonly sid: string;
  readonly uniqueName: string | null;
  readonly serviceSid: string;
  readonly created: string;
  readonly items: Map<string, Item>;
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

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
/** Twilio's timestamps: ISO 8601 to the second. */
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

const notFound = (path: string) => new HttpError(404, 20404, `The requested resource ${path} was not found`);

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

export async function startSyncServer(options: SyncServerOptions): Promise<RunningSyncServer> {
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const defaultServiceSid = sid('IS');
  /** Maps by service SID, then by map SID. */
  const services = new Map<string, Map<string, SyncMap>>();
  let requestCount = 0;

  const serviceOf = (serviceSid: string, path: string): { sid: string; maps: Map<string, SyncMap> } => {
    const resolved = serviceSid === 'default' ? defaultServiceSid : /^IS[0-9a-fA-F]{32}$/.test(serviceSid) ? serviceSid : undefined;
    if (!resolved) throw notFound(path);
    let maps = services.get(resolved);
    if (!maps) services.set(resolved, (maps = new Map()));
    return { sid: resolved, maps };
  };

  const findMap = (maps: Map<string, SyncMap>, sidOrName: string): SyncMap | undefined =>
    maps.get(sidOrName) ?? [...maps.values()].find((m) => m.uniqueName === sidOrName);

  function handle(method: string, url: URL, form: URLSearchParams, origin: string): { status: number; body?: unknown } {
    const path = url.pathname;
    const segments = path.split('/').slice(1).map(decodeURIComponent);
    const [version, services_, serviceSid, maps_, mapSid, items_, key, ...rest] = segments;
    if (version !== 'v1' || services_ !== 'Services' || serviceSid === undefined || maps_ !== 'Maps' || rest.length > 0) {
      throw new HttpError(404, 20404, `The requested resource ${path} was not found (the local Sync stand-in serves only Sync Maps and their Items)`);
    }
    const service = serviceOf(serviceSid, path);
    const mapUrl = (m: SyncMap) => `${origin}/v1/Services/${m.serviceSid}/Maps/${m.sid}`;
    const itemUrl = (m: SyncMap, i: Item) => `${mapUrl(m)}/Items/${encodeURIComponent(i.key)}`;
    const mapBody = (m: SyncMap) => ({
      sid: m.sid,
      unique_name: m.uniqueName,
      account_sid: options.accountSid,
      service_sid: m.serviceSid,
      url: mapUrl(m),
      links: { items: `${mapUrl(m)}/Items`, permissions: `${mapUrl(m)}/Permissions` },
      revision: '0',
      date_expires: null,
      date_created: m.created,
      date_updated: m.created,
      created_by: 'system',
    });
    const itemBody = (m: SyncMap, i: Item) => ({
      key: i.key,
      account_sid: options.accountSid,
      service_sid: m.serviceSid,
      map_sid: m.sid,
      url: itemUrl(m, i),
      revision: i.revision,
      data: i.data,
      date_expires: null,
      date_created: i.created,
      date_updated: i.created,
      created_by: 'system',
    });

    if (mapSid === undefined) {
      if (method !== 'POST') throw new HttpError(405, 20004, 'Method not allowed');
      const uniqueName = form.get('UniqueName');
      if (uniqueName !== null && [...service.maps.values()].some((m) => m.uniqueName === uniqueName)) {
        throw new HttpError(409, 54301, 'Unique name already exists');
      }
      const created: SyncMap = { sid: sid('MP'), uniqueName, serviceSid: service.sid, created: now(), items: new Map() };
      service.maps.set(created.sid, created);
      return { status: 201, body: mapBody(created) };
    }

    const map = findMap(service.maps, mapSid);
    if (!map) throw notFound(path);
    if (items_ === undefined) {
      if (method !== 'GET') throw new HttpError(405, 20004, 'Method not allowed');
      return { status: 200, body: mapBody(map) };
    }
    if (items_ !== 'Items') throw notFound(path);

    if (key === undefined) {
      if (method === 'POST') {
        const itemKey = form.get('Key');
        const data = form.get('Data');
        if (!itemKey || itemKey.length > 320) throw new HttpError(400, 20001, 'Missing or invalid required parameter Key');
        if (data === null) throw new HttpError(400, 20001, 'Missing required parameter Data');
        if (Buffer.byteLength(data, 'utf8') > MAX_ITEM_BYTES) throw new HttpError(413, 54006, 'Request entity too large');
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          throw new HttpError(400, 54008, 'Invalid JSON in Data');
        }
        if (map.items.has(itemKey)) throw new HttpError(409, 54208, 'Item with the specified key already exists in the Map');
        const item: Item = { key: itemKey, data: parsed, revision: '0', created: now() };
        map.items.set(itemKey, item);
        return { status: 201, body: itemBody(map, item) };
      }
      if (method !== 'GET') throw new HttpError(405, 20004, 'Method not allowed');
      return { status: 200, body: listPage(map, url, origin, (i) => itemBody(map, i)) };
    }

    const item = map.items.get(key);
    if (!item) throw notFound(path);
    if (method === 'GET') return { status: 200, body: itemBody(map, item) };
    if (method === 'DELETE') {
      map.items.delete(key);
      return { status: 204 };
    }
    throw new HttpError(405, 20004, 'Method not allowed');
  }

  /** Items in key order; the page token names the last key served, so deletions between pages skip nothing. */
  function listPage(map: SyncMap, url: URL, origin: string, body: (i: Item) => unknown) {
    const q = url.searchParams;
    const pageSize = Number(q.get('PageSize') ?? 50);
    const page = Number(q.get('Page') ?? 0);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new HttpError(400, 20001, 'PageSize must be an integer from 1 to 100');
    if (!Number.isInteger(page) || page < 0) throw new HttpError(400, 20001, 'Page must be a non-negative integer');
    for (const unsupported of ['Order', 'From', 'Bounds']) {
      if (q.has(unsupported)) throw new HttpError(400, 20001, `${unsupported} is not supported by the local Sync stand-in`);
    }
    const token = q.get('PageToken');
    let after: string | undefined;
    if (token !== null) {
      if (!token.startsWith('PT')) throw new HttpError(400, 20001, 'Invalid PageToken');
      after = Buffer.from(token.slice(2), 'base64url').toString('utf8');
    }
    const keys = [...map.items.keys()].sort().filter((k) => after === undefined || k > after);
    const served = keys.slice(0, pageSize);
    const base = `${origin}/v1/Services/${map.serviceSid}/Maps/${map.sid}/Items`;
    const pageUrl = (n: number, tokenKey?: string) =>
      `${base}?PageSize=${pageSize}&Page=${n}${tokenKey === undefined ? '' : `&PageToken=PT${Buffer.from(tokenKey).toString('base64url')}`}`;
    const last = served.at(-1);
    return {
      items: served.map((k) => body(map.items.get(k) as Item)),
      meta: {
        page,
        page_size: pageSize,
        first_page_url: pageUrl(0),
        // Going back would need the keys of every earlier page; the queue never pages backwards.
        previous_page_url: null,
        url: `${base}${url.search}`,
        next_page_url: keys.length > pageSize && last !== undefined ? pageUrl(page + 1, last) : null,
        key: 'items',
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

  const server = createServer((req, res) => {
    requestCount += 1;
    void (async () => {
      try {
        if (req.headers.authorization !== expectedAuth) {
          // Drain the body so the client sees the answer rather than a reset.
          req.resume();
          throw new HttpError(401, 20003, 'Authenticate');
        }
        const url = new URL(req.url ?? '/', 'http://stand-in');
        const form = await formBody(req);
        const origin = `http://${req.headers.host ?? 'localhost'}`;
        const { status, body } = handle(req.method ?? 'GET', url, form, origin);
        send(res, status, body);
      } catch (error) {
        const e = error instanceof HttpError ? error : new HttpError(500, 20500, 'Internal Server Error');
        send(res, e.status, { code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status });
      }
    })();
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    items(mapName = PENDING_MAP) {
      const found = [...services.values()].map((maps) => findMap(maps, mapName)).filter((m) => m !== undefined);
      return found.flatMap((m) => [...m.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((i) => ({ key: i.key, data: i.data })));
    },
    requests: () => requestCount,
    stop: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : ok()));
      }),
  };
}
