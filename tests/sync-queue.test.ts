// The pending queue with the real twilio client, through Prism validating
// every request and response against Twilio's Sync OpenAPI document, to the
// local Sync stand-in.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../src/dev/functions-server.js';
import { startSyncServer, type RunningSyncServer } from '../src/dev/sync-server.js';
import { MAX_ITEM_BYTES, PENDING_MAP, QueueError, syncQueue, type PendingRow, type SyncQueueOptions } from '../src/queue/sync-queue.js';
import { ACCOUNT_SID, AUTH_TOKEN, SENTINEL } from './helpers/functions.js';
import { isUndeclaredErrorStatus, startPrismProxy, SYNC_SPEC, type RunningPrism } from './helpers/prism.js';

const SPEC = SYNC_SPEC;

let sync: Awaited<ReturnType<typeof startSyncServer>>;
let prism: RunningPrism;

beforeAll(async () => {
  sync = await startSyncServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  prism = await startPrismProxy(SPEC, sync.url);
});

afterAll(async () => {
  await prism?.stop();
  await sync?.stop();
});

const queue = (options: Partial<SyncQueueOptions> = {}) => syncQueue({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiUrl: prism.url, ...options });
const executionSid = () => `FN${randomBytes(16).toString('hex')}`;
let maps = 0;
const freshMap = () => `test-map-${++maps}`;

function row(sid = executionSid(), columns: Record<string, string> = {}): PendingRow {
  return { executionSid: sid, columns: { answer: `ss1.${SENTINEL}`, phone: `+${SENTINEL}`, ...columns }, queuedAt: new Date().toISOString() };
}

