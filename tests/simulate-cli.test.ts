// `sealed-survey simulate` as an operator runs it: the built command, its own local stack.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startSheetsServer, testServiceAccount } from '../src/dev/sheets-server.js';
import { startSyncServer } from '../src/dev/sync-server.js';
import { ensureDemoKeys } from '../src/dev/stack.js';
import { sealedFields, sheetHeader } from '../src/flow/columns.js';
import { readFlow } from '../src/flow/definition.js';
import { sheetsClient } from '../src/sheets/client.js';
import { runCli } from './helpers/cli.js';
import { AUTH_TOKEN, startTestFunctions } from './helpers/functions.js';

const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs scripted respondents through the flow on the local stack and writes private transcripts', async () => {
  const transcripts = join(dir, 'transcripts');
  const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--answers', 'flows/answers/demo.json', '--transcript', transcripts, '--keys', join(dir, 'keys')]);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout).toContain('5 executions in');
  expect(res.stdout).toContain('5 completed, 0 handed off, 0 failed; 5 stored by publish');
  // One row per execution: the declined respondent's row holds only its outcome.
  expect(res.stdout).toMatch(/^outcomes: complete 4, declined 1$/m);
  expect(res.stdout).toMatch(/^ended at: thanks 4 completed, publish_outcome 1 completed$/m);
  expect(res.stdout).toContain('rows in the local sheet: 5');
  const files = readdirSync(transcripts);
  expect(files).toHaveLength(5);
  for (const f of files) {
    expect(f).toMatch(/^FN[0-9a-f]{32}\.txt$/);
    expect(statSync(join(transcripts, f)).mode & 0o077).toBe(0);
  }
  const declined = files.map((f) => readFileSync(join(transcripts, f), 'utf8')).find((t) => t.includes('[bye_declined]'));
  expect(declined).toMatch(/-- completed at publish_outcome\n$/);
});

it('generates respondents from the flow\'s own choices, with faults in the Sheets server', async () => {
  const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--respondents', '40', '--concurrency', '10', '--fault-rate', '0.3', '--keys', join(dir, 'keys')]);
  expect(res.code, res.stderr).toBe(0);
  const stored = Number(/(\d+) stored by publish/.exec(res.stdout)?.[1]);
  expect(stored).toBeGreaterThan(20);
  expect(res.stdout).toMatch(/last answer → publish stored: p50 \d+ ms, p99 \d+ ms/);
});

it('exits 1 when executions fail, with each distinct reason counted and no answer printed', async () => {
  const functions = await startTestFunctions({});
  try {
    // Signed with another token: every call to a Function is refused, as with a wrong AUTH_TOKEN.
    const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--answers', 'flows/answers/demo.json', '--functions-url', functions.url], { env: { AUTH_TOKEN: `x${AUTH_TOKEN.slice(1)}` } });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('5 failed');
    expect(res.stdout).toMatch(/^4 executions failed: encrypt \(\/encrypt\) answered HTTP 403 SIGNATURE_INVALID: missing or invalid X-Twilio-Signature/m);
    expect(res.stdout).toMatch(/^1 execution failed: publish_outcome \(\/publish\) answered HTTP 403 SIGNATURE_INVALID/m);
    expect(res.stderr).toContain('sealed-survey: 5 of 5 executions failed; the reasons are listed above');
    const answers = (JSON.parse(readFileSync('flows/answers/demo.json', 'utf8')) as Array<{ replies: string[] }>).flatMap((r) => r.replies).filter((a) => a.length > 8);
    for (const answer of answers) expect(`${res.stdout}${res.stderr}`).not.toContain(answer);
  } finally {
    await functions.stop();
  }
});

