// The local Studio runner, widget by widget, on small flows written here.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stopped } from '../src/cli/common.js';
import { freePort, type RunningFunctions } from '../src/dev/functions-server.js';
import { conditionHolds } from '../src/flow/conditions.js';
import { FlowError, parseFlow, type FlowDefinition, type Widget } from '../src/flow/definition.js';
import { RecordingChat, ScriptedChat } from '../src/flow/respondents.js';
import { runExecution, TIMEOUT } from '../src/flow/runner.js';
import { formatSummary, simulate } from '../src/flow/simulate.js';
import { newSealedKeyPair } from '../src/keys/keys.js';
import { AUTH_TOKEN, startTestFunctions } from './helpers/functions.js';

const offset = { x: 0, y: 0 };
function flowOf(states: unknown[]): FlowDefinition {
  return parseFlow(JSON.stringify({ description: 't', states, initial_state: 'Trigger', flags: { allow_concurrent_calls: true } }), 'test');
}
const trigger = (next: string) => ({ name: 'Trigger', type: 'trigger', transitions: [{ event: 'incomingMessage', next }, { event: 'incomingCall' }, { event: 'incomingRequest', next }], properties: { offset } });
const ask = (name: string, body: string, next: string, timeout?: string) => ({
  name,
  type: 'send-and-wait-for-reply',
  transitions: [{ event: 'incomingMessage', next }, { event: 'timeout', ...(timeout ? { next: timeout } : {}) }, { event: 'deliveryFailure' }],
  properties: { offset, from: '{{flow.channel.address}}', body, timeout: '3600' },
});
const say = (name: string, body: string, next?: string) => ({ name, type: 'send-message', transitions: [{ event: 'sent', ...(next ? { next } : {}) }, { event: 'failed' }], properties: { offset, from: '{{flow.channel.address}}', to: '{{contact.channel.address}}', body } });

let fn: RunningFunctions;
beforeAll(async () => {
  fn = await startTestFunctions({ SURVEY_PUBLIC_KEY: newSealedKeyPair().publicKeyText });
});
afterAll(async () => {
  await fn?.stop();
});

