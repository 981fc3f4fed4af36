// sealed-survey purge as a team closing a round runs it: the built CLI
// against the Twilio stand-in behind Prism, which holds executions and
// messages in every state and refuses, as Twilio does, to delete a message
// that is not final. A dry run changes nothing; a run stopped with Ctrl-C and
// run again finishes without deleting anything twice; a message still `sent`
// is redacted, counted and deleted on a later run once delivered; active,
// unconfirmed (only queued) and recent executions, and messages outside a
// conversation, are never touched. No message body, answer or number
// appears in any output.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandArgs } from '../src/cli/command-args.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import type { MessageStatus, RequestRecord } from '../src/dev/twilio-server.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { SENDER, startClosingStack, type ClosingStack } from './helpers/closing-stack.js';

const BODY = 'SENTINEL-BODY-Hello Wanjiru, your answer 42';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const now = Date.now();
const contact = (i: number) => `whatsapp:+2547130${String(i).padStart(5, '0')}`;
const BULK = 10;

let stack: ClosingStack;
let dir: string;
const outputs: string[] = [];
const sid: Record<string, string> = {};
/** Messages that must survive every run, with their bodies. */
const untouched: string[] = [];
let sentMessage = '';
let recentMessages: string[] = [];

async function purge(args: string[] = []): Promise<CliResult> {
  const result = await runCli('sealed-survey', ['purge', '--flow', 'whatsapp-survey', '--rate', '1000/s', ...args], { cwd: dir, env: stack.env });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** An execution of `contact(i)` and its conversation: one message per status, alternating outbound and inbound, all inside its window. */
function conversation(name: string, i: number, options: { status?: 'active' | 'ended'; created?: number; ended?: number; messages: MessageStatus[] }): string[] {
  const created = options.created ?? now - 3 * HOUR;
  sid[name] = stack.mocks.server.addExecution({
    flowSid: stack.flowSid,
    to: contact(i),
    from: SENDER,
    status: options.status ?? 'ended',
    created,
    ...(options.ended !== undefined ? { ended: options.ended } : {}),
    widgets: { got_full_name: { inbound: { Body: BODY } } },
    steps: [{ transitionedFrom: 'Trigger', transitionedTo: 'invite' }, { transitionedFrom: 'invite', transitionedTo: 'Ended' }],
  });
  return options.messages.map((status, k) => {
    const inbound = status === 'received';
    return stack.mocks.server.addMessage({ direction: inbound ? 'inbound' : 'outbound-api', from: inbound ? contact(i) : SENDER, to: inbound ? SENDER : contact(i), status, body: `${BODY} #${k}`, dateSent: created + 10_000 + k * MINUTE });
  });
}

const writes = (records: readonly RequestRecord[]) => records.filter((r) => r.product !== 'sync' && r.method !== 'GET');
const messageBySid = () => new Map(stack.mocks.server.messages().map((m) => [m.sid, m]));
const executionSids = () => new Set(stack.mocks.server.flows().flatMap((f) => f.executions.map((e) => e.sid)));

beforeAll(async () => {
  stack = await startClosingStack();
  dir = mkdtempSync(join(tmpdir(), 'sealed-survey-purge-'));
  conversation('done', 1, { messages: ['delivered', 'received', 'read', 'received'] });
  [, , sentMessage = ''] = conversation('sent', 2, { messages: ['delivered', 'received', 'sent'] });
  for (let b = 0; b < BULK; b++) conversation(`bulk${b}`, 10 + b, { messages: ['delivered', 'received'] });
  untouched.push(...conversation('active', 3, { status: 'active', messages: ['delivered', 'received'] }));
  untouched.push(...conversation('queued', 4, { messages: ['delivered', 'received'] }));
  recentMessages = conversation('recent', 5, { created: now - 30 * MINUTE, ended: now - 10 * MINUTE, messages: ['delivered', 'received'] });
  untouched.push(...recentMessages);
  // The same contact as 'done', three days earlier (another round), and from another sender during 'done'.
  untouched.push(stack.mocks.server.addMessage({ direction: 'outbound-api', from: SENDER, to: contact(1), status: 'delivered', body: BODY, dateSent: now - 3 * DAY }));
  untouched.push(stack.mocks.server.addMessage({ direction: 'outbound-api', from: 'whatsapp:+14155230000', to: contact(1), status: 'delivered', body: BODY, dateSent: now - 3 * HOUR + 5 * MINUTE }));
  const confirmed = ['done', 'sent', 'active', 'recent', ...Array.from({ length: BULK }, (_, b) => `bulk${b}`)];
  await stack.addRows(confirmed.map((n) => ({ executionSid: sid[n] as string })));
  // 'queued' waits in the Sync queue: not confirmed until flush writes it.
  await stack.queue(sid.queued as string);
}, 120_000);

afterAll(async () => {
  const violations = stack ? await stack.mocks.violations() : [];
  const records = stack ? stack.mocks.server.requests() : [];
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
  // Nothing was deleted twice: every DELETE path succeeded once, and none found its target already gone.
  const deletes = records.filter((r) => r.method === 'DELETE');
  expect(deletes.filter((r) => r.status === 404)).toEqual([]);
  const paths = deletes.filter((r) => r.status === 204).map((r) => r.path);
  expect(paths.length).toBeGreaterThan(0);
  expect(new Set(paths).size).toBe(paths.length);
  const all = outputs.join('\n');
  expect(all).not.toContain('SENTINEL');
  for (const i of [1, 2, 3, 4, 5, 10]) expect(all).not.toContain(contact(i).slice(-9));
  expect(all).not.toContain(stack.mocks.authToken);
});

describe('purge', () => {
  it('--dry-run lists what it would do and sends no POST or DELETE', async () => {
    const before = stack.mocks.server.requests().length;
    const res = await purge(['--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`${BULK + 2} executions to purge (ended, row in the sheet, ended over 1h ago); left alone: 1 active, 1 without a row in the sheet, 1 ended less than 1h ago`);
    const messages = 4 + 3 + 2 * BULK;
    expect(res.stdout).toContain(`dry run, nothing changed: would redact ${messages} messages, delete ${messages - 1} messages (1 not final yet: left for a later run) and delete ${BULK + 1} executions`);
    expect(res.stdout).toContain(`  ${sid.sent}  redact 3, delete 2, 1 not final\n`);
    expect(res.stdout).toContain(`  ${sid.done}  redact 4, delete 4, delete the execution\n`);
    expect(writes(stack.mocks.server.requests().slice(before))).toEqual([]);
    expect([...messageBySid().values()].every((m) => m.body.startsWith('SENTINEL'))).toBe(true);
  });

  it('stopped with Ctrl-C mid-run (exit 130), then run again, finishes; a message still sent is redacted and left for later', async () => {
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), 'purge', '--flow', 'whatsapp-survey', '--rate', '5/s', '--concurrency', '1'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...stack.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    const before = stack.mocks.server.requests().length;
    // Waits for a state, not a time: Ctrl-C once the first message is deleted.
    while (!stack.mocks.server.requests().slice(before).some((r) => r.method === 'DELETE' && r.status === 204) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await exited;
    outputs.push(out);
    expect(code).toBe(130);
    expect(out).toContain('stopped (run purge again to continue)');
    expect(executionSids().has(sid[`bulk${BULK - 1}`] as string)).toBe(true);

    const res = await purge();
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('1 left for a later run (not in a final state yet)');
    expect(res.stderr).toContain('1 message not in a final state yet: run purge again later');
    const messages = messageBySid();
    const executions = executionSids();
    for (const name of ['done', ...Array.from({ length: BULK }, (_, b) => `bulk${b}`)]) expect(executions.has(sid[name] as string), name).toBe(false);
    // The sent message: redacted, still there (Twilio refuses to delete it), its execution kept.
    expect(messages.get(sentMessage)).toMatchObject({ status: 'sent', body: '' });
    expect(executions.has(sid.sent as string)).toBe(true);
    expect([...messages.keys()].sort()).toEqual([...untouched, sentMessage].sort());
    for (const m of untouched) expect(messages.get(m)?.body).toMatch(/^SENTINEL/);
    for (const name of ['active', 'queued', 'recent']) expect(executions.has(sid[name] as string), name).toBe(true);
  }, 120_000);

  it('deletes the left message once it is delivered, then its execution, through Twilio\'s 429s; a further run has nothing to do', async () => {
    stack.mocks.server.updateMessage(sentMessage, { status: 'delivered' });
    const start = stack.mocks.server.requests().length;
    stack.mocks.server.setFaults({ kinds: [429], count: 3, only: { method: 'DELETE' } });
    const res = await purge();
    stack.mocks.server.setFaults(undefined);
    expect(res.code).toBe(0);
    // Each DELETE answered 429 was tried again until Twilio took it.
    const deletes = stack.mocks.server.requests().slice(start).filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.status)).toEqual([429, 429, 429, 204, 204]);
    expect(res.stdout).toContain('redacted 0 messages, deleted 1 message, 0 left for a later run (not in a final state yet); deleted 1 execution');
    expect(messageBySid().has(sentMessage)).toBe(false);
    expect(executionSids().has(sid.sent as string)).toBe(false);

    const before = stack.mocks.server.requests().length;
    const again = await purge();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 executions to purge');
    expect(writes(stack.mocks.server.requests().slice(before))).toEqual([]);
    for (const m of untouched) expect(messageBySid().get(m)?.body).toMatch(/^SENTINEL/);
  });

  it('--keep-executions and --older-than 0 purge a recent execution\'s messages and keep it', async () => {
    const res = await purge(['--older-than', '0', '--keep-executions']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('1 execution to purge');
    expect(res.stdout).toContain('redacted 2 messages, deleted 2 messages, 0 left for a later run (not in a final state yet); deleted 0 executions, kept 1 (--keep-executions)');
    expect(executionSids().has(sid.recent as string)).toBe(true);
    const messages = messageBySid();
    for (const m of recentMessages) expect(messages.has(m)).toBe(false);
    for (const m of untouched.filter((u) => !recentMessages.includes(u))) expect(messages.get(m)?.body).toMatch(/^SENTINEL/);
  });

  it('answers bad options with the fix, exit 2', async () => {
    const bad = await purge(['--older-than', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--older-than soon is not a duration: give a number and a unit, e.g. 30m, 1h or 2d');
    const from = await purge(['--from', '12']);
    expect(from.code).toBe(2);
    const help = await runCli('sealed-survey', ['purge', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status: 0 every eligible execution purged');
    expect(help.stdout).toContain('$ sealed-survey purge --flow whatsapp-survey');
  });
});
