// sealed-survey monitor as a survey team runs it: the built CLI over a
// tracker and a contact list, against the Twilio stand-in behind Prism with
// seeded messages (outbound delivered, read, failed, undelivered; replies,
// one lost to 11200; one from a contact never launched; one from a stranger)
// and real Studio executions. No number may appear in anything it prints or
// writes.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandArgs } from '../src/cli/command-args.js';
import { readCsvRows } from '../src/csv/scan.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { readFlow } from '../src/flow/definition.js';
import { twilioClient } from '../src/twilio/client.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

const SENDER = 'whatsapp:+14155238886';
const MINUTE = 60_000;
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

/** Kenyan mobile numbers, some written nationally (the contact list as a team keeps it). */
const e164 = (n: number) => `+25471${String(10_000_000 + n).slice(1)}`;
const national = (n: number) => `071${String(10_000_000 + n).slice(1)}`;
const CASES = ['C01', 'C02', 'C03', 'C04', 'C05', 'C06', 'C07', 'C08', 'C09', 'C10'] as const;
const numberOf = (caseid: string) => e164(CASES.indexOf(caseid as (typeof CASES)[number]) + 11);
const STRANGER = e164(99);
/** Every way a number could leak: E.164 and national digits. */
const ALL_NUMBERS = [...CASES.map((c) => numberOf(c)), STRANGER].flatMap((n) => [n, n.slice(1), `0${n.slice(4)}`]);

