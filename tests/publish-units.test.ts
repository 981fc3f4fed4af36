// The decisions inside publish and flush, one by one.
import { describe, expect, it } from 'vitest';
import { readPublishConfig, PublishConfigError } from '../src/publish/config.js';
import { checkPii, headerIndex, readResponse, toRow, unmappedFields } from '../src/publish/row.js';
import { backoffMs, classify, retryAfterMs } from '../src/sheets/retry.js';
import { parseSpreadsheetId, SheetTable } from '../src/sheets/table.js';
import { startSheetsServer, testServiceAccount } from '../src/dev/sheets-server.js';
import { sheetsClient } from '../src/sheets/client.js';
import { flushQueue } from '../src/publish/flush.js';
import { QueueError } from '../src/queue/sync-queue.js';
import { formatPublicKey } from '../src/keys/keys.js';
import { seal, surveyKey } from './helpers/publish-stack.js';

const netError = (code: string) => Object.assign(new Error('x'), { cause: Object.assign(new Error('y'), { code }) });
const httpError = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error('x'), { status, response: { status, headers: new Headers(headers) } });

describe('retry decisions', () => {
  it('retries quota and server errors; a 5xx on a write may hide the write, a 429 never does', () => {
    expect(classify(httpError(429), true)).toMatchObject({ retry: true, ambiguous: false });
    for (const s of [500, 502, 503, 504]) expect(classify(httpError(s), true)).toMatchObject({ retry: true, ambiguous: true });
    expect(classify(httpError(503), false)).toMatchObject({ retry: true, ambiguous: false });
  });
  it('does not retry other 4xx', () => {
    for (const s of [400, 401, 403, 404]) expect(classify(httpError(s), true)).toMatchObject({ retry: false, status: s });
  });
  it('treats resets and timeouts on writes as ambiguous, refused connections as not sent', () => {
    expect(classify(netError('ECONNRESET'), true)).toMatchObject({ retry: true, ambiguous: true });
    expect(classify(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), true)).toMatchObject({ retry: true, ambiguous: true });
    expect(classify(netError('ECONNREFUSED'), true)).toMatchObject({ retry: true, ambiguous: false });
  });
  it('honours Retry-After in seconds and as a date', () => {
    expect(classify(httpError(429, { 'retry-after': '3' }), true)).toMatchObject({ retryAfterMs: 3000 });
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(backoffMs({ baseMs: 100, capMs: 1000 }, 0, 2500, () => 0.5)).toBe(2500);
  });
  it('draws full jitter below an exponential ceiling, capped', () => {
    const p = { baseMs: 100, capMs: 1000 };
    expect(backoffMs(p, 0, undefined, () => 0.999)).toBe(99);
    expect(backoffMs(p, 3, undefined, () => 0.999)).toBe(799);
    expect(backoffMs(p, 20, undefined, () => 0.999)).toBe(999);
    expect(backoffMs(p, 20, undefined, () => 0)).toBe(0);
  });
});

describe('rows', () => {
  it('maps fields onto header text or the identifier it stands for, with a placeholder for missing answers', () => {
    const header = ['received_at', 'execution_sid', 'Full Name', 'age', ''];
    expect(headerIndex(header).get('Full_Name')).toBe(2);
    expect(toRow({ execution_sid: 'FN1', Full_Name: 'x' }, header, 'No Data')).toEqual(['No Data', 'FN1', 'x', 'No Data']);
    expect(unmappedFields({ execution_sid: 'FN1', colour: 'red' }, header)).toEqual(['colour']);
  });
  it('accepts SHEET_ID as an ID or a URL, and nothing else', () => {
    const id = '1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd';
    expect(parseSpreadsheetId(id)).toBe(id);
    expect(parseSpreadsheetId(`https://docs.google.com/spreadsheets/d/${id}/edit#gid=0`)).toBe(id);
    expect(parseSpreadsheetId('my sheet')).toBeUndefined();
  });
  it('guards PII columns: tokens for this key and field only', () => {
    const pii = { columns: new Set(['name']), kid: surveyKey.kid, mode: 'sealed' as const };
    expect(checkPii({ name: seal({ name: 'A' }).name as string }, pii)).toBeUndefined();
    expect(checkPii({ name: '' }, pii)).toBeUndefined();
    expect(checkPii({ name: 'Amina' }, pii)?.status).toBe(422);
    expect(checkPii({ name: seal({ other: 'A' }).other as string }, pii)?.message).toContain('field "other"');
  });
  it('stamps received_at and requires a SID in execution_sid', () => {
    const pii = { columns: new Set<string>(), kid: undefined, mode: undefined };
    const r = readResponse({ execution_sid: `FN${'a'.repeat(32)}`, q1: 'yes' }, pii, new Date('2026-01-02T03:04:05Z'));
    expect(r).toEqual({ executionSid: `FN${'a'.repeat(32)}`, columns: { received_at: '2026-01-02T03:04:05.000Z', execution_sid: `FN${'a'.repeat(32)}`, q1: 'yes' } });
    expect(readResponse({ q1: 'yes' }, pii)).toMatchObject({ status: 400, code: 'EXECUTION_SID_REQUIRED' });
  });
});

