import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount, type FaultKind, type RunningSheetsServer, type SheetsServerOptions } from '../src/dev/sheets-server.js';
import { columnLetter, formatA1, parseA1, quoteTab } from '../src/sheets/a1.js';
import { parseServiceAccount, sheetsClient } from '../src/sheets/client.js';

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const NO_RETRY = { retry: false } as const;
const tmp = () => mkdtempSync(join(tmpdir(), 'sheets-server-'));

const running: RunningSheetsServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function start(options: SheetsServerOptions = {}) {
  const server = await startSheetsServer(options);
  running.push(server);
  return { server, sheets: await client(server) };
}

async function client(server: RunningSheetsServer) {
  return sheetsClient({ account: await testServiceAccount(server), rootUrl: server.url });
}

type Sheets = Awaited<ReturnType<typeof client>>;

async function createSheet(sheets: Sheets, title = 'Responses'): Promise<string> {
  const res = await sheets.spreadsheets.create({ requestBody: { properties: { title: 'Survey' }, sheets: [{ properties: { title } }] } });
  return res.data.spreadsheetId as string;
}

interface Failure {
  status?: number;
  body?: { error?: { code: number; message: string; status: string } };
  headers?: Headers;
  code?: string;
}

/** The failure of a client call (fails the test if the call succeeds). */
async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    const e = error as { status?: number; code?: string; response?: { data?: Failure['body']; headers?: Headers } };
    return { ...(e.status !== undefined ? { status: e.status } : {}), ...(e.response?.data ? { body: e.response.data } : {}), ...(e.response?.headers ? { headers: e.response.headers } : {}), ...(e.code !== undefined ? { code: String(e.code) } : {}) };
  }
  throw new Error('expected the call to fail');
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }) => `${b64(header)}.${b64(claims)}.bm90LWEtc2lnbmF0dXJl`;
const grant = (server: RunningSheetsServer, assertion: string) =>
  fetch(server.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: JWT_GRANT, assertion }) });
const claims = (extra: Record<string, unknown> = {}) => ({ iss: 'a@b.iam.gserviceaccount.com', scope: SCOPE, aud: 'x', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600, ...extra });

describe('A1 notation', () => {
  it('parses the forms the Sheets API accepts', () => {
    expect(parseA1('Tab!A1:C3')).toEqual({ tab: 'Tab', startRow: 0, startCol: 0, endRow: 2, endCol: 2 });
    expect(parseA1("'Tab''s name'!A:A")).toEqual({ tab: "Tab's name", startRow: 0, startCol: 0, endCol: 0 });
    expect(parseA1("'My survey (2025)'!B2")).toEqual({ tab: 'My survey (2025)', startRow: 1, startCol: 1, endRow: 1, endCol: 1 });
    expect(parseA1("'It''s ''quoted'' !'!AA10:AB")).toEqual({ tab: "It's 'quoted' !", startRow: 9, startCol: 26, endCol: 27 });
    expect(parseA1('Tab!1:1')).toEqual({ tab: 'Tab', startRow: 0, startCol: 0, endRow: 0 });
    expect(parseA1('Tab!A2:Z')).toEqual({ tab: 'Tab', startRow: 1, startCol: 0, endCol: 25 });
    expect(parseA1('Responses')).toEqual({ tab: 'Responses', startRow: 0, startCol: 0 });
    expect(parseA1("'Tab''s name'")).toEqual({ tab: "Tab's name", startRow: 0, startCol: 0 });
    expect(parseA1('A1:B2')).toEqual({ startRow: 0, startCol: 0, endRow: 1, endCol: 1 });
    expect(parseA1('c3')).toEqual({ startRow: 2, startCol: 2, endRow: 2, endCol: 2 });
    expect(parseA1('Tab!B2:A1')).toEqual({ tab: 'Tab', startRow: 0, startCol: 0, endRow: 1, endCol: 1 });
  });

  it('rejects what is not A1 notation', () => {
    for (const bad of ['', 'Tab!', 'Tab!A0', "'unterminated!A1", "''!A1", "'Tab'A1", 'Tab!A1:B2:C3', 'Tab!A1:5', 'Tab!1:B', 'Tab!AAAA1', 'Tab!A1:B2 ']) {
      expect(parseA1(bad), bad).toBeUndefined();
    }
  });

  it('names columns and quotes tab titles so they parse back', () => {
    expect([0, 25, 26, 51, 701, 702].map(columnLetter)).toEqual(['A', 'Z', 'AA', 'AZ', 'ZZ', 'AAA']);
    expect(quoteTab('Sheet1')).toBe('Sheet1');
    expect(quoteTab("Tab's name")).toBe("'Tab''s name'");
    expect(quoteTab('A1')).toBe("'A1'");
    for (const title of ['Sheet1', "Tab's name", 'My Tab', 'A1', 'R1C1', "''", 'x!y', 'Ünïcode tab']) {
      expect(parseA1(`${quoteTab(title)}!B2:C3`)?.tab, title).toBe(title);
      expect(formatA1({ tab: title, startRow: 1, startCol: 1, endRow: 2, endCol: 2 })).toBe(`${quoteTab(title)}!B2:C3`);
    }
  });
});