let mocks: TwilioMocks;
let dir: string;
const outputs: string[] = [];

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli('sealed-survey', args, { cwd: dir, env: { ...mocks.env, ...env } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

const caseRows = (file: string) => {
  const [header, ...rows] = readCsvRows(readFileSync(file));
  return new Map(rows.map((r) => [r[0] as string, Object.fromEntries((header as string[]).map((h, i) => [h, r[i] as string]))]));
};

beforeAll(async () => {
  mocks = await startTwilioMocks();
  dir = mkdtempSync(join(tmpdir(), 'sealed-survey-monitor-'));
  const twilio = await twilioClient(mocks.credentials, { env: mocks.env, warn: () => {} });
  const definition = readFlow(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'));
  const flow = await twilio.studio.v2.flows.create({ friendlyName: 'whatsapp-survey', status: 'published', definition: definition as object });

  // C01–C08 launched ten minutes ago; C09's launch failed; C10 was never launched.
  const sentAt = now - 10 * MINUTE;
  const tracker = ['caseid,status,execution_sid,error,sent_at'];
  const executionOf = new Map<string, string>();
  for (const caseid of CASES.slice(0, 8)) {
    const execution = await twilio.studio.v2.flows(flow.sid).executions.create({ to: `whatsapp:${numberOf(caseid)}`, from: SENDER });
    executionOf.set(caseid, execution.sid);
    tracker.push(`${caseid},launched,${execution.sid},,${iso(sentAt)}`);
  }
  tracker.push('C09,failed,,Studio answered 429 five times,');
  tracker.push('C10,,,,');
  await twilio.studio.v2.flows(flow.sid).executions(executionOf.get('C03') as string).update({ status: 'ended' });
  writeFileSync(join(dir, 'contacts.launch.csv'), tracker.join('\n') + '\n');
  // Half the numbers written nationally (parsed with --default-country KE), one row without a valid number.
  const contacts = ['caseid,phone,first_name', ...CASES.map((c, i) => `${c},${i % 2 === 0 ? numberOf(c) : national(CASES.indexOf(c) + 11)},Name${i}`), 'C11,12345,Nobody'];
  writeFileSync(join(dir, 'contacts.csv'), contacts.join('\n') + '\n');

  const out = (caseid: string, status: 'delivered' | 'read' | 'failed' | 'undelivered' | 'sent', errorCode?: number, at = now - 9 * MINUTE) =>
    mocks.server.addMessage({ direction: 'outbound-api', from: SENDER, to: `whatsapp:${numberOf(caseid)}`, status, body: 'Hello, will you take our survey?', dateSent: at, ...(errorCode !== undefined ? { errorCode } : {}) });
  const reply = (from: string, errorCode?: number) => mocks.server.addMessage({ direction: 'inbound', from: `whatsapp:${from}`, to: SENDER, body: 'YES', dateSent: now - 5 * MINUTE, ...(errorCode !== undefined ? { errorCode } : {}) });
  out('C01', 'delivered');
  out('C02', 'read');
  out('C03', 'read');
  reply(numberOf('C03'));
  out('C04', 'failed', 63016);
  out('C05', 'undelivered', 30003);
  out('C06', 'sent');
  // An earlier round's failure to C06, days before this launch: not this round's.
  out('C06', 'failed', 21610, now - 3 * 24 * 60 * MINUTE);
  out('C08', 'delivered');
  reply(numberOf('C08'), 11200);
  reply(numberOf('C10'));
  reply(STRANGER);
}, 120_000);

afterAll(async () => {
  const violations = mocks ? await mocks.violations() : [];
  await mocks?.stop();
  const written = dir && existsSync(join(dir, 'contacts.monitor.csv')) ? readFileSync(join(dir, 'contacts.monitor.csv'), 'utf8') : '';
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Every call was one Twilio's API accepts, and no number, token or message body reached any output.
  expect(violations).toEqual([]);
  const all = [...outputs, written].join('\n');
  for (const n of ALL_NUMBERS) expect(all).not.toContain(n);
  expect(all).not.toContain(mocks.authToken);
  expect(all).not.toContain('take our survey');
  expect(all).not.toContain('Name1');
});

describe('monitor', () => {
  it('gives each caseid its state, error codes explained, lost replies, unsolicited messages and execution states', async () => {
    const res = await cli(['monitor', '--tracker', 'contacts.launch.csv', '--contacts', 'contacts.csv', '--default-country', 'KE']);
    expect(res.stderr).toContain('TWILIO_API_URL is set');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('1 row of the contact list without a caseid or a valid number');

    const cases = caseRows(join(dir, 'contacts.monitor.csv'));
    const state = (c: string) => cases.get(c)?.state;
    expect(Object.fromEntries(CASES.map((c) => [c, state(c)]))).toEqual({
      C01: 'delivered',
      C02: 'read',
      C03: 'answered back',
      C04: 'failed',
      C05: 'failed',
      C06: 'sent',
      C07: 'launched',
      C08: 'answered back',
      C09: 'failed',
      C10: 'unsolicited',
    });
    expect(cases.get('C04')).toMatchObject({ message_status: 'failed', error_code: '63016' });
    expect(cases.get('C04')?.error).toContain('content template');
    expect(cases.get('C05')).toMatchObject({ message_status: 'undelivered', error_code: '30003' });
    expect(cases.get('C06')).toMatchObject({ message_status: 'sent', error_code: '' });
    expect(cases.get('C08')).toMatchObject({ replies: '1', lost_replies: '1' });
    expect(cases.get('C03')).toMatchObject({ replies: '1', lost_replies: '0', execution_status: 'ended' });
    expect(cases.get('C01')?.execution_status).toBe('active');
    expect(cases.get('C09')).toMatchObject({ error: 'Studio answered 429 five times', execution_status: '' });
    expect(cases.get('C10')).toMatchObject({ replies: '1', execution_status: '' });
    expect(statSync(join(dir, 'contacts.monitor.csv')).mode & 0o777).toBe(0o600);

    const line = (label: string) => res.stdout.split('\n').find((l) => l.startsWith(label)) ?? '';
    expect(line('failed')).toMatch(/^failed\s+3\s+30\.0%$/);
    expect(line('answered back')).toMatch(/^answered back\s+2\s+20\.0%$/);
    expect(line('unsolicited')).toMatch(/^unsolicited\s+1\s/);
    expect(line('launched')).toMatch(/^launched\s+1\s/);
    expect(res.stdout).toContain('executions: 7 active, 1 ended');
    expect(res.stdout).toContain('lost replies: 1');
    expect(res.stdout).toContain('messages from numbers not in the contact list: 1');
    expect(res.stdout).toMatch(/^63016\s+opener\s+1\s+free-form message outside the 24-hour window/m);
    expect(res.stdout).toMatch(/^30003\s+opener\s+1\s+unreachable handset/m);
    expect(res.stdout).toMatch(/^11200\s+reply\s+1\s+a reply was lost: /m);
    // The earlier round's 21610 lies before the launch: not asked for, not counted.
    expect(res.stdout).not.toContain('21610');
    expect(res.stdout).not.toContain('\u001b[');
    const listed = mocks.server.requests().filter((r) => r.path.endsWith('/Messages.json'));
    expect(listed.at(-1)?.query).toMatch(/DateSent%3E=/);
  });

  it('--watch refreshes with what Twilio learned since, until Ctrl-C (130)', async () => {
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), 'monitor', '--tracker', 'contacts.launch.csv', '--contacts', 'contacts.csv', '--default-country', 'KE', '--watch', '0.05'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...mocks.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const changed: Array<() => void> = [];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (const f of changed.splice(0)) f();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
    const until = async (test: () => boolean) => {
      while (!test()) await new Promise<void>((ok) => changed.push(ok));
    };
    try {
      await until(() => /^answered back\s+2\s/m.test(stdout) && stdout.includes('refreshing every'));
      // C01 answers; the next refresh shows it.
      mocks.server.addMessage({ direction: 'inbound', from: `whatsapp:${numberOf('C01')}`, to: SENDER, body: 'YES', dateSent: Date.now() });
      await until(() => /^answered back\s+3\s/m.test(stdout));
      await until(() => (stdout.match(/refreshing every/g) ?? []).length >= 2);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
      outputs.push(stdout, stderr);
    }
    expect(caseRows(join(dir, 'contacts.monitor.csv')).get('C01')?.state).toBe('answered back');
  }, 60_000);

  it('refuses bad options and bad files with the fix, exit 2 or 1, and writes nothing', async () => {
    const out = join(dir, 'nothing.csv');
    const missing = await cli(['monitor', '--tracker', 'contacts.launch.csv', '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--contacts <file>' not specified");
    const watch = await cli(['monitor', '--tracker', 'contacts.launch.csv', '--contacts', 'contacts.csv', '--watch', '0', '--out', out]);
    expect(watch.code).toBe(2);
    expect(watch.stderr).toContain('--watch takes minutes between refreshes');
    const country = await cli(['monitor', '--tracker', 'contacts.launch.csv', '--contacts', 'contacts.csv', '--default-country', 'Kenya', '--out', out]);
    expect(country.code).toBe(2);
    expect(country.stderr).toContain('--default-country Kenya is not a country code');
    writeFileSync(join(dir, 'old.launch.csv'), 'caseid,status,sent_at\nC01,launched,\n');
    const columns = await cli(['monitor', '--tracker', 'old.launch.csv', '--contacts', 'contacts.csv', '--out', out]);
    expect(columns.code).toBe(1);
    expect(columns.stderr).toContain('has no "execution_sid", "error" columns');
    const absent = await cli(['monitor', '--tracker', 'nope.launch.csv', '--contacts', 'contacts.csv', '--out', out]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain('the tracker nope.launch.csv does not exist');
    writeFileSync(join(dir, 'nonumber.csv'), 'caseid,first_name\nC01,Ann\n');
    const noNumber = await cli(['monitor', '--tracker', 'contacts.launch.csv', '--contacts', 'nonumber.csv', '--out', out]);
    expect(noNumber.code).toBe(2);
    expect(noNumber.stderr).toContain('--number-column');
    const noCredentials = await runCli('sealed-survey', ['monitor', '--tracker', 'contacts.launch.csv', '--contacts', 'contacts.csv', '--out', out], { cwd: dir, env: { TWILIO_API_URL: mocks.url } });
    outputs.push(noCredentials.stdout, noCredentials.stderr);
    expect(noCredentials.code).toBe(2);
    expect(noCredentials.stderr).toContain('TWILIO_ACCOUNT_SID is not set');
    expect(existsSync(out)).toBe(false);
  });

  it('--help lists the states, exit statuses and examples', async () => {
    const res = await cli(['monitor', '--help']);
    expect(res.code).toBe(0);
    for (const text of ['answered back', 'unsolicited', '11200', 'Exit status: 0 done', '130 stopped', 'Examples:', '--watch 5']) expect(res.stdout).toContain(text);
  });
});
