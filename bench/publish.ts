// Benchmarks of the publish Function and of flush, on the real local
// servers: twilio-run, the Sheets server (real client, real JWT flow) and the
// Sync stand-in. Yardstick: the same append made in-process by the same client.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { SERVICE_DIR, startFunctions } from '../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount } from '../src/dev/sheets-server.js';
import { startSyncServer } from '../src/dev/sync-server.js';
import { sealResponse } from '../src/envelope/index.js';
import { formatPublicKey, newSealedKeyPair, recipientOf } from '../src/keys/keys.js';
import { DEFAULT_REMOVALS_PER_SECOND, flushQueue } from '../src/publish/flush.js';
import { syncStores } from '../src/publish/sync-stores.js';
import { sheetsClient } from '../src/sheets/client.js';
import { SheetTable } from '../src/sheets/table.js';
import { signForm } from '../src/twilio/signature.js';
import { fmt, peakRssMb, row, summarize } from './stats.js';

const HEADER = ['received_at', 'execution_sid', 'respondent_id', 'name', 'phone', 'age', 'village', 'comment'];
const ACCOUNT_SID = `AC${'0'.repeat(32)}`;
const TOKEN = 'bench-auth-token-0123456789abcdef';
const keys = newSealedKeyPair();
const sid = () => `FN${randomBytes(16).toString('hex')}`;

function fields(): Record<string, string> {
  const pii = Object.fromEntries(sealResponse([['name', 'María José Wanjiru'], ['phone', '+254 711 222 333']], recipientOf(keys)));
  return { execution_sid: sid(), ...pii, age: '34', village: 'Kibera', comment: 'Free text answer with, commas and "quotes" 🌽' };
}

function coldLoadMs(runs: number): number[] {
  const file = join(SERVICE_DIR, 'functions', 'publish.protected.js');
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: SERVICE_DIR })));
}

async function timed(concurrency: number, total: number, one: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const t = performance.now();
      await one();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

function post(url: string, agent: Agent, params: Record<string, string>): Promise<void> {
  const body = new URLSearchParams(params).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), 'x-twilio-signature': signForm(TOKEN, url, params) };
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 && text.includes('"stored":"sheet"') ? ok() : fail(new Error(`publish answered ${res.statusCode}`))));
    });
    req.on('error', fail);
    req.end(body);
  });
}

export async function benchPublish(): Promise<void> {
  console.log('\npublish Function (8 columns, 2 sealed; local twilio-run → local Sheets server, real client and JWT flow)');
  const cold = summarize(coldLoadMs(10));
  row('cold module load of the built handler, p50', `${fmt(cold.p50, 1)} ms`, 'inside the 10 s Studio budget');

  const sheets = await startSheetsServer();
  const sync = await startSyncServer({ accountSid: ACCOUNT_SID, authToken: TOKEN });
  const account = await testServiceAccount(sheets);
  const client = sheetsClient({ account, rootUrl: sheets.url });
  const created = await client.spreadsheets.create({ requestBody: { sheets: [{ properties: { title: 'Responses' } }] } });
  const spreadsheetId = created.data.spreadsheetId as string;
  await client.spreadsheets.values.update({ spreadsheetId, range: 'Responses!A1', valueInputOption: 'RAW', requestBody: { values: [HEADER] } });
  const table = new SheetTable(client, { spreadsheetId });
  const server = await startFunctions({
    env: {
      ACCOUNT_SID, AUTH_TOKEN: TOKEN, SHEET_ID: spreadsheetId, GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(account), SHEETS_API_URL: sheets.url,
      SYNC_API_URL: sync.url, PII_COLUMNS: 'name,phone', SURVEY_PUBLIC_KEY: formatPublicKey(keys.pair.publicRaw),
    },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const url = `${server.url}/publish`;
  try {
    await timed(5, 100, () => post(url, agent, fields())); // warm-up: token, header cache
    for (const latencyMs of [0, 100]) {
      sheets.setFaults(latencyMs ? { rate: 0, kinds: [], latencyMs } : undefined);
      for (const [concurrency, total] of [[1, latencyMs ? 50 : 300], [10, latencyMs ? 300 : 1000]] as const) {
        let n = 0;
        const base = summarize(await timed(concurrency, total, () => table.writeRows([{ row: 2 + (n++ % 500), values: HEADER.map(() => 'x') }], 10_000)));
        const s = summarize(await timed(concurrency, total, () => post(url, agent, fields())));
        const label = `${latencyMs} ms Sheets latency, concurrency ${concurrency}`;
        row(`yardstick: in-process row write, ${label}, p50 / p99`, `${fmt(base.p50)} / ${fmt(base.p99)} ms`);
        row(`publish, ${label}, p50 / p99`, `${fmt(s.p50)} / ${fmt(s.p99)} ms`, `${fmt(s.p50 / base.p50, 1)}x / ${fmt(s.p99 / base.p99, 1)}x the write alone`);
      }
    }
    sheets.setFaults(undefined);
    row('peak RSS of the Functions server', `${fmt(peakRssMb(server.pid), 0)} MB`);
  } finally {
    agent.destroy();
    await server.stop();
  }

  console.log('\nflush (Sync stand-in → local Sheets server), rows per minute');
  const stores = syncStores({ accountSid: ACCOUNT_SID, authToken: TOKEN, apiUrl: sync.url }, table.target);
  const { queue } = stores;
  const settings = { pii: { columns: ['name', 'phone'], kid: keys.kid, mode: 'sealed' as const }, missingValue: '', autoHeaders: false };
  try {
    const runs = [
      { batchSize: 1, rows: 300, perSecond: 1000 },
      { batchSize: 500, rows: 5000, perSecond: 1000 },
      { batchSize: 500, rows: 300, perSecond: DEFAULT_REMOVALS_PER_SECOND },
    ];
    for (const { batchSize, rows, perSecond } of runs) {
      await timed(16, rows, async () => {
        const f = fields();
        await queue.put({ executionSid: f.execution_sid as string, columns: { received_at: new Date().toISOString(), ...f }, queuedAt: new Date().toISOString() });
      });
      const t = performance.now();
      const report = await flushQueue(table, stores, settings, { batchSize, removalsPerSecond: perSecond });
      const minutes = (performance.now() - t) / 60_000;
      if (report.written !== rows || report.remaining !== 0) throw new Error(`flush wrote ${report.written} of ${rows}`);
      const perMinute = rows / minutes;
      const paced = perSecond === DEFAULT_REMOVALS_PER_SECOND;
      const note = paced ? `Sync deletes paced at ${perSecond}/s, as against Twilio` : `unpaced; under 60 writes/min: <= ${Math.min(perMinute, 60 * batchSize).toFixed(0)} rows/min`;
      row(`flush, batch ${batchSize}: ${rows} rows in ${report.writeRequests} writes`, `${fmt(perMinute, 0)} rows/min`, note);
    }
  } finally {
    await Promise.all([sheets.stop(), sync.stop()]);
  }
}