describe('sheets-server with the real @googleapis/sheets client', () => {
  it('issues tokens only for well-formed JWT-bearer grants and accepts only the tokens it issued', async () => {
    const { server } = await start();
    const api = (token?: string) => fetch(`${server.url}/v4/spreadsheets/x`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

    for (const res of [await api(), await api('ya29.not-issued-here')]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as Failure['body'])?.error?.status).toBe('UNAUTHENTICATED');
    }
    for (const assertion of ['not-a-jwt', 'a.b', jwt(claims(), { alg: 'none' }), jwt(claims({ scope: 'https://www.googleapis.com/auth/drive' })), jwt(claims({ exp: 1 })), jwt({ scope: SCOPE, exp: claims().exp })]) {
      const res = await grant(server, assertion);
      expect(res.status, assertion).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/JWT/) });
    }
    // The signature is not checked, and the token it gets is accepted (404: the spreadsheet does not exist).
    const ok = await grant(server, jwt(claims()));
    const token = (await ok.json()) as { access_token: string; expires_in: number; token_type: string };
    expect(token).toMatchObject({ expires_in: 3600, token_type: 'Bearer' });
    expect((await api(token.access_token)).status).toBe(404);
  });

  it('creates a spreadsheet, writes a header, appends rows and reads them back in Google\'s shapes', async () => {
    const { server, sheets } = await start();
    const created = await sheets.spreadsheets.create({ requestBody: { properties: { title: 'Survey' }, sheets: [{ properties: { title: 'Responses' } }, { properties: { title: "Tab's notes" } }] } });
    const id = created.data.spreadsheetId as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(created.data.properties?.title).toBe('Survey');
    expect(created.data.sheets?.map((s) => s.properties)).toEqual([
      { sheetId: 0, title: 'Responses', index: 0, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } },
      expect.objectContaining({ title: "Tab's notes", index: 1, sheetType: 'GRID' }),
    ]);
    const got = await sheets.spreadsheets.get({ spreadsheetId: id });
    expect(got.data.sheets?.map((s) => s.properties?.title)).toEqual(['Responses', "Tab's notes"]);
    expect(got.data.spreadsheetUrl).toContain(id);
    const untitled = await sheets.spreadsheets.create({ requestBody: {} });
    expect(untitled.data.sheets?.map((s) => s.properties?.title)).toEqual(['Sheet1']);

    const put = await sheets.spreadsheets.values.update({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'RAW', requestBody: { values: [['time', 'name', 'phone']] } });
    expect(put.data).toEqual({ spreadsheetId: id, updatedRange: 'Responses!A1:C1', updatedRows: 1, updatedColumns: 3, updatedCells: 3 });

    const first = await sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A:C', valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { values: [['t1', 'ss1.a', 'ss1.b']] } });
    expect(first.data).toEqual({
      spreadsheetId: id,
      tableRange: 'Responses!A1:C1',
      updates: { spreadsheetId: id, updatedRange: 'Responses!A2:C2', updatedRows: 1, updatedColumns: 3, updatedCells: 3 },
    });
    const second = await sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses', valueInputOption: 'RAW', requestBody: { values: [['t2', '', 'ss1.c'], ['t3']] } });
    expect(second.data.updates?.updatedRange).toBe('Responses!A3:C4');
    expect(second.data.tableRange).toBe('Responses!A1:C2');

    const values = await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses!A:C' });
    // INSERT_ROWS grew the grid by a row, as on Google.
    expect(values.data).toEqual({ range: 'Responses!A1:C1001', majorDimension: 'ROWS', values: [['time', 'name', 'phone'], ['t1', 'ss1.a', 'ss1.b'], ['t2', '', 'ss1.c'], ['t3']] });
    const empty = await sheets.spreadsheets.values.get({ spreadsheetId: id, range: "'Tab''s notes'!B2:D9" });
    expect(empty.data).toEqual({ range: "'Tab''s notes'!B2:D9", majorDimension: 'ROWS' });
    const batch = await sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['Responses!1:1', 'Responses!B2:C'] });
    expect(batch.data.valueRanges?.map((v) => v.values)).toEqual([[['time', 'name', 'phone']], [['ss1.a', 'ss1.b'], ['', 'ss1.c']]]);
    expect(server.rows(id)).toEqual([['time', 'name', 'phone'], ['t1', 'ss1.a', 'ss1.b'], ['t2', '', 'ss1.c'], ['t3']]);
    expect(server.stats()).toMatchObject({ writes: 5, faults: {} });
  });

  it('RAW keeps every string literal; USER_ENTERED parses formulas, numbers and booleans', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    const risky = ['=HYPERLINK("http://x","y")', '+254 700 000', '-5', '@SUM(A1)', 'TRUE'];
    await sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'RAW', requestBody: { values: [risky] } });
    await sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'USER_ENTERED', requestBody: { values: [['=1+1', '-5', 'true', "'=2", 'text']] } });

    const grid = await sheets.spreadsheets.get({ spreadsheetId: id, includeGridData: true, ranges: ['Responses!A1:E2'] });
    const cells = grid.data.sheets?.[0]?.data?.[0]?.rowData?.map((r) => r.values?.map((v) => v.userEnteredValue));
    expect(cells).toEqual([
      risky.map((s) => ({ stringValue: s })),
      [{ formulaValue: '=1+1' }, { numberValue: -5 }, { boolValue: true }, { stringValue: '=2' }, { stringValue: 'text' }],
    ]);
    const formatted = await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses!A2:C2' });
    expect(formatted.data.values).toEqual([['2', '-5', 'TRUE']]);
    const unformatted = await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses!A2:C2', valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(unformatted.data.values).toEqual([[2, -5, true]]);
    const formulas = await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses!A2', valueRenderOption: 'FORMULA' });
    expect(formulas.data.values).toEqual([['=1+1']]);
    expect(server.rows(id, 'Responses')[0]).toEqual(risky);
  });

  it('puts each of 100 concurrent appends on its own row', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    await sheets.spreadsheets.values.update({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'RAW', requestBody: { values: [['n', 'check']] } });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A:B', valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { values: [[`r${i}`, `c${i}`]] } }),
      ),
    );
    expect(new Set(results.map((r) => r.data.updates?.updatedRange)).size).toBe(100);
    const rows = server.rows(id).slice(1);
    expect(rows).toHaveLength(100);
    expect(new Set(rows.map((r) => r[0])).size).toBe(100);
    for (const [n, check] of rows) expect(check).toBe(`c${(n as string).slice(1)}`);
  });

  it("answers errors in Google's JSON shape", async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    expect(await failure(sheets.spreadsheets.get({ spreadsheetId: 'no-such-spreadsheet' }))).toMatchObject({
      status: 404,
      body: { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } },
    });
    expect(await failure(sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Nope!A1' }))).toMatchObject({
      status: 400,
      body: { error: { code: 400, message: 'Unable to parse range: Nope!A1', status: 'INVALID_ARGUMENT' } },
    });
    expect(await failure(sheets.spreadsheets.values.update({ spreadsheetId: id, range: 'Responses!A1', requestBody: { values: [['x']] } }))).toMatchObject({
      status: 400,
      body: { error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining('valueInputOption') } },
    });
    expect(await failure(sheets.spreadsheets.values.update({ spreadsheetId: id, range: 'Responses!A1:B1', valueInputOption: 'RAW', requestBody: { values: [['a', 'b', 'c']] } }))).toMatchObject({ status: 400 });
    expect(await failure(sheets.spreadsheets.values.update({ spreadsheetId: id, range: 'Responses!Z1', valueInputOption: 'RAW', requestBody: { values: [['a', 'b']] } }))).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('exceeds grid limits') } },
    });
    const unknown = await fetch(`${server.url}/v5/nothing`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
    expect(server.rows(id)).toEqual([]);
  });
});

