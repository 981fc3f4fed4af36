// `purge` against the Twilio stand-in (in-process, no Prism) and the local
// Sheets server: 10,000 ended executions, each with a row in the sheet and 4
// messages (2 outbound, 2 inbound), purged by the built CLI with pacing
// raised out of the way (--rate 100000/s, 16 executions at once). Yardstick,
// measured in the same run: as many plain GETs (a message fetch) through the
// same twilio client at the same concurrency, from a process of its own
// (bench/twilio-gets.ts), i.e. the stand-in and client's own cost for that
// number of requests. Reported: wall time, executions/s,
// the ratio to the yardstick, peak RSS of the purge process, and the time the
// same purge takes paced at the default 20 requests/s.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount } from '../src/dev/sheets-server.js';
import { startTwilioServer } from '../src/dev/twilio-server.js';
import { sheetsClient } from '../src/sheets/client.js';
import { twilioClient } from '../src/twilio/client.js';
import { fmt, row, runSealedSurvey } from './stats.js';

const SENDER = 'whatsapp:+14155238886';
const EXECUTIONS = Number(process.env.BENCH_PURGE_EXECUTIONS ?? 10_000);
const MESSAGES = 4;
const CONCURRENCY = 16;
const DEFAULT_RATE = 20;

export async function benchPurge(): Promise<void> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const server = await startTwilioServer({ accountSid, authToken });
  const sheets = await startSheetsServer();
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-bench-purge-'));
  try {
    const env = { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_API_URL: server.url };
    const twilio = await twilioClient({ accountSid, username: accountSid, password: authToken }, { env, warn: () => {} });
    const definition = JSON.parse(readFileSync(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'), 'utf8'));
    const flow = await twilio.studio.v2.flows.create({ friendlyName: 'whatsapp-survey', status: 'published', definition });
    const now = Date.now();
    const sids: string[] = [];
    const messageSids: string[] = [];
    for (let i = 0; i < EXECUTIONS; i++) {
      const to = `whatsapp:+2547${String(10_000_000 + i).padStart(8, '0')}`;
      const created = now - 3 * 3_600_000 + i;
      sids.push(server.addExecution({ flowSid: flow.sid, to, from: SENDER, status: 'ended', created, steps: [{ transitionedFrom: 'Trigger', transitionedTo: 'Ended' }] }));
      for (let k = 0; k < MESSAGES; k++) {
        const inbound = k % 2 === 1;
        messageSids.push(server.addMessage({ direction: inbound ? 'inbound' : 'outbound-api', from: inbound ? to : SENDER, to: inbound ? SENDER : to, body: `answer ${k}`, dateSent: created + 1000 + k * 1000 }));
      }
    }
    const account = await testServiceAccount(sheets);
    const client = sheetsClient({ account, rootUrl: sheets.url });
    const created = await client.spreadsheets.create({ requestBody: { properties: { title: 'bench' }, sheets: [{ properties: { title: 'Responses', gridProperties: { rowCount: EXECUTIONS + 10, columnCount: 4 } } }] } });
    const spreadsheetId = created.data.spreadsheetId as string;
    await client.spreadsheets.values.update({ spreadsheetId, range: "'Responses'!A1", valueInputOption: 'RAW', requestBody: { values: [['received_at', 'execution_sid'], ...sids.map((s) => [new Date(now).toISOString(), s])] } });

    // Yardstick: the stand-in and the client's cost per request, at the same concurrency, from a process of its own as purge's.
    const perExecution = 1 + 2 + 2 * MESSAGES + 1;
    const yardstickRequests = EXECUTIONS * perExecution;
    writeFileSync(join(dir, 'sids.txt'), messageSids.join('\n'));
    const ystart = performance.now();
    const gets = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'twilio-gets.ts'), String(yardstickRequests), String(CONCURRENCY), join(dir, 'sids.txt')], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
    const getsCode = await new Promise<number | null>((ok) => gets.once('exit', (c) => ok(c)));
    const yardstick = (performance.now() - ystart) / 1000;
    if (getsCode !== 0) console.log(`  yardstick exit ${getsCode}`);

    const before = server.requests().length;
    const childEnv = {
      ...env,
      SHEET_ID: spreadsheetId,
      SHEET_TAB: 'Responses',
      GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(account),
      SHEETS_API_URL: sheets.url,
      PII_COLUMNS: '-',
      ACCOUNT_SID: accountSid,
      AUTH_TOKEN: authToken,
    };
    const args = ['purge', '--flow', 'whatsapp-survey', '--rate', '100000/s', '--concurrency', String(CONCURRENCY)];
    const { code, out, err, wall, peakMb: peak } = await runSealedSurvey(args, dir, childEnv);
    const requests = server.requests().length - before;
    const left = server.flows()[0]?.executions.length ?? 0;

    console.log(`\npurge: ${EXECUTIONS.toLocaleString('en-US')} ended executions × ${MESSAGES} messages, --rate 100000/s, ${CONCURRENCY} at once`);
    if (code !== 0) console.log(`  exit ${code}: ${err.split('\n').slice(-5).join(' | ')}`);
    row('executions left / messages left', `${left} / ${server.messages().length}`, 'goal 0 / 0');
    row('purge wall clock incl. start-up and reads (s)', fmt(wall, 1));
    row('executions purged per second', fmt(EXECUTIONS / wall, 0));
    row('Twilio requests made by purge', requests.toLocaleString('en-US'), `${fmt(requests / EXECUTIONS, 1)} per execution`);
    row(`yardstick: ${yardstickRequests.toLocaleString('en-US')} plain GETs (s)`, fmt(yardstick, 1), `${fmt(yardstickRequests / yardstick, 0)} requests/s`);
    row('ratio purge / yardstick', fmt(wall / yardstick, 2));
    row('peak RSS of the purge process (MB)', fmt(peak, 0));
    row(`paced at the default ${DEFAULT_RATE} requests/s (min)`, fmt(requests / DEFAULT_RATE / 60, 0), 'the time a real account takes');
    if (!/deleted [\d,]+ executions/.test(out)) console.log(`  output: ${out.trim().split('\n').slice(-2).join(' | ')}`);
  } finally {
    await server.stop();
    await sheets.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