/** The QueueError a call rejects with; its message must never quote a row. */
async function queueError(call: Promise<unknown>): Promise<QueueError> {
  const error = await call.then(
    () => expect.fail('expected a QueueError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QueueError);
  expect((error as QueueError).message).not.toContain(SENTINEL);
  return error as QueueError;
}

async function collect(rows: AsyncIterable<PendingRow>): Promise<PendingRow[]> {
  const all: PendingRow[] = [];
  for await (const r of rows) all.push(r);
  return all;
}

const authHeader = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;

/** A request through Prism to the default service, as another tool (or the Console) would make it. */
const api = (path: string, method = 'GET', form?: Record<string, string>) =>
  fetch(`${prism.url}/v1/Services/default/${path}`, {
    method,
    headers: { authorization: authHeader, 'content-type': 'application/x-www-form-urlencoded' },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();
/** Every page of a listing, following next_page_url through Prism. */
async function allPages(path: string, key: string): Promise<any[]> {
  const all: any[] = [];
  let next: string | null = `${prism.url}/v1/Services/default/${path}`;
  while (next) {
    const url = new URL(next);
    const page = await json(fetch(`${prism.url}${url.pathname}${url.search}`, { headers: { authorization: authHeader } }));
    all.push(...page[key]);
    next = page.meta.next_page_url;
  }
  return all;
}
let lists = 0;
const freshList = async (): Promise<{ name: string; sid: string }> => {
  const name = `test-list-${++lists}`;
  const response = await api('Lists', 'POST', { UniqueName: name });
  expect(response.status).toBe(201);
  return { name, sid: (await json(response)).sid };
};

describe('Sync stand-in: Lists and List Items → Prism', () => {
  it('Lists are created, read by SID or unique name, paged and deleted; unique names are shared with Maps', async () => {
    const { name, sid } = await freshList();
    expect(sid).toMatch(/^ES[0-9a-f]{32}$/);
    const byName = await json(api(`Lists/${name}`));
    expect(byName).toEqual(await json(api(`Lists/${sid}`)));
    expect(byName).toMatchObject({ sid, unique_name: name, account_sid: ACCOUNT_SID });
    for (const kind of ['Lists', 'Maps']) {
      const clash = await api(kind, 'POST', { UniqueName: name });
      expect(clash.status).toBe(409);
      expect(await clash.json()).toMatchObject({ code: 54301, status: 409 });
    }
    await freshList();
    const listed = await allPages('Lists?PageSize=1', 'lists');
    expect(listed.map((l) => l.unique_name)).toContain(name);
    expect(new Set(listed.map((l) => l.sid)).size).toBe(listed.length);
    expect((await api(`Lists/${sid}`, 'DELETE')).status).toBe(204);
    expect((await api(`Lists/${name}`)).status).toBe(404);
    expect((await api(`Lists/${sid}/Items`, 'POST', { Data: '{}' })).status).toBe(404);
    expect((await api(`Lists/${sid}`, 'DELETE')).status).toBe(404);
  });

  it('List Item indexes count from 0 and are never reused; items are read and deleted by index', async () => {
    const { name } = await freshList();
    const add = async (n: number) => (await json(api(`Lists/${name}/Items`, 'POST', { Data: JSON.stringify({ n }) }))).index;
    expect([await add(0), await add(1), await add(2), await add(3), await add(4)]).toEqual([0, 1, 2, 3, 4]);
    expect((await api(`Lists/${name}/Items/2`, 'DELETE')).status).toBe(204);
    expect((await api(`Lists/${name}/Items/2`)).status).toBe(404);
    expect(await add(5)).toBe(5);
    expect(await json(api(`Lists/${name}/Items/3`))).toMatchObject({ index: 3, data: { n: 3 } });
    expect(sync.listItems(name)).toEqual([0, 1, 3, 4, 5].map((index) => ({ index, data: { n: index } })));
    // Prism refuses a non-integer index itself; the stand-in answers Twilio's error when asked directly.
    const direct = await fetch(`${sync.url}/v1/Services/default/Lists/${name}/Items/x1`, { headers: { authorization: authHeader } });
    expect(await direct.json()).toMatchObject({ status: 400, code: 54458 });
  });

  it('List Items page in either order, from an index, inclusive or exclusive', async () => {
    const { name } = await freshList();
    for (let n = 0; n < 6; n++) await api(`Lists/${name}/Items`, 'POST', { Data: JSON.stringify({ n }) });
    await api(`Lists/${name}/Items/2`, 'DELETE');
    const indexes = async (query: string) => (await allPages(`Lists/${name}/Items?${query}`, 'items')).map((i) => i.index);
    expect(await indexes('PageSize=2')).toEqual([0, 1, 3, 4, 5]);
    expect(await indexes('PageSize=2&Order=desc')).toEqual([5, 4, 3, 1, 0]);
    expect(await indexes('From=1')).toEqual([1, 3, 4, 5]);
    expect(await indexes('From=4&Bounds=exclusive&Order=desc&PageSize=1')).toEqual([3, 1, 0]);
    expect(await indexes('From=2&Bounds=exclusive')).toEqual([3, 4, 5]);
  });

  it('Map Items page in either order, from a key', async () => {
    const mapName = freshMap();
    for (const key of ['c', 'a', 'd', 'b']) await queue({ mapName }).put(row(key));
    const keys = async (query: string) => (await allPages(`Maps/${mapName}/Items?${query}`, 'items')).map((i) => i.key);
    expect(await keys('PageSize=3')).toEqual(['a', 'b', 'c', 'd']);
    expect(await keys('From=b&Bounds=exclusive')).toEqual(['c', 'd']);
    expect(await keys('Order=desc&From=c&PageSize=1')).toEqual(['c', 'b', 'a']);
  });

  it('List and List Item bodies carry every property the document lists', async () => {
    const spec = JSON.parse(readFileSync(SPEC, 'utf8'));
    const schemas = spec.components.schemas;
    const pageSchema = (path: string) => spec.paths[path].get.responses['200'].content['application/json'].schema;
    const properties = (schema: { properties: object }) => Object.keys(schema.properties).sort();
    const { name } = await freshList();
    const item = await json(api(`Lists/${name}/Items`, 'POST', { Data: '{"a":1}', Ttl: '3600' }));
    expect(item.date_expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const list = await json(api(`Lists/${name}`));
    const items = await json(api(`Lists/${name}/Items?PageSize=1`));
    const lists = await json(api('Lists?PageSize=1'));
    expect(Object.keys(list).sort()).toEqual(properties(schemas['sync.v1.service.sync_list']));
    expect(Object.keys(item).sort()).toEqual(properties(schemas['sync.v1.service.sync_list.sync_list_item']));
    expect(await json(api(`Lists/${name}/Items/${item.index}`))).toEqual(item);
    expect(Object.keys(items).sort()).toEqual(properties(pageSchema('/v1/Services/{ServiceSid}/Lists/{ListSid}/Items')));
    expect(Object.keys(lists).sort()).toEqual(properties(pageSchema('/v1/Services/{ServiceSid}/Lists')));
    expect(Object.keys(lists.meta).sort()).toEqual(properties(pageSchema('/v1/Services/{ServiceSid}/Lists').properties.meta));
    expect(items.items).toEqual([item]);
  });
});

describe('Sync stand-in: time-to-live and faults', () => {
  async function withStandIn(test: (server: RunningSyncServer, call: (path: string, method?: string, form?: Record<string, string>, signal?: AbortSignal) => Promise<Response>) => Promise<void>, clock?: () => number) {
    const server = await startSyncServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, ...(clock ? { clock } : {}) });
    const call = (path: string, method = 'GET', form?: Record<string, string>, signal?: AbortSignal) =>
      fetch(`${server.url}/v1/Services/default/${path}`, {
        method,
        headers: { authorization: authHeader, 'content-type': 'application/x-www-form-urlencoded' },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
        ...(signal ? { signal } : {}),
      });
    try {
      await test(server, call);
    } finally {
      await server.stop();
    }
  }

  it('an item with a Ttl expires when its time has passed (ItemTtl wins over Ttl), one without never does', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    await withStandIn(async (server, call) => {
      await call('Lists', 'POST', { UniqueName: 'ttl' });
      const expiring = await json(call('Lists/ttl/Items', 'POST', { Data: '{}', Ttl: '10', ItemTtl: '60' }));
      await call('Lists/ttl/Items', 'POST', { Data: '{}' });
      expect(expiring).toMatchObject({ date_created: '2030-01-01T00:00:00Z', date_expires: '2030-01-01T00:01:00Z' });
      now += 59_000;
      expect((await call('Lists/ttl/Items/0')).status).toBe(200);
      now += 1_000;
      expect((await call('Lists/ttl/Items/0')).status).toBe(404);
      expect(server.listItems('ttl').map((i) => i.index)).toEqual([1]);
      expect((await call('Lists/ttl/Items', 'POST', { Data: '{}', Ttl: '-1' })).status).toBe(400);
    }, () => now);
  });

  it('a seeded fault rate fails the same requests each time', async () => {
    await withStandIn(async (server, call) => {
      const run = async () => {
        server.setFaults({ kinds: [503], rate: 0.5, seed: 42 });
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await call('Lists')).status);
        return statuses;
      };
      const first = await run();
      expect(await run()).toEqual(first);
      expect(first).toContain(503);
      expect(first).toContain(200);
      expect(server.faultsInjected()['503']).toBe(2 * first.filter((s) => s === 503).length);
    });
  });

  it('`only` and `count` fail the next requests of one kind, answering in Twilio\'s shape and changing nothing', async () => {
    await withStandIn(async (server, call) => {
      await call('Lists', 'POST', { UniqueName: 'positions' });
      server.setFaults({ kinds: [429], only: { method: 'POST', resource: 'list-items' }, count: 2 });
      expect((await call('Lists/positions')).status).toBe(200);
      const refused = await call('Lists/positions/Items', 'POST', { Data: '{}' });
      expect(await refused.json()).toEqual({ code: 54009, message: expect.any(String), more_info: 'https://www.twilio.com/docs/errors/54009', status: 429 });
      expect((await call('Lists/positions/Items', 'POST', { Data: '{}' })).status).toBe(429);
      expect(await json(call('Lists/positions/Items', 'POST', { Data: '{}' }))).toMatchObject({ index: 0 });
      expect(server.faultsInjected()).toEqual({ 429: 2 });
    });
  });

  it('reset and timeout change nothing; drop-after-write and timeout-after-write store, then lose the answer', async () => {
    await withStandIn(async (server, call) => {
      await call('Lists', 'POST', { UniqueName: 'lost' });
      const create = (signal?: AbortSignal) => call('Lists/lost/Items', 'POST', { Data: '{}' }, signal);

      server.setFaults({ kinds: ['reset'], count: 1 });
      await expect(create()).rejects.toThrow();
      server.setFaults({ kinds: ['drop-after-write'], count: 1 });
      await expect(create()).rejects.toThrow();
      expect(server.listItems('lost').map((i) => i.index)).toEqual([0]);

      for (const kind of ['timeout', 'timeout-after-write'] as const) {
        server.setFaults({ kinds: [kind], count: 1 });
        const abort = new AbortController();
        const hung = create(abort.signal);
        await vi.waitFor(() => expect(server.faultsInjected()[kind]).toBe(1));
        if (kind === 'timeout-after-write') await vi.waitFor(() => expect(server.listItems('lost')).toHaveLength(2));
        abort.abort();
        await expect(hung).rejects.toThrow();
      }
      expect(server.listItems('lost').map((i) => i.index)).toEqual([0, 1]);
      expect(() => server.setFaults({ kinds: [] })).toThrow(RangeError);
      expect(() => server.setFaults({ kinds: [503], rate: 2 })).toThrow(RangeError);
    });
  });
});