describe('sheets-server grid limits, as on Google', () => {
  const grid = async (sheets: Sheets, id: string) =>
    (await sheets.spreadsheets.get({ spreadsheetId: id, fields: 'sheets.properties' })).data.sheets?.map((s) => s.properties?.gridProperties);
  const put = (sheets: Sheets, id: string, range: string, values: unknown[][]) =>
    sheets.spreadsheets.values.update({ spreadsheetId: id, range, valueInputOption: 'RAW', requestBody: { values } }, NO_RETRY);
  const invalidArgument = (message: string) => ({ status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', message } } });

  it('spreadsheets.get answers the grid of each tab, and honours fields', async () => {
    const { sheets } = await start();
    const created = await sheets.spreadsheets.create({ requestBody: { sheets: [{ properties: { title: 'Responses' } }, { properties: { title: 'Small', gridProperties: { rowCount: 3, columnCount: 2 } } }] } });
    const id = created.data.spreadsheetId as string;
    await put(sheets, id, 'Responses!A1', [['name']]);

    const props = await sheets.spreadsheets.get({ spreadsheetId: id, fields: 'sheets.properties' });
    expect(props.data).toEqual({
      sheets: [
        { properties: { sheetId: 0, title: 'Responses', index: 0, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } } },
        { properties: { sheetId: expect.any(Number), title: 'Small', index: 1, sheetType: 'GRID', gridProperties: { rowCount: 3, columnCount: 2 } } },
      ],
    });
    const publishes = await sheets.spreadsheets.get({ spreadsheetId: id, fields: 'sheets.properties(sheetId,title,index,gridProperties(rowCount,columnCount))' });
    expect(publishes.data.sheets?.map((t) => t.properties)).toEqual([
      { sheetId: 0, title: 'Responses', index: 0, gridProperties: { rowCount: 1000, columnCount: 26 } },
      { sheetId: props.data.sheets?.[1]?.properties?.sheetId, title: 'Small', index: 1, gridProperties: { rowCount: 3, columnCount: 2 } },
    ]);
    const some = await sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId,sheets(properties(title,gridProperties/rowCount))' });
    expect(some.data).toEqual({ spreadsheetId: id, sheets: [{ properties: { title: 'Responses', gridProperties: { rowCount: 1000 } } }, { properties: { title: 'Small', gridProperties: { rowCount: 3 } } }] });
    // With a field mask, includeGridData is ignored and the mask decides.
    const data = await sheets.spreadsheets.get({ spreadsheetId: id, ranges: ['Responses!A1'], fields: 'sheets.data.rowData.values.formattedValue' });
    expect(data.data).toEqual({ sheets: [{ data: [{ rowData: [{ values: [{ formattedValue: 'name' }] }] }] }] });
    expect(await failure(sheets.spreadsheets.get({ spreadsheetId: id, fields: 'sheets(properties' }, NO_RETRY))).toMatchObject({ status: 400 });
  });

  it('values.update past the grid is a 400 in Google\'s words and writes nothing', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    expect(await failure(put(sheets, id, 'Responses!A1001', [['late']]))).toMatchObject(invalidArgument('Range (Responses!A1001) exceeds grid limits. Max rows: 1000, max columns: 26'));
    expect(await failure(put(sheets, id, 'Responses!A999', [['a'], ['b'], ['c']]))).toMatchObject(invalidArgument('Range (Responses!A999:A1001) exceeds grid limits. Max rows: 1000, max columns: 26'));
    expect(await failure(put(sheets, id, 'Responses!Y1', [['a', 'b', 'c']]))).toMatchObject(invalidArgument('Range (Responses!Y1:AA1) exceeds grid limits. Max rows: 1000, max columns: 26'));
    expect(server.rows(id)).toEqual([]);
    expect(server.stats().writes).toBe(1);
    expect((await put(sheets, id, 'Responses!A1000', [['last row']])).data.updatedRange).toBe('Responses!A1000');
    expect(server.rows(id)[999]).toEqual(['last row']);
  });

  it('values.batchUpdate writes every range in one request, or none of them', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    const batch = (data: Array<{ range: string; values: unknown[][] }>, api = sheets) =>
      api.spreadsheets.values.batchUpdate({ spreadsheetId: id, requestBody: { valueInputOption: 'RAW', data } }, NO_RETRY);

    const ok = await batch([
      { range: 'Responses!A2', values: [['r2', '=not a formula']] },
      { range: "'Responses'!A5:C5", values: [['r5', '', 'x']] },
    ]);
    expect(ok.data).toEqual({
      spreadsheetId: id,
      totalUpdatedRows: 2,
      totalUpdatedColumns: 5,
      totalUpdatedCells: 5,
      totalUpdatedSheets: 1,
      responses: [
        { spreadsheetId: id, updatedRange: 'Responses!A2:B2', updatedRows: 1, updatedColumns: 2, updatedCells: 2 },
        { spreadsheetId: id, updatedRange: 'Responses!A5:C5', updatedRows: 1, updatedColumns: 3, updatedCells: 3 },
      ],
    });
    expect(server.rows(id)).toEqual([[], ['r2', '=not a formula'], [], [], ['r5', '', 'x']]);

    const past = await failure(batch([{ range: 'Responses!A3', values: [['r3']] }, { range: 'Responses!A1001', values: [['r1001']] }]));
    expect(past).toMatchObject(invalidArgument('Invalid data[1]: Range (Responses!A1001) exceeds grid limits. Max rows: 1000, max columns: 26'));
    expect(await failure(batch([{ range: 'Nope!A1', values: [['x']] }]))).toMatchObject(invalidArgument('Invalid data[0]: Unable to parse range: Nope!A1'));
    expect(await failure(sheets.spreadsheets.values.batchUpdate({ spreadsheetId: id, requestBody: { data: [{ range: 'Responses!A3', values: [['x']] }] } }, NO_RETRY))).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('valueInputOption') } },
    });
    expect(server.rows(id)).toEqual([[], ['r2', '=not a formula'], [], [], ['r5', '', 'x']]);

    // One request is one write against the quota, however many ranges it holds.
    server.setFaults({ rate: 0, kinds: [], writeQuotaPerMinute: 1 });
    const other = await client(server);
    await batch([{ range: 'Responses!A6', values: [['r6']] }, { range: 'Responses!A7', values: [['r7']] }, { range: 'Responses!A8', values: [['r8']] }], other);
    expect(await failure(batch([{ range: 'Responses!A9', values: [['r9']] }], other))).toMatchObject({ status: 429 });
    expect(server.rows(id).slice(5)).toEqual([['r6'], ['r7'], ['r8']]);
    expect(server.stats()).toMatchObject({ writes: 3, faults: { quota: 1 } });
  });

  it('values.append grows the grid as Google does, so appending past it always works', async () => {
    const { server, sheets } = await start();
    const created = await sheets.spreadsheets.create({ requestBody: { sheets: [{ properties: { title: 'Responses', gridProperties: { rowCount: 2, columnCount: 2 } } }] } });
    const id = created.data.spreadsheetId as string;
    await put(sheets, id, 'Responses!A1', [['a', 'b'], ['c', 'd']]);
    const appendRows = (insertDataOption: string, values: unknown[][]) =>
      sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'RAW', insertDataOption, requestBody: { values } }, NO_RETRY);

    expect((await appendRows('OVERWRITE', [['e', 'f', 'g']])).data.updates?.updatedRange).toBe('Responses!A3:C3');
    expect(await grid(sheets, id)).toEqual([{ rowCount: 3, columnCount: 3 }]);
    expect((await appendRows('INSERT_ROWS', [['h'], ['i']])).data.updates?.updatedRange).toBe('Responses!A4:A5');
    expect(await grid(sheets, id)).toEqual([{ rowCount: 5, columnCount: 3 }]);
    expect(server.rows(id)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f', 'g'], ['h'], ['i']]);
  });

  it('spreadsheets.batchUpdate appendDimension grows the grid, all requests or none', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    const batch = (requests: object[]) => sheets.spreadsheets.batchUpdate({ spreadsheetId: id, requestBody: { requests } }, NO_RETRY);

    const grown = await batch([{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 500 } }, { appendDimension: { sheetId: 0, dimension: 'COLUMNS', length: 4 } }]);
    expect(grown.data).toEqual({ spreadsheetId: id, replies: [{}, {}] });
    expect(await grid(sheets, id)).toEqual([{ rowCount: 1500, columnCount: 30 }]);
    expect((await put(sheets, id, 'Responses!AD1500', [['corner']])).data.updatedRange).toBe('Responses!AD1500');
    expect(await failure(put(sheets, id, 'Responses!A1501', [['x']]))).toMatchObject(invalidArgument('Range (Responses!A1501) exceeds grid limits. Max rows: 1500, max columns: 30'));

    const refused: Array<[object[], string]> = [
      [[{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 10 } }, { appendDimension: { sheetId: 99, dimension: 'ROWS', length: 10 } }], 'Invalid requests[1].appendDimension: No grid with id: 99'],
      [[{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 10 } }, { addSheet: { properties: { title: 'More' } } }], 'addSheet'],
      [[{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 0 } }], 'Invalid requests[0].appendDimension: length must be positive'],
      [[{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 10_000_000 } }], 'Invalid requests[0].appendDimension: This action would increase the number of cells in the workbook above the limit of 10000000 cells.'],
      [[], 'Must specify at least one request.'],
    ];
    for (const [requests, message] of refused) {
      expect(await failure(batch(requests)), message).toMatchObject({ status: 400, body: { error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining(message) } } });
    }
    expect(await grid(sheets, id)).toEqual([{ rowCount: 1500, columnCount: 30 }]);

    server.setFaults({ rate: 0, kinds: [], writeQuotaPerMinute: 1 });
    await batch([{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 1 } }]);
    expect(await failure(batch([{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 1 } }]))).toMatchObject({ status: 429 });
    expect(await grid(sheets, id)).toEqual([{ rowCount: 1501, columnCount: 30 }]);
  });

  it('loads data saved without grid sizes, deriving Google\'s defaults or the rows and columns in use', async () => {
    const dataDir = tmp();
    const cell = (v: string) => ({ stringValue: v });
    const wide = Array.from({ length: 1200 }, (_, r) => (r === 1199 ? Array.from({ length: 30 }, (_, c) => cell(`c${c}`)) : [cell(`r${r + 1}`)]));
    const book = { spreadsheetId: 'old-format', title: 'Survey', tabs: [{ sheetId: 0, title: 'Responses', rows: [[cell('name')], [cell('ss1.x')]] }, { sheetId: 7, title: 'Big', rows: wide }] };
    writeFileSync(join(dataDir, 'old-format.json'), JSON.stringify(book), { mode: 0o600 });

    const { server, sheets } = await start({ dataDir });
    expect(await grid(sheets, 'old-format')).toEqual([
      { rowCount: 1000, columnCount: 26 },
      { rowCount: 1200, columnCount: 30 },
    ]);
    expect(server.rows('old-format')).toEqual([['name'], ['ss1.x']]);
    expect(await failure(put(sheets, 'old-format', 'Big!A1201', [['x']]))).toMatchObject(invalidArgument('Range (Big!A1201) exceeds grid limits. Max rows: 1200, max columns: 30'));
    await put(sheets, 'old-format', 'Responses!A3', [['ss1.y']]);
    await server.stop();
    const saved = JSON.parse(readFileSync(join(dataDir, 'old-format.json'), 'utf8')) as { tabs: Array<{ rowCount: number; columnCount: number }> };
    expect(saved.tabs.map((t) => [t.rowCount, t.columnCount])).toEqual([
      [1000, 26],
      [1200, 30],
    ]);
  });
});