describe('configuration', () => {
  const base = {
    SHEET_ID: 'x'.repeat(44),
    GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify({ type: 'service_account', client_email: 'a@b.c', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' }),
    PII_COLUMNS: 'name, Phone Number',
    SURVEY_PUBLIC_KEY: formatPublicKey(surveyKey.pair.publicRaw),
  };
  it('reads a complete configuration', () => {
    const c = readPublishConfig(base);
    expect([...c.pii.columns]).toEqual(['name', 'Phone_Number']);
    expect(c.pii.kid).toBe(surveyKey.kid);
    expect(c.deadlineMs).toBe(8000);
    expect(c.queue).toBeUndefined();
  });
  const broken: Array<[string, Record<string, string | undefined>, string]> = [
    ['no SHEET_ID', { SHEET_ID: undefined }, 'SHEET_ID'],
    ['no PII_COLUMNS', { PII_COLUMNS: undefined }, 'PII_COLUMNS'],
    ['PII columns without a key', { SURVEY_PUBLIC_KEY: undefined }, 'SURVEY_PUBLIC_KEY'],
    ['both keys', { SURVEY_SECRET_KEY: 'x' }, 'exactly one'],
    ['a deadline past Studio\'s 10 s', { PUBLISH_DEADLINE_MS: '12000' }, 'PUBLISH_DEADLINE_MS'],
    ['a non-JSON key', { GOOGLE_SERVICE_ACCOUNT_JSON: 'abc' }, 'GOOGLE_SERVICE_ACCOUNT_JSON is not JSON'],
    ['no key at all', { GOOGLE_SERVICE_ACCOUNT_JSON: undefined }, 'google-service-account.private.json'],
  ];
  for (const [what, change, mention] of broken) {
    it(`refuses ${what}, naming it`, () => {
      expect(() => readPublishConfig({ ...base, ...change })).toThrow(PublishConfigError);
      expect(() => readPublishConfig({ ...base, ...change })).toThrow(mention);
    });
  }
  it('allows a sheet without personal data only when PII_COLUMNS=- says so', () => {
    expect(readPublishConfig({ ...base, PII_COLUMNS: '-', SURVEY_PUBLIC_KEY: undefined }).pii.columns.size).toBe(0);
  });
});

describe('flush pacing', () => {
  it('removes queue items no faster than --sync-rate, and retries a Sync hiccup', async () => {
    const server = await startSheetsServer();
    try {
      const client = sheetsClient({ account: await testServiceAccount(server), rootUrl: server.url });
      const created = await client.spreadsheets.create({ requestBody: {} });
      const spreadsheetId = created.data.spreadsheetId as string;
      await client.spreadsheets.values.update({ spreadsheetId, range: 'A1', valueInputOption: 'RAW', requestBody: { values: [['received_at', 'execution_sid', 'q']] } });
      const rows = Array.from({ length: 30 }, (_, i) => ({ executionSid: `FN${String(i).padStart(32, '0')}`, columns: { execution_sid: `FN${String(i).padStart(32, '0')}`, q: 'a' }, queuedAt: '2026-01-01T00:00:00Z' }));
      const removedAt: number[] = [];
      let hiccups = 1;
      const queue = {
        put: async () => 'queued' as const,
        async *list() {
          yield* rows;
        },
        async remove() {
          if (hiccups-- > 0) throw new QueueError('Sync busy', 'UNREACHABLE');
          removedAt.push(Date.now());
        },
      };
      const settings = { pii: { columns: new Set<string>(), kid: undefined, mode: undefined }, missingValue: '', autoHeaders: false };
      const report = await flushQueue(new SheetTable(client, { spreadsheetId }), queue, settings, { batchSize: 100, removalsPerSecond: 20, backoff: { baseMs: 10, capMs: 20 } });
      expect(report.written).toBe(30);
      expect(removedAt).toHaveLength(30);
      // 30 removals at 20/s: no 1-second window holds more than 21 of them.
      const busiest = Math.max(...removedAt.map((t) => removedAt.filter((u) => u >= t && u < t + 1000).length));
      expect(busiest).toBeLessThanOrEqual(21);
    } finally {
      await server.stop();
    }
  });
});
