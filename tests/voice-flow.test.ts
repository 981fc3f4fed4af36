// flows/voice-survey.json: lint finds it clean and finds what would leak a
// caller's keys; simulate plays scripted calls through the real Functions on
// the local stack, and every way out writes one row whose personal columns
// hold only tokens that open, with the analyst key, to what the caller gave.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { startLocalStack, type LocalStack } from '../src/dev/stack.js';
import { Opener, isToken } from '../src/envelope/index.js';
import { flowColumns } from '../src/flow/columns.js';
import { readFlow, type FlowDefinition, type Widget } from '../src/flow/definition.js';
import { lintFlow } from '../src/flow/lint.js';
import { GeneratedChat, readScript, rng, ScriptedChat, triggerOf } from '../src/flow/respondents.js';
import { runExecution, type ExecutionResult } from '../src/flow/runner.js';
import { simulate, type Job } from '../src/flow/simulate.js';
import { loadKeyFiles } from '../src/keys/files.js';

const FILE = join(PROJECT_ROOT, 'flows', 'voice-survey.json');
const flow = readFlow(FILE);
const tmp = mkdtempSync(join(tmpdir(), 'sealed-survey-voice-'));
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ flow, keysDir: join(tmp, 'keys') });
});

afterAll(async () => {
  const logs = stack?.functions.output() ?? '';
  await stack?.stop();
  rmSync(tmp, { recursive: true, force: true });
  // What callers keyed or said in these runs never reached a Function's log.
  for (const secret of ['4839201175', '7310928', 'queue was long']) expect(logs).not.toContain(secret);
});

const widget = (f: FlowDefinition, name: string) => f.states.find((w) => w.name === name) as Widget;
const param = (w: Widget, key: string) => (w.properties.parameters as Array<{ key: string; value: string }>).find((p) => p.key === key) as { value: string };

describe('lint on the voice survey', () => {
  it('finds nothing: the ID and the answer are sealed by the redirects, consent is only split on', () => {
    expect(lintFlow(flow, FILE).map((f) => `${f.widget} ${f.property}: ${f.message}`)).toEqual([]);
    const c = flowColumns(flow);
    expect(c.piiColumns).toEqual(['respondent', 'national_id', 'comment']);
    expect(c.columns.find((col) => col.name === 'national_id')?.source).toBe('ask_id');
  });

  it('reports keys gathered in Studio that reach a redirect URL or a column, and a token published under another column', () => {
    const leaky = structuredClone(flow);
    widget(leaky, 'ask_id').properties.url = `${String(widget(leaky, 'ask_id').properties.url)}&hint={{widgets.q_consent.Digits}}`;
    param(widget(leaky, 'publish'), 'comment').value = '{{widgets.q_consent.Digits}}';
    param(widget(leaky, 'publish'), 'national_id').value = '{{widgets.ask_answer.comment}}';
    const errors = lintFlow(leaky, FILE).filter((f) => f.severity === 'error');
    expect(errors.find((f) => f.widget === 'ask_id' && f.property === 'url')?.message).toMatch(/PII from q_consent .* reaches a TwiML Redirect URL.*Add TwiML Redirect to the voice-gather Function/);
    expect(errors.some((f) => f.widget === 'publish' && f.property === 'parameters.comment' && /reaches the publish column "comment"/.test(f.message))).toBe(true);
    expect(errors.some((f) => f.widget === 'publish' && f.property === 'parameters.national_id' && /token of field "comment".*published as "national_id"/.test(f.message))).toBe(true);
  });
});