describe('sheets-server fault injection', () => {
  const append = (sheets: Sheets, id: string, value: string, extra: { timeout?: number } = {}) =>
    sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'RAW', requestBody: { values: [[value]] } }, { ...NO_RETRY, ...extra });

  it('answers each status fault in Google\'s shape, and 429 with Retry-After', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    const expected: Record<number, string> = { 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
    for (const kind of [429, 500, 502, 503, 504] as const) {
      server.setFaults({ rate: 1, kinds: [kind], retryAfterSeconds: 7 });
      const f = await failure(append(sheets, id, String(kind)));
      expect(f, String(kind)).toMatchObject({ status: kind, body: { error: { code: kind, status: expected[kind] } } });
      if (kind === 429) expect(f.headers?.get('retry-after')).toBe('7');
    }
    expect(server.rows(id)).toEqual([]);
    expect(server.stats().faults).toEqual({ 429: 1, 500: 1, 502: 1, 503: 1, 504: 1 });
  });

  it('reset drops the connection before writing; drop-after-write and timeout-after-write write, then never answer', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    const cases: Array<[Extract<FaultKind, string>, boolean, string | undefined]> = [
      ['reset', false, 'ECONNRESET'],
      ['drop-after-write', true, 'ECONNRESET'],
      ['timeout-after-write', true, undefined], // the client's own 400 ms timeout
    ];
    for (const [kind, writes, code] of cases) {
      server.setFaults({ rate: 1, kinds: [kind] });
      const f = await failure(append(sheets, id, kind, { timeout: 400 }));
      expect(f.status, kind).toBeUndefined();
      expect(f.body, kind).toBeUndefined();
      expect(f.code, kind).toBe(code);
      server.setFaults(undefined);
      expect(server.rows(id).flat().includes(kind), kind).toBe(writes);
    }
    // For reads, the after-write kinds are resets.
    server.setFaults({ rate: 1, kinds: ['timeout-after-write'] });
    const read = await failure(sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses' }, { ...NO_RETRY, timeout: 5000 }));
    expect(read).toEqual({ code: 'ECONNRESET' });
    server.setFaults(undefined);
    expect(server.rows(id)).toEqual([['drop-after-write'], ['timeout-after-write']]);
    expect(server.stats()).toMatchObject({ writes: 3, faults: { reset: 1, 'drop-after-write': 1, 'timeout-after-write': 2 } });
  });

  it('holds every API answer for the latency, and stop() ends held requests', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    server.setFaults({ rate: 0, kinds: [], latencyMs: 20 });
    expect((await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses' }, NO_RETRY)).status).toBe(200);
    server.setFaults({ rate: 1, kinds: ['timeout-after-write'] });
    const held = failure(append(sheets, id, 'held'));
    await vi.waitFor(() => expect(server.rows(id)).toEqual([['held']]));
    // Ten minutes of latency: the read can only end by stop().
    server.setFaults({ rate: 0, kinds: [], latencyMs: 600_000 });
    const received = server.stats().requests;
    const slow = failure(sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses' }, NO_RETRY));
    await vi.waitFor(() => expect(server.stats().requests).toBe(received + 1));
    await server.stop();
    expect((await held).code).toBe('ECONNRESET');
    expect((await slow).code).toBe('ECONNRESET');
  });

  it('late-write: the request fails on the client, and the write lands afterwards', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    server.setFaults({ rate: 1, kinds: ['late-write'], lateWriteMs: 50 });
    const f = await failure(append(sheets, id, 'late', { timeout: 1000 }));
    expect(f.status).toBeUndefined();
    expect(f.body).toBeUndefined();
    server.setFaults(undefined);
    await vi.waitFor(() => expect(server.rows(id)).toEqual([['late']]), { timeout: 20_000, interval: 20 });
    expect(server.stats()).toMatchObject({ writes: 2, faults: { 'late-write': 1 } });
  });

  it('late-write holds the request unanswered and unwritten until the client gives up; reads are reset', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    server.setFaults({ rate: 1, kinds: ['late-write'], lateWriteMs: 0 });
    const client = new AbortController();
    const update = failure(
      sheets.spreadsheets.values.update({ spreadsheetId: id, range: 'Responses!B2', valueInputOption: 'RAW', requestBody: { values: [['held']] } }, { ...NO_RETRY, signal: client.signal }),
    );
    await vi.waitFor(() => expect(server.stats().faults).toEqual({ 'late-write': 1 }));
    expect(server.rows(id)).toEqual([]);
    client.abort();
    expect((await update).status).toBeUndefined();
    await vi.waitFor(() => expect(server.rows(id)).toEqual([[], ['', 'held']]), { timeout: 20_000, interval: 20 });
    expect(await failure(sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses' }, NO_RETRY))).toEqual({ code: 'ECONNRESET' });
    expect(server.stats().faults).toEqual({ 'late-write': 2 });
  });

  it('chooses faults deterministically from the seed', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    const run = async (seed: number) => {
      server.setFaults({ rate: 0.5, kinds: [500, 503, 429], seed });
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        out.push(await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses!A1' }, NO_RETRY).then(() => 200, (e: { status: number }) => e.status));
      }
      return out;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(new Set(a)).toEqual(new Set([200, 500, 503, 429]));
    expect(await run(43)).not.toEqual(a);
  });

  it('enforces a per-service-account write quota over a sliding minute', async () => {
    const { server, sheets } = await start();
    const id = await createSheet(sheets);
    server.setFaults({ rate: 0, kinds: [], writeQuotaPerMinute: 3 });
    for (const v of ['a', 'b', 'c']) await append(sheets, id, v);
    expect(await failure(append(sheets, id, 'd'))).toMatchObject({ status: 429, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('Write requests per minute') } } });
    await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses' }, NO_RETRY);
    await append(await client(server), id, 'other account');
    expect(server.rows(id)).toEqual([['a'], ['b'], ['c'], ['other account']]);
    expect(server.stats().faults).toEqual({ quota: 1 });
  });
});

