// Row claims with the real twilio client, through Prism validating every
// request and response against Twilio's Sync OpenAPI document, to the local
// Sync stand-in. Separate rowClaims instances stand for separate Function
// instances (or a restarted one): they share nothing but Sync.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer, type RunningSyncServer } from '../src/dev/sync-server.js';
import { BASE_KEY, rowClaims, type Claim, type RowClaimsOptions } from '../src/queue/row-claims.js';
import { QueueError } from '../src/queue/sync-queue.js';
import { ACCOUNT_SID, AUTH_TOKEN, SENTINEL } from './helpers/functions.js';
import { isUndeclaredErrorStatus, startPrismProxy, SYNC_SPEC, type RunningPrism } from './helpers/prism.js';

let sync: RunningSyncServer;
let prism: RunningPrism;

beforeAll(async () => {
  sync = await startSyncServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  prism = await startPrismProxy(SYNC_SPEC, sync.url);
});

afterAll(async () => {
  await prism?.stop();
  await sync?.stop();
});

let pairs = 0;
/** A claims Map and positions List no test has used. */
const freshNames = () => {
  pairs += 1;
  return { mapName: `claims-${pairs}`, listName: `positions-${pairs}` };
};
const claims = (names: { mapName: string; listName: string }, options: Partial<RowClaimsOptions> = {}) =>
  rowClaims({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiUrl: prism.url, ...names, ...options });
const executionSid = () => `FN${randomBytes(16).toString('hex')}`;
const receivedAt = () => new Date().toISOString();

/** A firstRow callback that answers `row` and counts its calls. */
function firstRow(row: number) {
  const fn = async () => {
    fn.calls += 1;
    return row;
  };
  fn.calls = 0;
  return fn;
}

const authHeader = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;
/** A request straight through Prism, as another tool (or the Console) would make it. */
const raw = (method: string, path: string, form?: Record<string, string>) =>
  fetch(`${prism.url}/v1/Services/default/${path}`, {
    method,
    headers: { authorization: authHeader, 'content-type': 'application/x-www-form-urlencoded' },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });

