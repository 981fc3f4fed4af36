// sealed-survey launch as an operator runs it: the built CLI against the
// Twilio stand-in behind Prism (every request checked against Twilio's
// documents), with contact lists in CSV and XLSX, a kill -9 mid-run and a
// resume, forced 429s, and no phone number in any output, tracker or review.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandArgs } from '../src/cli/command-args.js';
import { flowWebhook } from '../src/deploy/webhook.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { twilioClient } from '../src/twilio/client.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

const SENDER = '+15005550006';
const OTHER_SENDER = '+15005550007';
const CONTENT_SID = `HX${'ab'.repeat(16)}`;
const FLOW_NAME = 'whatsapp-survey';
const definition = readFileSync(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'), 'utf8');

let mocks: TwilioMocks;
let dir: string;
let flowSid: string;
const outputs: string[] = [];
/** Every full number written into a contact file, in the forms used: none may appear anywhere. */
const numbers: string[] = [];

const mobile = (i: number) => `+2547110${String(i).padStart(5, '0')}`;
const executions = () => mocks.server.flows().find((f) => f.sid === flowSid)?.executions ?? [];

async function cli(args: string[]): Promise<CliResult> {
  const result = await runCli('sealed-survey', ['launch', ...args], { cwd: dir, env: mocks.env });
  outputs.push(result.stdout, result.stderr);
  return result;
}

const base = (file: string) => [file, '--flow', FLOW_NAME, '--from', `whatsapp:${SENDER}`, '--param-columns', 'first_name', '--content-sid', CONTENT_SID, '--default-country', 'KE'];

/** A CSV with the numbers in the forms people type them. */
function writeContacts(name: string, rows: Array<{ caseid: string; phone: string; first_name?: string }>): string {
  for (const r of rows) numbers.push(r.phone.replace(/\D/g, ''));
  const file = join(dir, name);
  writeFileSync(file, `caseid,phone,first_name,village\n${rows.map((r) => `${r.caseid},${r.phone},${r.first_name ?? 'Amina'},Kibera`).join('\n')}\n`);
  return name;
}

const trackerRows = (name: string) =>
  readFileSync(join(dir, name), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));

beforeAll(async () => {
  mocks = await startTwilioMocks({ phoneNumbers: [{ phoneNumber: SENDER }, { phoneNumber: OTHER_SENDER, smsUrl: 'https://demo.twilio.com/welcome/sms/reply' }] });
  const twilio = await twilioClient(mocks.credentials, { env: mocks.env, warn: () => {} });
  const flow = await twilio.studio.v2.flows.create({ friendlyName: FLOW_NAME, status: 'published', definition: JSON.parse(definition) });
  flowSid = flow.sid;
  const [number] = await twilio.api.v2010.accounts(mocks.accountSid).incomingPhoneNumbers.list({ phoneNumber: SENDER });
  await twilio.api.v2010.accounts(mocks.accountSid).incomingPhoneNumbers(number?.sid as string).update({ smsUrl: flowWebhook(mocks.accountSid, flow.sid) });
  dir = mkdtempSync(join(tmpdir(), 'sealed-survey-launch-'));
}, 120_000);

afterAll(async () => {
  const violations = mocks ? await mocks.violations() : [];
  await mocks?.stop();
  const files = dir ? ['a', 'b', 'c', 'kill', 'slow', 'x'].flatMap((n) => [`${n}.launch.csv`, `${n}.review.csv`]).filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f), 'utf8')) : [];
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
  // No number, in any form it was given, in any output, tracker or review file.
  const all = [...outputs, ...files].join('\n').replace(/\D/g, ' ');
  for (const n of new Set(numbers)) for (const form of [n, n.replace(/^254/, '0'), n.replace(/^0/, '254')]) if (form.length >= 7) expect(all).not.toContain(form);
  expect(outputs.join('\n')).not.toContain(mocks.authToken);
});