describe('syncQueue → Prism → Sync stand-in', () => {
  it('put creates the map on first use, then the item with the row', async () => {
    const q = queue();
    const r = row();
    expect(sync.items(PENDING_MAP)).toEqual([]);
    expect(await q.put(r)).toBe('queued');
    expect(sync.items(PENDING_MAP)).toEqual([{ key: r.executionSid, data: { v: 1, columns: r.columns, queuedAt: r.queuedAt } }]);
  });

  it('put of an execution already queued answers already-queued and keeps one item', async () => {
    const mapName = freshMap();
    const q = queue({ mapName });
    const r = row();
    expect(await q.put(r)).toBe('queued');
    expect(await q.put({ ...r, columns: { answer: 'other' } })).toBe('already-queued');
    expect(sync.items(mapName)).toEqual([{ key: r.executionSid, data: expect.objectContaining({ columns: r.columns }) }]);
  });

  it('concurrent first puts race to create the map and all succeed', async () => {
    const mapName = freshMap();
    const shared = row();
    const results = await Promise.all([queue({ mapName }).put(row()), queue({ mapName }).put(row()), queue({ mapName }).put(shared), queue({ mapName }).put(shared)]);
    expect(results.filter((x) => x === 'queued')).toHaveLength(3);
    expect(results.filter((x) => x === 'already-queued')).toHaveLength(1);
    expect(sync.items(mapName)).toHaveLength(3);
  });

  it('list pages through 250 rows and returns exactly what was put', async () => {
    const mapName = freshMap();
    const q = queue({ mapName });
    const put = Array.from({ length: 250 }, (_, i) => row(undefined, { n: String(i) }));
    for (let i = 0; i < put.length; i += 25) await Promise.all(put.slice(i, i + 25).map((r) => q.put(r)));
    await prism.settled();
    const [before, logged] = [sync.requests(), prism.output().length];
    const listed = await collect(q.list());
    expect(sync.requests() - before).toBe(3); // pages of 100, 100, 50
    const byKey = (a: PendingRow, b: PendingRow) => (a.executionSid < b.executionSid ? -1 : 1);
    expect(listed.sort(byKey)).toEqual([...put].sort(byKey));
    // Every page went through Prism: next_page_url is kept on the configured root.
    await prism.settled();
    expect(prism.output().slice(logged).match(/\] get \/v1\/Services\/\S+\/Items\s.*Request received/g)).toHaveLength(3);
  });

  it('list of a map never written to is empty (and the map now exists)', async () => {
    const mapName = freshMap();
    expect(await collect(queue({ mapName }).list(10))).toEqual([]);
    expect(await collect(queue({ mapName }).list(10))).toEqual([]);
  });

  it('list refuses a page size Sync does not allow', async () => {
    await expect(collect(queue().list(101))).rejects.toThrow(RangeError);
  });

  it('list names the key of an item that is not a queued row, without quoting it', async () => {
    const mapName = freshMap();
    const q = queue({ mapName });
    await q.put(row());
    const response = await fetch(`${prism.url}/v1/Services/default/Maps/${mapName}/Items`, {
      method: 'POST',
      headers: { authorization: authHeader, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Key: 'FNforeign', Data: JSON.stringify({ note: SENTINEL }) }).toString(),
    });
    expect(response.status).toBe(201);
    const error = await queueError(collect(q.list()));
    expect(error.code).toBe('REJECTED');
    expect(error.message).toContain('FNforeign');
  });

  it('remove deletes the item and is idempotent', async () => {
    const mapName = freshMap();
    const q = queue({ mapName });
    const [a, b] = [row(), row()];
    await q.put(a);
    await q.put(b);
    await q.remove(a.executionSid);
    expect(sync.items(mapName).map((i) => i.key)).toEqual([b.executionSid]);
    await q.remove(a.executionSid);
    await q.remove(executionSid());
    expect((await collect(q.list())).map((r) => r.executionSid)).toEqual([b.executionSid]);
  });

  it('a row over 16 KiB is TOO_LARGE before any request; one at the limit is queued', async () => {
    const mapName = freshMap();
    const q = queue({ mapName });
    const sid = executionSid();
    const base = row(sid, { big: '' });
    const overhead = Buffer.byteLength(JSON.stringify({ v: 1, columns: base.columns, queuedAt: base.queuedAt }));
    const atLimit: PendingRow = { ...base, columns: { ...base.columns, big: 'x'.repeat(MAX_ITEM_BYTES - overhead) } };
    const over: PendingRow = { ...base, columns: { ...base.columns, big: 'x'.repeat(MAX_ITEM_BYTES - overhead + 1) } };
    const before = sync.requests();
    const error = await queueError(q.put(over));
    expect(error.code).toBe('TOO_LARGE');
    expect(sync.requests()).toBe(before);
    expect(await q.put(atLimit)).toBe('queued');
    expect(sync.items(mapName)).toHaveLength(1);
  });

  it('a wrong auth token is AUTH', async () => {
    const error = await queueError(queue({ authToken: 'not-the-token' }).put(row()));
    expect(error.code).toBe('AUTH');
    expect(error.message).toContain('ACCOUNT_SID/AUTH_TOKEN');
    expect((await queueError(collect(queue({ authToken: 'not-the-token' }).list()))).code).toBe('AUTH');
  });

  it('a Sync service that does not exist is SERVICE_NOT_FOUND', async () => {
    const error = await queueError(queue({ serviceSid: 'nosuchservice' }).put(row()));
    expect(error.code).toBe('SERVICE_NOT_FOUND');
    expect(error.message).toContain('SYNC_SERVICE_SID');
    expect((await queueError(collect(queue({ serviceSid: 'nosuchservice' }).list()))).code).toBe('SERVICE_NOT_FOUND');
  });

  it('an unreachable Sync API is UNREACHABLE', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const q = queue({ apiUrl: closed, timeoutMs: 2000 });
    expect((await queueError(q.put(row()))).code).toBe('UNREACHABLE');
    expect((await queueError(collect(q.list()))).code).toBe('UNREACHABLE');
    expect((await queueError(q.remove(executionSid()))).code).toBe('UNREACHABLE');
  });

  it('a Sync API that does not answer in time is UNREACHABLE', async () => {
    const silent = createNetServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', () => ok()));
    try {
      const q = queue({ apiUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 300 });
      const error = await queueError(q.put(row()));
      expect(error.code).toBe('UNREACHABLE');
      expect(error.message).toContain('no answer within 300 ms');
    } finally {
      silent.close();
    }
  });

  it('errors come in Twilio\'s shape', async () => {
    const response = await fetch(`${prism.url}/v1/Services/default/Maps/${PENDING_MAP}/Items/FNmissing`, { headers: { authorization: authHeader } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ code: 20404, message: expect.any(String), more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 });
  });

  it('stand-in bodies carry every property the document lists (it marks none required, so Prism cannot tell)', async () => {
    const spec = JSON.parse(readFileSync(SPEC, 'utf8'));
    const schemas = spec.components.schemas;
    const listSchema = spec.paths['/v1/Services/{ServiceSid}/Maps/{MapSid}/Items'].get.responses['200'].content['application/json'].schema;
    const properties = (schema: { properties: object }) => Object.keys(schema.properties).sort();
    const mapName = freshMap();
    const r = row();
    await queue({ mapName }).put(r);
    const get = async (path: string): Promise<any> => (await fetch(`${prism.url}/v1/Services/default/Maps/${path}`, { headers: { authorization: authHeader } })).json();
    const map = await get(mapName);
    const item = await get(`${mapName}/Items/${r.executionSid}`);
    const list = await get(`${mapName}/Items?PageSize=1`);
    expect(Object.keys(map).sort()).toEqual(properties(schemas['sync.v1.service.sync_map']));
    expect(Object.keys(item).sort()).toEqual(properties(schemas['sync.v1.service.sync_map.sync_map_item']));
    expect(Object.keys(list).sort()).toEqual(properties(listSchema));
    expect(Object.keys(list.meta).sort()).toEqual(properties(listSchema.properties.meta));
    expect(list.items).toEqual([item]);
  });

  it('Prism saw no contract violation in any request or response above', async () => {
    await prism.settled();
    // Twilio's document declares no error responses, so each 401/404/409 above draws this warning and nothing more.
    expect(prism.violations().filter((v) => !isUndeclaredErrorStatus(v))).toEqual([]);
    expect(prism.violations().length).toBeGreaterThan(0);
  });

  it('the Prism harness catches a request that breaks the document (so the check above can fail)', async () => {
    const seen = prism.violations().length;
    const response = await fetch(`${prism.url}/v1/Services/default/Maps/${PENDING_MAP}/Items`, {
      method: 'POST',
      headers: { authorization: authHeader, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Data=%7B%7D',
    });
    expect(response.status).toBe(422);
    await vi.waitFor(() => expect(prism.violations().slice(seen)).toEqual([{ severity: 'error', message: expect.stringContaining('UNPROCESSABLE_ENTITY') }]));
  });

  it('the Prism harness catches map and item responses that break the document', async () => {
    // An upstream answering with one wrong type in each body.
    const wrong = createServer((req, res) => {
      const item = { key: 'k', account_sid: ACCOUNT_SID, service_sid: `IS${'0'.repeat(32)}`, map_sid: `MP${'0'.repeat(32)}`, url: 'http://x/k', revision: 3, data: {}, date_expires: null, date_created: null, date_updated: null, created_by: 'system' };
      const body = req.url?.endsWith('/Maps')
        ? { sid: `MP${'0'.repeat(32)}`, unique_name: 'm', account_sid: ACCOUNT_SID, service_sid: `IS${'0'.repeat(32)}`, url: 'http://x/m', links: {}, revision: '0', date_expires: null, date_created: null, date_updated: null, created_by: 7 }
        : req.url?.includes('/Items/') || req.method === 'POST'
          ? item
          : { items: [item], meta: { page: 0, page_size: 50, first_page_url: 'http://x/', previous_page_url: null, url: 'http://x/', next_page_url: null, key: 'items' } };
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((ok) => wrong.listen(0, '127.0.0.1', () => ok()));
    const checked = await startPrismProxy(SPEC, `http://127.0.0.1:${(wrong.address() as AddressInfo).port}`);
    try {
      const headers = { authorization: authHeader, 'content-type': 'application/x-www-form-urlencoded' };
      const statuses = [
        (await fetch(`${checked.url}/v1/Services/default/Maps`, { method: 'POST', headers, body: 'UniqueName=m' })).status,
        (await fetch(`${checked.url}/v1/Services/default/Maps/m/Items/k`, { headers })).status,
        (await fetch(`${checked.url}/v1/Services/default/Maps/m/Items`, { headers })).status,
      ];
      expect(statuses).toEqual([500, 500, 500]);
      await checked.settled();
      expect(checked.violations().map((v) => v.message)).toEqual(Array(3).fill(expect.stringContaining('VIOLATIONS')));
      const error = await queueError(syncQueue({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiUrl: checked.url }).put(row()));
      expect(error.message).toContain('HTTP 500');
    } finally {
      await checked.stop();
      await new Promise((ok) => wrong.close(ok));
    }
  });
});