describe('sheets-server persistence', () => {
  it('keeps spreadsheets in the data folder across a restart', async () => {
    const dataDir = join(tmp(), 'data');
    const first = await start({ dataDir });
    const id = await createSheet(first.sheets, "Tab's name");
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        first.sheets.spreadsheets.values.append({ spreadsheetId: id, range: "'Tab''s name'!A1", valueInputOption: 'RAW', requestBody: { values: [[`row ${i}`, '=not a formula']] } }),
      ),
    );
    const before = first.server.rows(id, "Tab's name");
    await first.server.stop();
    expect(readdirSync(dataDir)).toEqual([`${id}.json`]);
    expect(statSync(join(dataDir, `${id}.json`)).mode & 0o777).toBe(0o600);

    const second = await start({ dataDir });
    expect(second.server.rows(id, "Tab's name")).toEqual(before);
    expect(before).toHaveLength(20);
    const next = await second.sheets.spreadsheets.values.append({ spreadsheetId: id, range: "'Tab''s name'!A1", valueInputOption: 'RAW', requestBody: { values: [['after restart']] } });
    expect(next.data.updates?.updatedRange).toBe("'Tab''s name'!A21");
    await second.server.stop();
    const saved = JSON.parse(readFileSync(join(dataDir, `${id}.json`), 'utf8')) as { tabs: Array<{ rows: unknown[][] }> };
    expect(saved.tabs[0]?.rows[20]).toEqual([{ stringValue: 'after restart' }]);
  });
});

