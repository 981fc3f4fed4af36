// `sealed-survey simulate` as an operator runs it: the built command, its own local stack.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startSheetsServer, testServiceAccount } from '../src/dev/sheets-server.js';
import { ensureDemoKeys } from '../src/dev/stack.js';
import { sealedFields, sheetHeader } from '../src/flow/columns.js';
import { readFlow } from '../src/flow/definition.js';
import { sheetsClient } from '../src/sheets/client.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs scripted respondents through the flow on the local stack and writes private transcripts', async () => {
  const transcripts = join(dir, 'transcripts');
  const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--answers', 'flows/answers/demo.json', '--transcript', transcripts, '--keys', join(dir, 'keys')]);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout).toContain('5 execution(s)');
  expect(res.stdout).toContain('4 completed (stored by publish), 1 ended early, 0 failed');
  expect(res.stdout).toContain('rows in the local sheet: 4');
  const files = readdirSync(transcripts);
  expect(files).toHaveLength(5);
  for (const f of files) {
    expect(f).toMatch(/^FN[0-9a-f]{32}\.txt$/);
    expect(statSync(join(transcripts, f)).mode & 0o077).toBe(0);
  }
  const declined = files.map((f) => readFileSync(join(transcripts, f), 'utf8')).find((t) => t.includes('[bye_declined]'));
  expect(declined).toMatch(/-- ended\n$/);
});

it('generates respondents from the flow\'s own choices, with faults in the Sheets server', async () => {
  const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--respondents', '40', '--concurrency', '10', '--fault-rate', '0.3', '--keys', join(dir, 'keys')]);
  expect(res.code, res.stderr).toBe(0);
  const completed = Number(/(\d+) completed/.exec(res.stdout)?.[1]);
  expect(completed).toBeGreaterThan(20);
  expect(res.stdout).toMatch(/last answer → publish stored: p50 \d+ ms, p99 \d+ ms/);
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
  const help = await runCli('sealed-survey', ['simulate', '--help']);
  expect(help.stdout).toContain('$ sealed-survey simulate flows/whatsapp-survey.json');
});

it('uses the operator\'s own sheet and keys when the env file sets SHEET_ID', async () => {
  const flow = readFlow('flows/whatsapp-survey.json');
  const sheets = await startSheetsServer();
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
        `ACCOUNT_SID=AC${'1'.repeat(32)}`,
        `AUTH_TOKEN=${'2'.repeat(32)}`,
        `SURVEY_PUBLIC_KEY=${keys.publicKey}`,
        `SHEET_ID=${id}`,
        `SHEETS_API_URL=${sheets.url}`,
        `GOOGLE_SERVICE_ACCOUNT_JSON='${JSON.stringify(account)}'`,
        `PII_COLUMNS=${sealedFields(flow).join(',')}`,
      ].join('\n'),
    );
    const res = await runCli('sealed-survey', ['simulate', 'flows/whatsapp-survey.json', '--answers', 'flows/answers/demo.json', '--env-file', envFile]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('with your env file');
    expect(sheets.rows(id, 'Mine')).toHaveLength(5);
  } finally {
    await sheets.stop();
  }
});
