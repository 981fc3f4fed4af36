// The pending queue with the real twilio client, through Prism validating
// every request and response against Twilio's Sync OpenAPI document, to the
// local Sync stand-in.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../src/dev/functions-server.js';
import { startSyncServer } from '../src/dev/sync-server.js';
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