describe('sealed-survey sheets-server', () => {
  const cli = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', 'scripts/sealed-survey.ts', 'sheets-server', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = (child: ReturnType<typeof cli>) => new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));

  it('refuses bad flags with exit 2 and names the flag', async () => {
    const cases = [
      ['--fail-rate', '2'],
      ['--faults', '429,teapot'],
      ['--write-quota', '0'],
      ['--late-write-ms', 'soon'],
      ['--late-write-ms', '500'], // without late-write faults it would do nothing
    ];
    await Promise.all(
      cases.map(async ([flag, value]) => {
        const child = cli([flag as string, value as string]);
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        expect(await exit(child), `${flag} ${value}`).toBe(2);
        expect(stderr).toContain(flag);
      }),
    );
  });

  it('serves the real client on the printed URL with the key it wrote, and stops cleanly on SIGTERM', async () => {
    const dir = tmp();
    const keyFile = join(dir, 'key.json');
    const child = cli(['--port', '0', '--data', join(dir, 'data'), '--key-out', keyFile]);
    const exited = exit(child);
    let stderr = '';
    const url = await new Promise<string>((ok, fail) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /SHEETS_API_URL=(\S+)/.exec(stderr);
        if (m) ok(m[1] as string);
      });
      void exited.then(() => fail(new Error(`sheets-server exited early: ${stderr}`)));
    });
    expect(stderr).toMatch(/development and tests only/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const account = parseServiceAccount(readFileSync(keyFile, 'utf8'), keyFile);
    expect(account.token_uri).toBe(`${url}/token`);
    const sheets = sheetsClient({ account, rootUrl: url });
    const id = await createSheet(sheets);
    await sheets.spreadsheets.values.append({ spreadsheetId: id, range: 'Responses!A1', valueInputOption: 'RAW', requestBody: { values: [['hello']] } });
    expect((await sheets.spreadsheets.values.get({ spreadsheetId: id, range: 'Responses' })).data.values).toEqual([['hello']]);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readdirSync(join(dir, 'data'))).toEqual([`${id}.json`]);
  });
});