describe('simulate on the voice survey (local stack, real Functions)', () => {
  const caller = (n: number) => `+2547000002${String(n).padStart(2, '0')}`;
  const scripts = [
    { from: caller(1), trigger: 'call' as const, replies: ['1', '4839201175', 'The nurses were kind but the queue was long'] },
    { from: caller(2), trigger: 'call' as const, replies: ['1', '12', '7310928', '<timeout>', '4'] },
    { from: caller(3), trigger: 'call' as const, replies: ['<timeout>', '<timeout>'] },
    { from: caller(4), trigger: 'call' as const, replies: ['1', '<hangup>'] },
    { from: caller(5), trigger: 'call' as const, replies: ['2'] },
    { from: caller(6), trigger: 'rest' as const, replies: ['<busy>'] },
    // Consents and keys the ID, then says nothing at the third question, asked twice.
    { from: caller(7), trigger: 'call' as const, replies: ['1', '4839201175', '<timeout>', '<timeout>'] },
  ];

  it('completes, retries, goes silent, hangs up, declines, is not picked up and stops at the third question, each with one row whose personal columns hold only tokens', async () => {
    const jobs = scripts.map((s) => ({ trigger: triggerOf({ ...s, message: '', data: {}, parameters: {} }), chat: new ScriptedChat(s.replies) }));
    const byCaller = new Map<string, ExecutionResult>();
    const onResult = (r: ExecutionResult, job: Job) => byCaller.set(job.trigger.kind === 'rest' ? job.trigger.to : job.trigger.kind === 'call' ? job.trigger.from : '', r);
    const { summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: 3, flowAddress: '+254711000000', onResult });
    expect([...summary.errors.keys()]).toEqual([]);
    const outcome = (n: number) => byCaller.get(caller(n))?.variables.outcome;
    expect([1, 2, 3, 4, 5, 6, 7].map(outcome)).toEqual(['complete', 'complete', 'no_reply', 'hung_up', 'declined', 'no_reply', 'incomplete']);
    expect(byCaller.get(caller(4))?.steps.map((s) => `${s.widget}:${s.event}`)).toContain('ask_id:timeout');
    expect(byCaller.get(caller(2))?.steps.filter((s) => s.widget === 'ask_id').map((s) => s.event)).toEqual(['return', 'return']);
    for (const job of jobs) expect(job.chat.unused).toBe(0);

    const [header, ...rows] = stack.sheets.rows(stack.spreadsheetId, stack.tab);
    const col = (name: string) => (header as string[]).indexOf(name);
    const rowOf = (n: number) => rows.find((r) => r[col('execution_sid')] === byCaller.get(caller(n))?.executionSid) as string[];
    expect(rows.filter((r) => r.some((c) => c !== ''))).toHaveLength(scripts.length);
    for (const n of [3, 4, 5, 6, 7]) {
      expect(rowOf(n)[col('outcome')]).toBe(outcome(n));
      for (const pii of ['respondent', 'national_id', 'comment']) expect(rowOf(n)[col(pii)] ?? '').toBe('');
    }
    expect(rowOf(4)[col('final_status')]).toBe('incomplete');
    // The question each stopped after: none, the consent key, or the ID the redirect accepted (a timed-out one is no answer).
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => rowOf(n)[col('last_answered')] ?? '')).toEqual(['ask_answer', 'ask_answer', '', 'q_consent', 'q_consent', '', 'ask_id']);

    // The completed rows: every personal column a token, which the analyst key opens to exactly what the caller gave, as one response of its execution.
    const opener = new Opener(loadKeyFiles([stack.privateKeyFile]).keyring);
    const expected = { 1: ['4839201175', 'The nurses were kind but the queue was long', 'speech'], 2: ['7310928', '4', 'dtmf'] } as const;
    for (const [n, [id, answer, via]] of Object.entries(expected)) {
      const row = rowOf(Number(n));
      for (const pii of ['respondent', 'national_id', 'comment']) expect(isToken(row[col(pii)] ?? '')).toBe(true);
      expect(row.join('\n')).not.toContain(id);
      expect(row[col('answered_by')]).toBe(via);
      const opened = opener.openResponse(['respondent', 'national_id', 'comment'].map((column) => ({ column, token: row[col(column)] as string })), { executionSid: row[col('execution_sid')] });
      expect(opened.map((r) => (r.ok ? r.value : r.error.code))).toEqual([caller(Number(n)), id, answer]);
    }
  });

  it('the shipped scripted calls (flows/answers/voice-demo.json) all end without a failure, one row each', async () => {
    const jobs = readScript(join(PROJECT_ROOT, 'flows', 'answers', 'voice-demo.json')).map((r) => ({ trigger: triggerOf(r), chat: new ScriptedChat(r.replies) }));
    const before = stack.sheets.rows(stack.spreadsheetId, stack.tab).length;
    const { summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: 3 });
    expect(summary.failed).toBe(0);
    expect(summary.stored).toBe(jobs.length);
    expect(stack.sheets.rows(stack.spreadsheetId, stack.tab).length - before).toBe(jobs.length);
    expect(Object.fromEntries(summary.outcomes)).toEqual({ complete: 3, declined: 1, no_reply: 2, hung_up: 1 });
  });
});

describe('generated callers (simulate --respondents)', () => {
  it('press a consent key the flow accepts and key IDs of the length the redirect asks for', async () => {
    const random = rng(3);
    const jobs = Array.from({ length: 12 }, (_, i) => ({ trigger: { kind: 'call' as const, from: `+2547000004${String(i).padStart(2, '0')}` }, chat: new GeneratedChat(flow, { random, invalidRate: 0, timeoutRate: 0 }) }));
    const { summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: 3 });
    expect(summary.failed).toBe(0);
    expect((summary.outcomes.get('complete') ?? 0) + (summary.outcomes.get('declined') ?? 0)).toBe(12);
    expect(summary.outcomes.get('complete') ?? 0).toBeGreaterThan(6);
    // Valid keys on the first try: no ID was refused.
    expect(summary.widgetCounts.get('say_id_retry')).toBeUndefined();
  });
});

describe('Make Outgoing Call in the runner', () => {
  it('takes answered, busy, noAnswer or failed as the script says', async () => {
    const dial: FlowDefinition = {
      initial_state: 'Trigger',
      states: [
        { name: 'Trigger', type: 'trigger', transitions: [{ event: 'incomingRequest', next: 'dial' }], properties: {} },
        {
          name: 'dial',
          type: 'make-outgoing-call-v2',
          transitions: ['answered', 'busy', 'noAnswer', 'failed'].map((event) => ({ event, next: `on_${event}` })),
          properties: { to: '{{contact.channel.address}}', from: '{{flow.channel.address}}' },
        },
        ...['answered', 'busy', 'noAnswer', 'failed'].map((event) => ({ name: `on_${event}`, type: 'set-variables', transitions: [{ event: 'next' }], properties: { variables: [{ key: 'took', value: event }] } })),
      ],
    };
    const took = async (reply: string) => {
      const result = await runExecution({ flow: dial, functionsUrl: 'http://127.0.0.1:9', authToken: 'x', trigger: { kind: 'rest', to: '+254700000300', data: {} }, flowAddress: '+254711000000', chat: new ScriptedChat([reply]) });
      return result.variables.took;
    };
    expect(await took('<answer>')).toBe('answered');
    expect(await took('<busy>')).toBe('busy');
    expect(await took('<no-answer>')).toBe('noAnswer');
    expect(await took('<timeout>')).toBe('noAnswer');
    expect(await took('<delivery-failure>')).toBe('failed');
  });
});
