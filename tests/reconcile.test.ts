// sealed-survey reconcile as a team closing a round runs it: the built CLI
// against the Twilio stand-in behind Prism (Studio executions with their
// steps, the Sync queue), the local Sheets server and a launch tracker. Each
// gap is planted and must be found: an ended execution with no row (and the
// widget it ended at), a row still queued, a duplicated row, a row with no
// execution, a contact launched with no execution, one left pending, and an
// execution near Twilio's 30-day retention. No answer (planted in the
// executions' context and steps) and no number may appear in any output.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastWidget } from '../src/closing/ended-at.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { SENDER, startClosingStack, type ClosingStack } from './helpers/closing-stack.js';

const ANSWER = 'SENTINEL-ANSWER-Wanjiru-Kamau';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.now();
const contact = (i: number) => `whatsapp:+2547120${String(i).padStart(5, '0')}`;

let stack: ClosingStack;
let dir: string;
const outputs: string[] = [];
const sids: Record<string, string> = {};

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli('sealed-survey', ['reconcile', '--flow', 'whatsapp-survey', ...args], { cwd: dir, env: { ...stack.env, ...env } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** An ended execution that went invite → q_consent → q_full_name and stopped there, its answers in its context. */
const seed = (name: string, i: number, extra: { status?: 'active' | 'ended'; created?: number; lastWidget?: string } = {}) => {
  const last = extra.lastWidget ?? 'q_full_name';
  sids[name] = stack.mocks.server.addExecution({
    flowSid: stack.flowSid,
    to: contact(i),
    from: SENDER,
    status: extra.status ?? 'ended',
    created: extra.created ?? now - 3 * HOUR,
    parameters: { first_name: ANSWER },
    widgets: { got_full_name: { inbound: { Body: ANSWER } } },
    steps: [
      { transitionedFrom: 'Trigger', transitionedTo: 'invite' },
      { transitionedFrom: 'invite', transitionedTo: 'q_consent', context: { widgets: { invite: { Body: ANSWER } } } },
      { transitionedFrom: 'q_consent', transitionedTo: last, context: { answer: ANSWER } },
      ...(extra.status === 'active' ? [] : [{ transitionedFrom: last, transitionedTo: 'Ended' }]),
    ],
  });
  return sids[name] as string;
};

beforeAll(async () => {
  stack = await startClosingStack();
  dir = mkdtempSync(join(tmpdir(), 'sealed-survey-reconcile-'));
  seed('complete', 1);
  seed('missing', 2, { lastWidget: 'q_consent_retry' });
  seed('queued', 3);
  seed('active', 4, { status: 'active' });
  seed('duplicated', 5);
  seed('old', 6, { created: now - 27 * DAY });
  await stack.addRows([
    { executionSid: sids.complete as string },
    { executionSid: sids.duplicated as string },
    { executionSid: sids.old as string, receivedAt: now - 27 * DAY },
    { executionSid: `FN${'0'.repeat(31)}9` },
    { executionSid: sids.duplicated as string },
  ]);
  await stack.queue(sids.queued as string);
  writeFileSync(
    join(dir, 'round.launch.csv'),
    [
      'caseid,status,execution_sid,error,sent_at',
      `C01,launched,${sids.complete},,${new Date(now - 3 * HOUR).toISOString()}`,
      `C02,launched,${sids.missing},,${new Date(now - 3 * HOUR).toISOString()}`,
      `C07,launched,FN${'a'.repeat(32)},,${new Date(now - 3 * HOUR).toISOString()}`,
      `C08,pending,,,${new Date(now - 3 * HOUR).toISOString()}`,
      'C09,failed,,Studio answered 429 five times,',
    ].join('\n') + '\n',
  );
}, 120_000);

afterAll(async () => {
  const violations = stack ? await stack.mocks.violations() : [];
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  expect(violations).toEqual([]);
  const all = outputs.join('\n');
  expect(all).not.toContain(ANSWER);
  for (let i = 1; i <= 6; i++) expect(all).not.toContain(contact(i).slice(-9));
  expect(all).not.toContain(stack.mocks.authToken);
});

describe('reconcile', () => {
  it('finds every planted gap, names the widget a rowless execution ended at, warns of retention and exits 1', async () => {
    const before = stack.mocks.server.requests().length;
    const res = await cli(['--tracker', 'round.launch.csv']);
    expect(res.code).toBe(1);
    const out = res.stdout;
    expect(out).toContain('executions: 6 (5 ended, 1 active, 1 of them with no row yet)');
    expect(out).toMatch(new RegExp(`missing rows: 1 ended execution with no row and none queued\\n  ${sids.missing}  started \\S+  ended at q_consent_retry\\n`));
    expect(out).toMatch(new RegExp(`queued rows: 1 row in the Sync queue, not yet in the sheet: run \`sealed-survey flush\`\\n  ${sids.queued}\\n`));
    expect(out).toContain(`duplicates: 1 execution in more than one row: keep one row each\n  ${sids.duplicated}  rows 3, 6\n`);
    expect(out).toContain(`launched, no execution: 1 contact`);
    expect(out).toContain(`  C07  FN${'a'.repeat(32)}\n`);
    expect(out).toContain('pending in the tracker: 1 contact');
    expect(out).toContain('  C08\n');
    expect(out).toContain(`rows with no execution: 1 row`);
    expect(out).toContain(`  FN${'0'.repeat(31)}9  row 5\n`);
    // Complete, active and failed-at-launch contacts are not gaps.
    for (const fine of [sids.complete, sids.active, sids.old]) expect(out).not.toContain(`  ${fine}`);
    expect(out).not.toContain('C01');
    expect(out).not.toContain('C09');
    expect(res.stderr).toMatch(/1 execution started more than 25 days ago \(the oldest on \d{4}-\d{2}-\d{2}\): Twilio drops Studio execution data about 30 days/);
    expect(res.stderr).toContain('the round is not complete');
    // Steps are read only for the execution with no row; nothing is written.
    const requests = stack.mocks.server.requests().slice(before);
    expect(requests.filter((r) => r.path.endsWith('/Steps')).map((r) => r.path)).toEqual([`/v2/Flows/${stack.flowSid}/Executions/${sids.missing}/Steps`]);
    expect(requests.filter((r) => r.product !== 'sync' && r.method !== 'GET')).toEqual([]);
    expect(requests.some((r) => r.path.endsWith('/Context'))).toBe(false);
  });

  it('--since leaves out older executions and the rows received before it', async () => {
    const res = await cli(['--since', new Date(now - 5 * DAY).toISOString().slice(0, 10)]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('executions: 5 (4 ended, 1 active');
    expect(res.stderr).not.toContain('25 days ago');
    expect(res.stdout).not.toContain(sids.old);
  });

  it('exits 0 for a flow whose ended executions all have their rows; other flows\' rows and queued rows are not its gaps', async () => {
    const definition = (await stack.twilio.studio.v2.flows(stack.flowSid).fetch()).definition;
    const other = await stack.twilio.studio.v2.flows.create({ friendlyName: 'pilot-survey', status: 'published', definition });
    const done = [1, 2].map((i) => stack.mocks.server.addExecution({ flowSid: other.sid, to: contact(20 + i), from: SENDER, status: 'ended', created: now - 2 * HOUR, widgets: { q: { Body: ANSWER } } }));
    stack.mocks.server.addExecution({ flowSid: other.sid, to: contact(23), from: SENDER, status: 'active', created: now - HOUR });
    await stack.addRows(done.map((executionSid) => ({ executionSid })));
    const res = await runCli('sealed-survey', ['reconcile', '--flow', other.sid], { cwd: dir, env: stack.env });
    outputs.push(res.stdout, res.stderr);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('executions: 3 (2 ended, 1 active, 1 of them with no row yet)');
    expect(res.stdout).not.toContain('missing rows');
    expect(res.stdout).not.toContain('queued rows');
    expect(res.stdout).not.toContain('duplicates');
    expect(res.stdout).toContain('rows with no execution: 5 rows');
    expect(res.stderr).toContain('every ended execution has its row in the sheet');
  });

  it('answers bad options and configuration with the fix, exit 2, before reading anything', async () => {
    const badDate = await cli(['--since', 'last tuesday']);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--since last tuesday is not a date: give a day (2026-05-01)');
    const noSheet = await cli([], { SHEET_ID: '' });
    expect(noSheet.code).toBe(2);
    expect(noSheet.stderr).toContain('SHEET_ID is not set');
    const noFlow = await runCli('sealed-survey', ['reconcile', '--flow', 'no-such-flow'], { cwd: dir, env: stack.env });
    outputs.push(noFlow.stdout, noFlow.stderr);
    expect(noFlow.code).toBe(1);
    expect(noFlow.stderr).toContain('no flow no-such-flow in this account');
    const refused = await cli([], { TWILIO_AUTH_TOKEN: 'not-the-token' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Twilio refused the credentials (HTTP 401) to find the flow: check TWILIO_ACCOUNT_SID');
    expect(refused.stderr).not.toContain('not-the-token');
    const help = await runCli('sealed-survey', ['reconcile', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status: 0 every ended execution has its row, 1 something is missing');
    expect(help.stdout).toContain('$ sealed-survey reconcile --flow whatsapp-survey');
  });
});

describe('the widget an execution ended at', () => {
  it('is the last transition\'s target, or its source when the flow ended, ordered by the chain within one second', () => {
    expect(lastWidget([])).toBeUndefined();
    expect(lastWidget([{ from: 'Trigger', to: 'invite', at: 1 }, { from: 'invite', to: 'q_age', at: 2 }])).toBe('q_age');
    expect(lastWidget([{ from: 'q_age', to: 'Ended', at: 5 }, { from: 'invite', to: 'q_age', at: 5 }, { from: 'Trigger', to: 'invite', at: 5 }])).toBe('q_age');
    expect(lastWidget([{ from: 'split', to: 'bye', at: 7 }, { from: 'q', to: 'split', at: 7 }])).toBe('bye');
  });
});
