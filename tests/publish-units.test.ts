// The decisions inside publish and flush, one by one.
import { describe, expect, it } from 'vitest';
import { readPublishConfig, PublishConfigError } from '../src/publish/config.js';
import { readResponse } from '../src/publish/row.js';
import { columnFinder, guardResponse, planRow } from '../src/publish/header.js';
import { sealResponse } from '../src/envelope/index.js';
import { recipientOf } from '../src/keys/keys.js';
import { backoffMs, classify, retryAfterMs } from '../src/sheets/retry.js';
import { parseSpreadsheetId, SheetTable } from '../src/sheets/table.js';
import { startSheetsServer, testServiceAccount } from '../src/dev/sheets-server.js';
import { sheetsClient } from '../src/sheets/client.js';
import { duplicateRows, flushQueue } from '../src/publish/flush.js';
import { QueueError } from '../src/queue/sync-queue.js';
import { formatPublicKey } from '../src/keys/keys.js';
import { seal, surveyKey } from './helpers/publish-stack.js';

const netError = (code: string) => Object.assign(new Error('x'), { cause: Object.assign(new Error('y'), { code }) });
const httpError = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error('x'), { status, response: { status, headers: new Headers(headers) } });

describe('retry decisions', () => {
  it('retries quota and server errors', () => {
    for (const s of [429, 500, 502, 503, 504]) expect(classify(httpError(s))).toMatchObject({ retry: true, reason: `HTTP ${s}` });
  });
  it('does not retry other 4xx', () => {
    for (const s of [400, 401, 403, 404]) expect(classify(httpError(s))).toMatchObject({ retry: false, status: s });
  });
  it('retries resets, timeouts and refused connections, naming them', () => {
    expect(classify(netError('ECONNRESET'))).toMatchObject({ retry: true, reason: 'ECONNRESET' });
    expect(classify(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }))).toMatchObject({ retry: true, reason: 'AbortError' });
    expect(classify(netError('ECONNREFUSED'))).toMatchObject({ retry: true, reason: 'ECONNREFUSED' });
  });
  it('honours Retry-After in seconds and as a date', () => {
    expect(classify(httpError(429, { 'retry-after': '3' }))).toMatchObject({ retryAfterMs: 3000 });
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

const SID = `FN${'a'.repeat(32)}`;
const sealedPii = (columns: string[]) => ({ columns, kid: surveyKey.kid, mode: 'sealed' as const });
const settings = (columns: string[], extra: Partial<{ autoHeaders: boolean; missingValue: string }> = {}) => ({ pii: sealedPii(columns), autoHeaders: false, missingValue: '', ...extra });
const respond = (columns: Record<string, string>) => ({ executionSid: SID, columns: { execution_sid: SID, ...columns } });
const code = (v: unknown) => (v && typeof v === 'object' && 'code' in v ? (v as { code: string }).code : undefined);

describe('rows', () => {
  it('lays fields on header text or the same name ignoring case and spacing; plain gaps get the placeholder, PII gaps stay empty', () => {
    const header = ['received_at', 'execution_sid', 'Full Name', 'AGE', 'name', ''];
    const plan = planRow(respond({ Full_Name: 'x', age: '34' }), header, settings(['name'], { missingValue: 'No Data' }));
    expect(plan).toEqual({ header, extendsHeader: false, values: ['No Data', SID, 'x', '34', ''] });
    expect(columnFinder(header)('full_name')).toBe(2);
  });
  it('refuses a parameter with no column (422 UNMAPPED_FIELDS) unless SHEET_AUTO_HEADERS adds it', () => {
    const header = ['received_at', 'execution_sid', 'q'];
    const refused = planRow(respond({ q: 'a', colour: 'red' }), header, settings([]));
    expect(refused).toMatchObject({ status: 422, code: 'UNMAPPED_FIELDS' });
    expect((refused as { message: string }).message).toContain('"colour"');
    expect(planRow(respond({ q: 'a', colour: 'red' }), header, settings([], { autoHeaders: true }))).toMatchObject({ header: [...header, 'colour'], extendsHeader: true });
  });
  it('names the PII_COLUMNS entries the header lacks (500), and requires execution_sid and a header', () => {
    const problem = planRow(respond({}), ['received_at', 'execution_sid', 'name'], settings(['name', 'phone', 'Téléphone']));
    expect(problem).toMatchObject({ status: 500, code: 'PII_COLUMNS_NOT_IN_SHEET' });
    expect((problem as { message: string }).message).toContain('"phone", "Téléphone"');
    // NFD spelling in the header, NFC in PII_COLUMNS: the same column.
    expect(code(planRow(respond({}), ['execution_sid', 'Te\u0301le\u0301phone'], settings(['Téléphone'])))).toBeUndefined();
    expect(code(planRow(respond({ q: 'a' }), ['q'], settings([])))).toBe('NO_EXECUTION_SID_COLUMN');
    expect(code(planRow(respond({}), [], settings([])))).toBe('SHEET_HAS_NO_HEADER');
  });
  it('accepts SHEET_ID as an ID or a URL, and nothing else', () => {
    const id = '1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd';
    expect(parseSpreadsheetId(id)).toBe(id);
    expect(parseSpreadsheetId(`https://docs.google.com/spreadsheets/d/${id}/edit#gid=0`)).toBe(id);
    expect(parseSpreadsheetId('my sheet')).toBeUndefined();
  });
  it('guards PII columns by name however the parameter spells it: tokens for this key and field only', () => {
    const pii = sealedPii(['name', 'Phone Number']);
    const sealed = seal({ name: 'A', Phone_Number: '1' });
    expect(guardResponse(respond({ name: sealed.name as string, Phone_Number: sealed.Phone_Number as string }), pii)).toBeUndefined();
    expect(guardResponse(respond({ name: '' }), pii)).toBeUndefined();
    for (const spelled of ['name', 'Name', 'NAME', 'phone_number', 'PHONE_NUMBER']) {
      expect(guardResponse(respond({ [spelled]: 'Amina' }), pii), spelled).toMatchObject({ status: 422, code: 'PII_NOT_ENCRYPTED' });
    }
    expect(guardResponse(respond({ name: seal({ other: 'A' }).other as string }), pii)?.message).toContain('field "other"');
  });
  it('refuses a row whose tokens are not one response of this execution', () => {
    const pii = sealedPii(['name', 'phone']);
    const a = seal({ name: 'A', phone: '1' });
    const b = seal({ name: 'B', phone: '2' });
    expect(guardResponse(respond({ name: a.name as string, phone: b.phone as string }), pii)).toMatchObject({ status: 422, code: 'RESPONSE_MISMATCH' });
    const other = Object.fromEntries(sealResponse([['name', 'A'], ['phone', '1']], recipientOf(surveyKey), undefined, `FN${'b'.repeat(32)}`));
    expect(guardResponse(respond(other), pii)).toMatchObject({ status: 422, code: 'EXECUTION_MISMATCH' });
    const own = Object.fromEntries(sealResponse([['name', 'A'], ['phone', '1']], recipientOf(surveyKey), undefined, SID));
    expect(guardResponse(respond(own), pii)).toBeUndefined();
  });
  it('stamps received_at and requires a SID in execution_sid', () => {
    const r = readResponse({ execution_sid: SID, q1: 'yes' }, new Date('2026-01-02T03:04:05Z'));
    expect(r).toEqual({ executionSid: SID, columns: { received_at: '2026-01-02T03:04:05.000Z', execution_sid: SID, q1: 'yes' } });
    expect(readResponse({ q1: 'yes' })).toMatchObject({ status: 400, code: 'EXECUTION_SID_REQUIRED' });
  });
  it('finds execution_sid values written to more than one row, by sheet row number', () => {
    expect(duplicateRows(['FN1', 'FN2', '', 'FN1', 'FN3', 'FN1', 'FN2'])).toEqual([
      { executionSid: 'FN1', rows: [2, 5, 7] },
      { executionSid: 'FN2', rows: [3, 8] },
    ]);
  });
});

describe('configuration', () => {
  const base = {
    SHEET_ID: 'x'.repeat(44),
    GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify({ type: 'service_account', client_email: 'a@b.c', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' }),
    PII_COLUMNS: 'name, Phone Number',
    SURVEY_PUBLIC_KEY: formatPublicKey(surveyKey.pair.publicRaw),
    ACCOUNT_SID: `AC${'1'.repeat(32)}`,
    AUTH_TOKEN: 'secret',
  };
  it('reads a complete configuration', () => {
    const c = readPublishConfig(base);
    expect(c.pii.columns).toEqual(['name', 'Phone Number']);
    expect(c.pii.kid).toBe(surveyKey.kid);
    expect(c.deadlineMs).toBe(8000);
    expect(c.sync).toEqual({ accountSid: base.ACCOUNT_SID, authToken: 'secret', serviceSid: 'default' });
  });
  const broken: Array<[string, Record<string, string | undefined>, string]> = [
    ['no SHEET_ID', { SHEET_ID: undefined }, 'SHEET_ID'],
    ['no PII_COLUMNS', { PII_COLUMNS: undefined }, 'PII_COLUMNS'],
    ['PII columns without a key', { SURVEY_PUBLIC_KEY: undefined }, 'SURVEY_PUBLIC_KEY'],
    ['both keys', { SURVEY_SECRET_KEY: 'x' }, 'exactly one'],
    ['a deadline past Studio\'s 10 s', { PUBLISH_DEADLINE_MS: '12000' }, 'PUBLISH_DEADLINE_MS'],
    ['a non-JSON key', { GOOGLE_SERVICE_ACCOUNT_JSON: 'abc' }, 'GOOGLE_SERVICE_ACCOUNT_JSON is not JSON'],
    ['no key at all', { GOOGLE_SERVICE_ACCOUNT_JSON: undefined }, 'google-service-account.private.json'],
    ['no Twilio credentials (no Sync, so no exactly-once)', { ACCOUNT_SID: undefined, AUTH_TOKEN: undefined }, 'ACCOUNT_SID and AUTH_TOKEN are not set'],
    ['an ACCOUNT_SID that is not one', { ACCOUNT_SID: 'ACnot-a-sid' }, 'ACCOUNT_SID is not an Account SID'],
    ['a bad SYNC_SERVICE_SID', { SYNC_SERVICE_SID: 'IS1' }, 'SYNC_SERVICE_SID'],
  ];
  for (const [what, change, mention] of broken) {
    it(`refuses ${what}, naming it`, () => {
      expect(() => readPublishConfig({ ...base, ...change })).toThrow(PublishConfigError);
      expect(() => readPublishConfig({ ...base, ...change })).toThrow(mention);
    });
  }
  it('names the variable to fix on every configuration error', () => {
    try {
      readPublishConfig({ ...base, ACCOUNT_SID: 'ACnot-a-sid' });
    } catch (error) {
      expect((error as PublishConfigError).configVariable).toBe('ACCOUNT_SID');
    }
    expect.assertions(1);
  });
  it('allows a sheet without personal data only when PII_COLUMNS=- says so', () => {
    expect(readPublishConfig({ ...base, PII_COLUMNS: '-', SURVEY_PUBLIC_KEY: undefined }).pii.columns).toEqual([]);
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
      // In-memory claims: each execution its own row after the header.
      const claimed = new Map<string, { row: number; receivedAt: string }>();
      const claims = {
        get: async (sid: string) => claimed.get(sid),
        async claim(sid: string, receivedAt: string, firstRow: () => Promise<number>) {
          const base = await firstRow();
          const existing = claimed.get(sid);
          if (existing) return { ...existing, fresh: false };
          const claim = { row: base + claimed.size, receivedAt };
          claimed.set(sid, claim);
          return { ...claim, fresh: true };
        },
        async *list() {},
      };
      const settings = { pii: { columns: [], kid: undefined, mode: undefined }, missingValue: '', autoHeaders: false };
      const report = await flushQueue(new SheetTable(client, { spreadsheetId }), { queue, claims }, settings, { batchSize: 100, removalsPerSecond: 20, backoff: { baseMs: 10, capMs: 20 } });
      expect(report.written).toBe(30);
      expect(report.writeRequests).toBe(1);
      const stored = (await client.spreadsheets.values.get({ spreadsheetId, range: 'B2:B' })).data.values?.map((r) => r[0]);
      expect(stored).toEqual(rows.map((r) => r.executionSid));
      expect(removedAt).toHaveLength(30);
      // 30 removals at 20/s: no 1-second window holds more than 21 of them.
      const busiest = Math.max(...removedAt.map((t) => removedAt.filter((u) => u >= t && u < t + 1000).length));
      expect(busiest).toBeLessThanOrEqual(21);
    } finally {
      await server.stop();
    }
  });
});