it('exits 1 at a widget it cannot run, saying which', async () => {
  const file = join(dir, 'call.json');
  const offset = { x: 0, y: 0 };
  writeFileSync(
    file,
    JSON.stringify({
      description: 'calls',
      initial_state: 'Trigger',
      flags: { allow_concurrent_calls: true },
      states: [
        { name: 'Trigger', type: 'trigger', transitions: [{ event: 'incomingMessage', next: 'dial' }, { event: 'incomingCall' }, { event: 'incomingRequest' }], properties: { offset } },
        { name: 'dial', type: 'enqueue-call', transitions: [{ event: 'callComplete' }], properties: { offset } },
      ],
    }),
  );
  const answers = join(dir, 'one.json');
  writeFileSync(answers, JSON.stringify([{ from: 'whatsapp:+254700000009', replies: [] }]));
  const res = await runCli('sealed-survey', ['simulate', file, '--answers', answers, '--functions-url', 'http://127.0.0.1:9'], { env: { AUTH_TOKEN } });
  expect(res.code).toBe(1);
  expect(res.stdout).toContain('1 execution in');
  expect(res.stdout).toContain('1 execution failed: dial: widget type "enqueue-call" is not supported by the local runner');
  expect(res.stderr).toContain('1 of 1 execution failed');
});

it('answers bad input with a message and the right exit code', async () => {
  const noTty = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json']);
  expect(noTty.code).toBe(2);
  expect(noTty.stderr).toContain('--answers <file> or --respondents <n>');
  const missing = await runCli('sealed-survey', ['simulate', join(dir, 'nope.json'), '--respondents', '1']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('cannot read');
  const both = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--respondents', '1', '--answers', 'x.json']);
  expect(both.code).toBe(2);
  const subflow = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--respondents', '1', '--subflow', 'nofile']);
  expect(subflow.code).toBe(2);
  expect(subflow.stderr).toContain('--subflow takes NAME=FILE');
  const stubsAndLive = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--respondents', '1', '--stubs', 'flows/answers/demo.json', '--live-http']);
  expect(stubsAndLive.stderr).toMatch(/demo\.json: .* is not valid|give --stubs or --live-http, not both/);
  expect(stubsAndLive.code).not.toBe(0);
  const help = await runCli('sealed-survey', ['simulate', '--help']);
  expect(help.stdout).toContain('$ sealed-survey simulate flows/whatsapp-survey.json');
});

it('uses the operator\'s own sheet and keys when the env file sets SHEET_ID', async () => {
  const flow = readFlow('flows/whatsapp-survey.json');
  const sheets = await startSheetsServer();
  const accountSid = `AC${'1'.repeat(32)}`;
  const authToken = '2'.repeat(32);
  // The operator's Twilio Sync (publish claims each response's row there), here its stand-in.
  const sync = await startSyncServer({ accountSid, authToken });
  try {
    const account = await testServiceAccount(sheets);
    const client = sheetsClient({ account, rootUrl: sheets.url });
    const created = await client.spreadsheets.create({ requestBody: { sheets: [{ properties: { title: 'Mine' } }] } });
    const id = created.data.spreadsheetId as string;
    await client.spreadsheets.values.update({ spreadsheetId: id, range: 'Mine!A1', valueInputOption: 'RAW', requestBody: { values: [sheetHeader(flow)] } });
    const keys = ensureDemoKeys(join(dir, 'own-keys'));
    const envFile = join(dir, 'own.env');
    writeFileSync(
      envFile,
      [
        `ACCOUNT_SID=${accountSid}`,
        `AUTH_TOKEN=${authToken}`,
        `SYNC_API_URL=${sync.url}`,
        `SURVEY_PUBLIC_KEY=${keys.publicKey}`,
        `SHEET_ID=${id}`,
        `SHEETS_API_URL=${sheets.url}`,
        `GOOGLE_SERVICE_ACCOUNT_JSON='${JSON.stringify(account)}'`,
        `PII_COLUMNS=${sealedFields(flow).join(',')}`,
      ].join('\n'),
    );
    const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--answers', 'flows/answers/demo.json', '--env-file', envFile]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stderr).toContain('with your env file');
    expect(sheets.rows(id, 'Mine')).toHaveLength(6);
  } finally {
    await Promise.all([sheets.stop(), sync.stop()]);
  }
});