/** The QueueError a call rejects with; its message must never quote a value. */
async function queueError(call: Promise<unknown>): Promise<QueueError> {
  const error = await call.then(
    () => expect.fail('expected a QueueError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QueueError);
  expect((error as QueueError).message).not.toContain(SENTINEL);
  return error as QueueError;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The row every List position stands for, by the execution it was taken for. */
function positions(names: { mapName: string; listName: string }): Array<{ sid: unknown; row: number }> {
  const base = sync.items(names.mapName).find((i) => i.key === BASE_KEY)?.data as { row: number };
  return sync.listItems(names.listName).map((i) => ({ sid: (i.data as { sid: unknown }).sid, row: base.row + i.index }));
}

describe('rowClaims → Prism → Sync stand-in', () => {
  it('the first claim creates the Map, the List and the first row; a repeat gets the same row', async () => {
    const names = freshNames();
    const c = claims(names);
    const sid = executionSid();
    const at = receivedAt();
    const first = firstRow(2);
    expect(await c.get(sid)).toBeUndefined();
    expect(await c.claim(sid, at, first)).toEqual({ row: 2, receivedAt: at, fresh: true });
    expect(await c.claim(sid, receivedAt(), first)).toEqual({ row: 2, receivedAt: at, fresh: false });
    expect(await c.get(sid)).toEqual({ row: 2, receivedAt: at });
    expect(first.calls).toBe(1);
    expect(sync.items(names.mapName)).toEqual([
      { key: sid, data: { v: 1, row: 2, receivedAt: at } },
      { key: BASE_KEY, data: { v: 1, row: 2, list: expect.stringMatching(/^ES[0-9a-f]{32}$/) } },
    ]);
    expect(sync.listItems(names.listName)).toEqual([{ index: 0, data: { sid } }]);
  });

  it('two instances claiming one execution at once get one row', async () => {
    const names = freshNames();
    await claims(names).claim(executionSid(), receivedAt(), firstRow(5));
    const sid = executionSid();
    const [a, b] = await Promise.all([claims(names).claim(sid, receivedAt(), firstRow(5)), claims(names).claim(sid, receivedAt(), firstRow(5))]);
    expect(a.row).toBe(b.row);
    expect(a.receivedAt).toBe(b.receivedAt);
    expect([a.fresh, b.fresh].sort()).toEqual([false, true]);
    expect(sync.items(names.mapName).filter((i) => i.key === sid)).toEqual([{ key: sid, data: { v: 1, row: a.row, receivedAt: a.receivedAt } }]);
    // Both took a position; the loser's stays a gap and the winner's is the row.
    expect(positions(names).filter((p) => p.sid === sid).map((p) => p.row)).toContain(a.row);
  });

  it('a claim another instance makes between our read and our create wins; our position stays a gap', async () => {
    const names = freshNames();
    const sid = executionSid();
    let theirs: Claim | undefined;
    // firstRow runs after our read found no claim (and no first row) and before our creates.
    const ours = await claims(names).claim(sid, receivedAt(), async () => {
      const { row, receivedAt: at } = await claims(names).claim(sid, receivedAt(), firstRow(3));
      theirs = { row, receivedAt: at };
      return 50;
    });
    expect(ours).toEqual({ ...theirs, fresh: false });
    expect(sync.items(names.mapName)).toEqual([
      { key: sid, data: { v: 1, ...theirs } },
      { key: BASE_KEY, data: expect.objectContaining({ row: 3 }) },
    ]);
    expect(positions(names)).toEqual([
      { sid, row: 3 },
      { sid, row: 4 },
    ]);
  });

  it('200 concurrent claims of distinct executions over 4 instances get 200 distinct rows, each its List position', async () => {
    const names = freshNames();
    const instances = Array.from({ length: 4 }, () => claims(names));
    const sids = Array.from({ length: 200 }, executionSid);
    const got = await Promise.all(sids.map((sid, i) => (instances[i % 4] as (typeof instances)[number]).claim(sid, receivedAt(), firstRow(10))));
    expect(got.every((g) => g.fresh)).toBe(true);
    expect(new Set(got.map((g) => g.row)).size).toBe(200);
    expect(Math.min(...got.map((g) => g.row))).toBeGreaterThanOrEqual(10);
    const bySid = new Map(positions(names).map((p) => [p.sid, p.row]));
    expect(got.map((g) => g.row)).toEqual(sids.map((sid) => bySid.get(sid)));
    // list() pages through them all (201 items with _base: 3 requests) and leaves _base out.
    const before = sync.requests();
    const listed = await collect(claims(names).list());
    expect(sync.requests() - before).toBe(3);
    const key = (x: { executionSid: string }) => x.executionSid;
    expect(listed.sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
      sids.map((sid, i) => ({ executionSid: sid, row: got[i]?.row, receivedAt: got[i]?.receivedAt })).sort((x, y) => key(x).localeCompare(key(y))),
    );
  });

  it('the first row is decided once when many instances claim at once on an empty service', async () => {
    const names = freshNames();
    const offers = Array.from({ length: 8 }, (_, i) => firstRow(2 + 1000 * i));
    const instances = offers.map(() => claims(names));
    const got = await Promise.all(instances.flatMap((c, i) => Array.from({ length: 5 }, () => c.claim(executionSid(), receivedAt(), offers[i] as ReturnType<typeof firstRow>))));
    // Each instance asked at most once, however many of its claims ran at once.
    expect(offers.every((o) => o.calls <= 1)).toBe(true);
    const base = sync.items(names.mapName).find((i) => i.key === BASE_KEY)?.data as { row: number };
    expect(offers.map((_, i) => 2 + 1000 * i)).toContain(base.row);
    expect(got.every((g) => g.row >= base.row)).toBe(true);
    expect(new Set(got.map((g) => g.row)).size).toBe(40);
    expect(got.map((g) => g.row).sort((x, y) => x - y)).toEqual(positions(names).map((p) => p.row).sort((x, y) => x - y));
  });

  it('claims survive a new instance (a restart): same rows, no new first row, new rows after the old', async () => {
    const names = freshNames();
    const before = claims(names);
    const sids = Array.from({ length: 5 }, executionSid);
    const old: Claim[] = [];
    for (const sid of sids) {
      const { row, receivedAt: at } = await before.claim(sid, receivedAt(), firstRow(2));
      old.push({ row, receivedAt: at });
    }
    const after = claims(names);
    const noFirstRow = firstRow(999);
    for (const [i, sid] of sids.entries()) {
      expect(await after.get(sid)).toEqual(old[i]);
      expect(await after.claim(sid, receivedAt(), noFirstRow)).toEqual({ ...old[i], fresh: false });
    }
    const next = await after.claim(executionSid(), receivedAt(), noFirstRow);
    expect(noFirstRow.calls).toBe(0);
    expect(next.fresh).toBe(true);
    expect(next.row).toBeGreaterThan(Math.max(...old.map((c) => c.row)));
  });

  it('a claim whose data is not a row claim is a clear REJECTED error naming the key, not the value', async () => {
    const names = freshNames();
    const c = claims(names);
    await c.claim(executionSid(), receivedAt(), firstRow(2));
    const sid = executionSid();
    expect((await raw('POST', `Maps/${names.mapName}/Items`, { Key: sid, Data: JSON.stringify({ v: 1, row: SENTINEL, receivedAt: 'x' }) })).status).toBe(201);
    for (const call of [() => c.get(sid), () => c.claim(sid, receivedAt(), firstRow(2)), () => collect(c.list())]) {
      const error = await queueError(call());
      expect(error.code).toBe('REJECTED');
      expect(error.message).toContain(sid);
      expect(error.message).toContain(`Sync Map ${names.mapName}`);
      expect(error.message).toMatch(/check row, receivedAt/);
    }
  });

  it('a first-row item that is not one is a clear REJECTED error', async () => {
    const names = freshNames();
    expect((await raw('POST', 'Maps', { UniqueName: names.mapName })).status).toBe(201);
    expect((await raw('POST', `Maps/${names.mapName}/Items`, { Key: BASE_KEY, Data: JSON.stringify({ v: 1, row: 2, note: SENTINEL }) })).status).toBe(201);
    const error = await queueError(claims(names).claim(executionSid(), receivedAt(), firstRow(2)));
    expect(error.code).toBe('REJECTED');
    expect(error.message).toContain(`"${BASE_KEY}"`);
    expect(error.message).toContain('check list');
  });

  it('a List deleted and created again (indexes from 0 again) stops claiming instead of repeating rows', async () => {
    const names = freshNames();
    const c = claims(names);
    const first = await c.claim(executionSid(), receivedAt(), firstRow(2));
    expect((await raw('DELETE', `Lists/${names.listName}`)).status).toBe(204);
    for (const instance of [c, claims(names)]) {
      const error = await queueError(instance.claim(executionSid(), receivedAt(), firstRow(2)));
      expect(error.code).toBe('REJECTED');
      expect(error.message).toContain('deleted and created again');
    }
    expect(sync.items(names.mapName).map((i) => (i.data as Claim).row)).toEqual([first.row, 2]);
  });

  it('a claim whose answer is lost (stored, never answered) is found by the retry, not claimed twice', async () => {
    const names = freshNames();
    const c = claims(names);
    await c.claim(executionSid(), receivedAt(), firstRow(2));
    const sid = executionSid();
    sync.setFaults({ kinds: ['timeout-after-write'], only: { method: 'POST', resource: 'map-items' }, count: 1 });
    try {
      // The timeout only ends the wait for an answer that never comes.
      const error = await queueError(claims(names, { timeoutMs: 2000 }).claim(sid, receivedAt(), firstRow(2)));
      expect(error.message).toContain('no answer within 2000 ms');
    } finally {
      sync.setFaults(undefined);
    }
    expect(sync.faultsInjected()['timeout-after-write']).toBe(1);
    const stored = sync.items(names.mapName).find((i) => i.key === sid)?.data as Claim;
    expect(await c.claim(sid, receivedAt(), firstRow(2))).toEqual({ row: stored.row, receivedAt: stored.receivedAt, fresh: false });
    expect(sync.items(names.mapName).filter((i) => i.key === sid)).toHaveLength(1);
  });

  it('Sync unavailable while taking a position is UNREACHABLE, claims nothing, and a retry claims', async () => {
    const names = freshNames();
    const c = claims(names);
    await c.claim(executionSid(), receivedAt(), firstRow(2));
    const sid = executionSid();
    sync.setFaults({ kinds: [503], only: { method: 'POST', resource: 'list-items' }, count: 1 });
    try {
      const error = await queueError(c.claim(sid, receivedAt(), firstRow(2)));
      expect(error.code).toBe('UNREACHABLE');
      expect(error.message).toContain('HTTP 503');
    } finally {
      sync.setFaults(undefined);
    }
    expect(sync.faultsInjected()['503']).toBeGreaterThanOrEqual(1);
    expect(await c.get(sid)).toBeUndefined();
    expect((await c.claim(sid, receivedAt(), firstRow(2))).fresh).toBe(true);
  });

  it("firstRow's own error passes through unchanged, and a later claim asks again", async () => {
    const names = freshNames();
    const c = claims(names);
    const sheetDown = new Error('the sheet could not be read');
    await expect(c.claim(executionSid(), receivedAt(), () => Promise.reject(sheetDown))).rejects.toBe(sheetDown);
    const first = firstRow(7);
    expect((await c.claim(executionSid(), receivedAt(), first)).row).toBe(7);
    expect(first.calls).toBe(1);
  });

  it('bad input is refused before any request', async () => {
    const names = freshNames();
    const c = claims(names);
    const before = sync.requests();
    for (const sid of [BASE_KEY, '_other', 'FN/../x', '']) {
      expect((await queueError(c.claim(sid, receivedAt(), firstRow(2)))).code).toBe('REJECTED');
      expect((await queueError(c.get(sid))).code).toBe('REJECTED');
    }
    expect((await queueError(c.claim(executionSid(), 'yesterday', firstRow(2)))).message).toContain('receivedAt must be an ISO 8601 timestamp');
    expect(sync.requests()).toBe(before);
    await expect(c.claim(executionSid(), receivedAt(), firstRow(0))).rejects.toThrow(/firstRow must resolve to a whole row number/);
    expect(() => claims({ mapName: 'same', listName: 'same' })).toThrow(/must differ/);
    expect(() => claims({ mapName: 'a/b', listName: 'c' })).toThrow(/only letters, digits/);
  });

  it('a Sync service that does not exist is SERVICE_NOT_FOUND', async () => {
    const c = claims(freshNames(), { serviceSid: 'nosuchservice' });
    for (const call of [() => c.claim(executionSid(), receivedAt(), firstRow(2)), () => collect(c.list())]) {
      const error = await queueError(call());
      expect(error.code).toBe('SERVICE_NOT_FOUND');
      expect(error.message).toContain('SYNC_SERVICE_SID');
    }
  });

  it('a wrong auth token is AUTH', async () => {
    const c = claims(freshNames(), { authToken: 'not-the-token' });
    for (const call of [() => c.get(executionSid()), () => c.claim(executionSid(), receivedAt(), firstRow(2)), () => collect(c.list())]) {
      const error = await queueError(call());
      expect(error.code).toBe('AUTH');
      expect(error.message).toContain('ACCOUNT_SID/AUTH_TOKEN');
    }
  });

  it('Prism saw no contract violation in any request or response above', async () => {
    await prism.settled();
    expect(prism.violations().filter((v) => !isUndeclaredErrorStatus(v))).toEqual([]);
  });
});