describe('launch', () => {
  it('lists every problem before sending anything: caseids, flow.data, the sender, the tracker', async () => {
    writeFileSync(join(dir, 'x.csv'), `caseid,phone,First_Name\nk1,${mobile(900)},A\n,${mobile(901)},B\nk1,${mobile(902)},C\n`);
    numbers.push(mobile(900), mobile(901), mobile(902));
    const res = await cli(['x.csv', '--flow', FLOW_NAME, '--from', `whatsapp:${OTHER_SENDER}`, '--param-columns', 'First_Name']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('row 3: caseid is empty');
    expect(res.stderr).toContain('row 4 repeats the caseid of row 2');
    expect(res.stderr).toContain('the flow reads flow.data.first_name (widget invite) but "First_Name" is sent: names are case-sensitive');
    expect(res.stderr).toContain('flow.data.content_sid');
    expect(res.stderr).toContain(`replies to sender …${OTHER_SENDER.slice(-4)} go to https://demo.twilio.com/welcome/sms/reply`);
    expect(res.stderr).toMatch(/launch stopped before sending anything, 5 problems to fix/);
    expect(existsSync(join(dir, 'x.launch.csv'))).toBe(false);
    expect(executions()).toEqual([]);

    writeFileSync(join(dir, 'x.launch.csv'), 'caseid,status,execution_sid,error,sent_at\n');
    const again = await cli([...base('x.csv'), '--param-columns', 'First_Name']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('x.launch.csv exists: this list was launched before');
    expect(executions()).toEqual([]);
  });

  it('usage errors exit 2 with the fix', async () => {
    const res = await cli([...base('a.csv'), '--rate', 'fast']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--rate fast is not a rate: give sends a second, e.g. 10/s');
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status: 0 every contact launched');
    expect(help.stdout).toContain('Examples:');
  });

  it('launches a CSV once per contact with only --param-columns as flow.data; landlines and bad numbers go to review', async () => {
    const file = writeContacts('a.csv', [
      { caseid: 'a1', phone: '0711 000 011' },
      { caseid: 'a2', phone: '254711000012' },
      { caseid: 'a3', phone: '+254 711 000 013' },
      { caseid: 'a4', phone: '020 2222222' },
      { caseid: 'a5', phone: '12ab' },
      { caseid: 'a6', phone: '0711000011' },
    ]);
    const dry = await cli([...base(file), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing was sent. 3 to send');
    expect(executions()).toEqual([]);
    expect(existsSync(join(dir, 'a.launch.csv'))).toBe(false);

    const res = await cli(base(file));
    expect(res.stderr).toBe(res.stderr.replace(/Error:|at .*\.js:\d+/g, ''));
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^launched 3 of 3 at/);
    const sent = executions();
    expect(sent.map((e) => e.to).sort()).toEqual([mobile(11), mobile(12), mobile(13)].map((n) => `whatsapp:${n}`));
    for (const e of sent) {
      expect(e.from).toBe(`whatsapp:${SENDER}`);
      expect(e.parameters).toEqual({ first_name: 'Amina', content_sid: CONTENT_SID });
    }
    const rows = trackerRows('a.launch.csv');
    const launched = rows.filter((r) => r[1] === 'launched');
    expect(launched.map((r) => r[0]).sort()).toEqual(['a1', 'a2', 'a3']);
    expect(launched.map((r) => r[2]).sort()).toEqual(sent.map((e) => e.sid).sort());
    expect(statSync(join(dir, 'a.launch.csv')).mode & 0o777).toBe(0o600);
    const review = readFileSync(join(dir, 'a.review.csv'), 'utf8');
    expect(review).toContain('5,a4,…2222,a landline');
    expect(review).toContain('6,a5,…12,not a valid phone number');
    expect(review).toContain('7,a6,…0011,the same number as caseid a1');
    expect(res.stderr).toContain('3 contacts not sent');

    // Resumed with nothing left: nothing is sent again.
    const resumed = await cli([...base(file), '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^launched 0 of 0/);
    expect(executions()).toHaveLength(3);
  });

  it('reads XLSX, numbers stored as numbers included, and waits out forced 429s (Retry-After)', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('contacts');
    sheet.addRow(['caseid', 'mobile', 'first_name', 'notes']);
    sheet.addRow(['b1', 254711000021, 'Juma', 'private']);
    sheet.addRow(['b2', '0711 000 022', 'Wanjiru', 'private']);
    sheet.addRow(['b3', '+254711000023', 'Otieno', 'private']);
    numbers.push('254711000021', '0711000022', '254711000023');
    await workbook.xlsx.writeFile(join(dir, 'b.xlsx'));
    mocks.server.setFaults({ kinds: [429], count: 2, retryAfterSeconds: 1, only: { product: 'studio', method: 'POST', path: /\/Executions$/ } });
    const before = executions().length;
    const res = await cli(base('b.xlsx'));
    mocks.server.setFaults(undefined);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('launched 3 of 3');
    expect(res.stdout).toContain('Twilio throttled 2 requests');
    const added = executions().slice(before);
    expect(added.map((e) => e.to).sort()).toEqual(['whatsapp:+254711000021', 'whatsapp:+254711000022', 'whatsapp:+254711000023']);
    expect(added.map((e) => (e.parameters as { first_name: string }).first_name).sort()).toEqual(['Juma', 'Otieno', 'Wanjiru']);
  });

  it('killed with SIGKILL mid-run and resumed: every contact launched exactly once', async () => {
    const count = 40;
    const file = writeContacts('kill.csv', Array.from({ length: count }, (_, i) => ({ caseid: `k${i}`, phone: mobile(100 + i) })));
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), 'launch', ...base(file), '--rate', '10/s'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...mocks.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    const tracker = join(dir, 'kill.launch.csv');
    const launchedSoFar = () => (existsSync(tracker) ? trackerRows('kill.launch.csv').filter((r) => r[1] === 'launched').length : 0);
    // Waits for a state, not a time: the child is killed once 8 contacts are recorded.
    while (launchedSoFar() < 8 && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    outputs.push(err);
    const firstRun = launchedSoFar();
    expect(firstRun).toBeGreaterThanOrEqual(8);
    expect(firstRun).toBeLessThan(count);

    const res = await cli([...base(file), '--resume', '--rate', '20/s']);
    expect(res.code).toBe(0);
    const mine = executions().filter((e) => e.to.startsWith('whatsapp:+2547110001'));
    expect(mine).toHaveLength(count);
    expect(new Set(mine.map((e) => e.to)).size).toBe(count);
    const latest = new Map(trackerRows('kill.launch.csv').map((r) => [r[0], r]));
    expect([...latest.values()].every((r) => r[1] === 'launched')).toBe(true);
    expect(latest.size).toBe(count);
    expect(new Set([...latest.values()].map((r) => r[2]))).toEqual(new Set(mine.map((e) => e.sid)));
  }, 60_000);
});