async function run(flow: FlowDefinition, replies: string[], trigger: Parameters<typeof runExecution>[0]['trigger'] = { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' }) {
  const chat = new ScriptedChat(replies);
  const result = await runExecution({ flow, functionsUrl: fn.url, authToken: AUTH_TOKEN, trigger, flowAddress: 'whatsapp:+14155238886', chat });
  return { result, said: chat.transcript.filter((l) => l.from === 'flow').map((l) => l.text) };
}

describe('conditions', () => {
  it('compare text as Studio does: trimmed, ignoring case; lists, regex and numbers', () => {
    expect(conditionHolds('equal_to', ' YES ', 'yes', 'w')).toBe(true);
    expect(conditionHolds('matches_any_of', 'Ndio', 'yes, y, ndio', 'w')).toBe(true);
    expect(conditionHolds('does_not_match_any_of', 'no', 'yes,y', 'w')).toBe(true);
    expect(conditionHolds('regex', '12345678', '^\\d{6,9}$', 'w')).toBe(true);
    expect(conditionHolds('regex', '12a45678', '^\\d{6,9}$', 'w')).toBe(false);
    expect(conditionHolds('less_than', '17', '18', 'w')).toBe(true);
    expect(conditionHolds('greater_than', 'abc', '18', 'w')).toBe(false);
    expect(conditionHolds('is_blank', '  ', '', 'w')).toBe(true);
    expect(conditionHolds('starts_with', 'Nairobi West', 'nair', 'w')).toBe(true);
    expect(() => conditionHolds('is_before_time', 'x', 'y', 'w')).toThrow(FlowError);
  });
});

describe('runner', () => {
  const survey = flowOf([
    trigger('q_name'),
    ask('q_name', 'Your name?', 'check_name', 'bye'),
    {
      name: 'check_name',
      type: 'split-based-on',
      transitions: [{ event: 'noMatch', next: 'q_name' }, { event: 'match', next: 'remember', conditions: [{ friendly_name: 'not blank', arguments: ['{{widgets.q_name.inbound.Body}}'], type: 'is_not_blank', value: 'Is Not Blank' }] }],
      properties: { input: '{{widgets.q_name.inbound.Body}}', offset },
    },
    { name: 'remember', type: 'set-variables', transitions: [{ event: 'next', next: 'encrypt' }], properties: { variables: [{ key: 'tries', value: '{{flow.variables.tries | default: 0 | plus: 1}}' }], offset } },
    {
      name: 'encrypt',
      type: 'run-function',
      transitions: [{ event: 'success', next: 'thanks' }, { event: 'fail', next: 'sorry' }],
      properties: { service_sid: 'ZS0', environment_sid: 'ZE0', function_sid: 'ZH0', url: 'https://sealed-survey-0000-dev.twil.io/encrypt', parameters: [{ key: 'full_name', value: '{{widgets.q_name.inbound.Body}}' }], offset },
    },
    say('thanks', 'Thanks! ({{widgets.encrypt.parsed.full_name | slice: 0, 7}}) tries={{flow.variables.tries}} sid={{flow.sid | slice: 0, 2}} data={{flow.data.campaign}}'),
    say('sorry', 'Sorry, something went wrong.'),
    say('bye', 'Goodbye.'),
  ]);

  it('renders Liquid with Studio\'s context, routes on splits, and calls the real encrypt Function signed', async () => {
    const { result, said } = await run(survey, ['', 'Amina']);
    expect(said).toEqual(['Your name?', 'Your name?', 'Thanks! (ss1.pk.) tries=1 sid=FN data=']);
    expect(result.outcome).toBe('completed');
    expect(result.endedAt).toBe('thanks');
    expect(result.stored).toBe(false);
    expect(result.steps.map((s) => `${s.widget}:${s.event}`)).toEqual([
      'Trigger:incomingMessage', 'q_name:incomingMessage', 'check_name:noMatch', 'q_name:incomingMessage', 'check_name:match', 'remember:next', 'encrypt:success', 'thanks:sent',
    ]);
  });

  it('starts a REST-triggered execution with flow.data', async () => {
    const { said } = await run(survey, ['Amina'], { kind: 'rest', to: 'whatsapp:+254700000002', data: { campaign: 'march' } });
    expect(said.at(-1)).toContain('data=march');
  });

  it('follows the timeout transition for a silent respondent', async () => {
    const { said, result } = await run(survey, [TIMEOUT]);
    expect(said).toEqual(['Your name?', 'Goodbye.']);
    expect(result.outcome).toBe('completed');
    expect(result.endedAt).toBe('bye');
  });

  it('takes the fail transition when a Function refuses (here: a wrong signature), marks the execution failed and says why without the answer', async () => {
    const chat = new ScriptedChat(['Amina Wanjiru']);
    const result = await runExecution({ flow: survey, functionsUrl: fn.url, authToken: 'f'.repeat(32), trigger: { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' }, flowAddress: 'x', chat });
    expect(chat.transcript.at(-1)?.text).toBe('Sorry, something went wrong.');
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/^encrypt \(\/encrypt\) answered HTTP 403 SIGNATURE_INVALID: missing or invalid X-Twilio-Signature/);
    expect(result.error).not.toContain('Amina');
  });

  it('says so when a Function cannot be reached, or does not answer within Studio\'s 10 s', async () => {
    const closed = await runExecution({ flow: survey, functionsUrl: `http://127.0.0.1:${await freePort()}`, authToken: AUTH_TOKEN, trigger: { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' }, flowAddress: 'x', chat: new ScriptedChat(['Amina']) });
    expect(closed.outcome).toBe('failed');
    expect(closed.error).toMatch(/^encrypt: the Function at http:\/\/127\.0\.0\.1:\d+\/encrypt could not be reached \(ECONNREFUSED\)/);
    const silent = await silentServer();
    try {
      const result = await runExecution({ flow: survey, functionsUrl: silent.url, authToken: AUTH_TOKEN, trigger: { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' }, flowAddress: 'x', chat: new ScriptedChat(['Amina']) });
      expect(result.outcome).toBe('failed');
      expect(result.error).toBe('encrypt (/encrypt) did not answer within 10 s, Studio\'s limit for a Run Function call');
    } finally {
      await silent.close();
    }
  });

  it('stops with a clear error at a widget type it does not know, running nothing after it', async () => {
    const flow = flowOf([trigger('hop'), { name: 'hop', type: 'enqueue-call', transitions: [{ event: 'callComplete', next: 'after' }], properties: { offset } }, say('after', 'never')]);
    const { result, said } = await run(flow, []);
    expect(result.outcome).toBe('failed');
    expect(result.endedAt).toBe('hop');
    expect(result.error).toContain('hop: widget type "enqueue-call" is not supported');
    expect(said).toEqual([]);
  });

  it('stops a loop without an exit', async () => {
    const flow = flowOf([trigger('a'), { name: 'a', type: 'set-variables', transitions: [{ event: 'next', next: 'a' }], properties: { variables: [], offset } }]);
    const { result } = await run(flow, []);
    expect(result.error).toContain('without ending');
  });

  it('refuses definitions that are not flows, naming the problem', () => {
    expect(() => parseFlow('{', 'x.json')).toThrow('x.json is not JSON');
    expect(() => parseFlow('{"states": []}', 'x.json')).toThrow('not a Studio flow definition');
    expect(() => flowOf([trigger('a'), trigger('b')])).toThrow('two widgets are named "Trigger"');
  });
});

/** An HTTP server that takes requests and never answers them; `requested` settles at the first. */
async function silentServer(): Promise<{ url: string; requested: Promise<IncomingMessage>; close(): Promise<void> }> {
  let seen: (req: IncomingMessage) => void = () => {};
  const requested = new Promise<IncomingMessage>((ok) => (seen = ok));
  const server: Server = createServer((req) => seen(req));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requested,
    close: () => {
      server.closeAllConnections();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

/** A respondent who never answers; `asked` settles when the flow first waits for them. */
class SilentChat extends RecordingChat {
  private seen: () => void = () => {};
  readonly asked = new Promise<void>((ok) => (this.seen = ok));
  protected answer(_widget: Widget): Promise<string> {
    this.seen();
    return new Promise(() => {});
  }
}

describe('stopping a run (Ctrl-C)', () => {
  const flow = flowOf([
    trigger('q'),
    ask('q', 'Your name?', 'encrypt'),
    { name: 'encrypt', type: 'run-function', transitions: [{ event: 'success' }, { event: 'fail' }], properties: { url: 'https://x.twil.io/encrypt', parameters: [{ key: 'a', value: 'b' }], offset } },
  ]);
  const from = { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' } as const;

  it('rejects with the stop\'s reason while waiting for the respondent', async () => {
    const controller = new AbortController();
    const chat = new SilentChat();
    const running = runExecution({ flow, functionsUrl: fn.url, authToken: AUTH_TOKEN, trigger: from, flowAddress: 'x', chat, signal: controller.signal });
    await chat.asked;
    const reason = new Stopped(130, 'interrupted');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });

  it('rejects with the stop\'s reason during a Function call, instead of waiting for its answer', async () => {
    const silent = await silentServer();
    try {
      const controller = new AbortController();
      const running = runExecution({ flow, functionsUrl: silent.url, authToken: AUTH_TOKEN, trigger: from, flowAddress: 'x', chat: new ScriptedChat(['Amina']), signal: controller.signal });
      await silent.requested;
      const reason = new Stopped(130, 'interrupted');
      controller.abort(reason);
      await expect(running).rejects.toBe(reason);
    } finally {
      await silent.close();
    }
  });

  it('simulate starts no further executions once stopped, and rejects with the reason', async () => {
    const controller = new AbortController();
    const chats = Array.from({ length: 5 }, () => new SilentChat());
    const running = simulate(
      chats.map((chat) => ({ trigger: from, chat })),
      { flow, functionsUrl: fn.url, authToken: AUTH_TOKEN, concurrency: 2, signal: controller.signal },
    );
    await Promise.all([chats[0]?.asked, chats[1]?.asked]);
    const reason = new Stopped(130, 'interrupted');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(chats.map((c) => c.transcript.length)).toEqual([1, 1, 0, 0, 0]);
  });
});

describe('simulate summary', () => {
  it('counts executions with their grammar and lists each distinct failure reason with its count', async () => {
    const flow = flowOf([trigger('hop'), { name: 'hop', type: 'enqueue-call', transitions: [{ event: 'callComplete' }], properties: { offset } }]);
    const one = await simulate([{ trigger: { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' }, chat: new ScriptedChat([]) }], { flow, functionsUrl: fn.url, authToken: AUTH_TOKEN, concurrency: 1 });
    expect(formatSummary(one.summary)).toMatch(/^1 execution in [\d.]+ s .*: 0 completed, 0 handed off, 1 failed; 0 stored by publish\nended at: hop 1 failed\n1 execution failed: hop: widget type "enqueue-call" is not supported/);
    const survey = flowOf([
      trigger('q'),
      ask('q', 'Your name?', 'encrypt'),
      { name: 'encrypt', type: 'run-function', transitions: [{ event: 'success' }, { event: 'fail' }], properties: { url: 'https://x.twil.io/encrypt', parameters: [{ key: 'full_name', value: '{{widgets.q.inbound.Body}}' }], offset } },
    ]);
    const jobs = ['Amina Wanjiru', 'Baraka Otieno', 'Chebet Kiprop'].map((name) => ({ trigger: { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' } as const, chat: new ScriptedChat([name]) }));
    const three = await simulate(jobs, { flow: survey, functionsUrl: fn.url, authToken: 'f'.repeat(32), concurrency: 3 });
    const text = formatSummary(three.summary);
    expect(text).toContain('3 executions in');
    expect(text).toContain('3 failed');
    expect(text).toContain('3 executions failed: encrypt (/encrypt) answered HTTP 403 SIGNATURE_INVALID');
    expect(text).not.toMatch(/Amina|Baraka|Chebet/);
  });
});
