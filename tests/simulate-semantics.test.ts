// Studio's semantics in the local runner, on small flows written here: offline
// stubs (a local server proves no request leaves unless --live-http), the five
// triggers, subflows, voice widgets, hand-offs, and Liquid as Studio renders it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionHolds } from '../src/flow/conditions.js';
import { FlowError, parseFlow, type FlowDefinition } from '../src/flow/definition.js';
import { ScriptedChat } from '../src/flow/respondents.js';
import { runExecution, TIMEOUT, variableValue, type Trigger } from '../src/flow/runner.js';
import { formatSummary, simulate } from '../src/flow/simulate.js';
import { readStubs } from '../src/flow/stubs.js';
import { studioLiquid } from '../src/flow/liquid.js';

const offset = { x: 0, y: 0 };
const flowOf = (states: unknown[]): FlowDefinition => parseFlow(JSON.stringify({ description: 't', states, initial_state: 'Trigger' }), 'test');
const events = ['incomingMessage', 'incomingRequest', 'incomingConversationMessage', 'incomingCall', 'incomingParent'];
const triggerTo = (next: string, only?: string) => ({ name: 'Trigger', type: 'trigger', transitions: events.map((event) => (!only || only === event ? { event, next } : { event })), properties: { offset } });
const say = (name: string, body: string, next?: string, to = '{{contact.channel.address}}') => ({ name, type: 'send-message', transitions: [{ event: 'sent', ...(next ? { next } : {}) }, { event: 'failed' }], properties: { offset, to, body } });
const message: Trigger = { kind: 'message', from: 'whatsapp:+254700000001', body: 'Hi' };

/** A server that records every request and answers JSON it is given. */
let server: Server;
let serverUrl = '';
const seen: Array<{ method: string; url: string; body: string }> = [];
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.startsWith('/list') ? '[1,2]' : JSON.stringify({ live: true }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
});

async function run(flow: FlowDefinition, replies: string[], extra: Partial<Parameters<typeof runExecution>[0]> = {}) {
  const chat = new ScriptedChat(replies);
  // No Functions run here: a call to this project's Functions would fail to connect, and none is made.
  const result = await runExecution({ flow, functionsUrl: 'http://127.0.0.1:9', authToken: 'x'.repeat(32), trigger: message, flowAddress: 'whatsapp:+14155238886', chat, ...extra });
  const lines = (from: string) => chat.transcript.filter((l) => l.from === from).map((l) => l.text);
  return { result, said: lines('flow'), notes: lines('simulator') };
}

describe('offline by default', () => {
  const flow = () =>
    flowOf([
      triggerTo('get'),
      { name: 'get', type: 'make-http-request', transitions: [{ event: 'success', next: 'fn' }, { event: 'failed', next: 'fn' }], properties: { offset, method: 'GET', url: `${serverUrl}/lookup`, parameters: [{ key: 'q', value: '{{trigger.message.Body}}' }] } },
      { name: 'fn', type: 'run-function', transitions: [{ event: 'success', next: 'out' }, { event: 'fail', next: 'out' }], properties: { offset, url: `${serverUrl}/other-function`, parameters: [{ key: 'a', value: '1' }] } },
      say('out', 'get={{widgets.get.parsed.live}}{{widgets.get.parsed.ok}} fn={{widgets.fn.status_code}}'),
    ]);

  it('answers HTTP requests and other Run Functions with stubs, says so in the transcript, and sends nothing', async () => {
    const before = seen.length;
    const { result, said, notes } = await run(flow(), []);
    expect(seen.length).toBe(before);
    expect(result.outcome).toBe('completed');
    expect(said).toEqual(['get= fn=200']);
    expect(notes).toEqual([
      `offline: GET ${serverUrl}/lookup answered by a stub (HTTP 200); --live-http makes the request`,
      `offline: POST ${serverUrl}/other-function answered by a stub (HTTP 200); --live-http makes the request`,
    ]);
  });

  it('takes a stub file by exact URL or longest prefix; a stubbed failure takes the failure path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stubs-'));
    try {
      const file = join(dir, 'stubs.json');
      writeFileSync(file, JSON.stringify({ [`${serverUrl}/`]: { status: 500 }, [`${serverUrl}/lookup`]: { body: { ok: 'yes' } } }));
      const { result, said } = await run(flow(), [], { stubs: readStubs(file) });
      expect(said).toEqual(['get=yes fn=500']);
      expect(result.outcome).toBe('failed');
      expect(result.error).toBe('fn (/other-function) answered HTTP 500 (no JSON error in the answer)');
      writeFileSync(file, JSON.stringify({ 'not a url': {} }));
      expect(() => readStubs(file)).toThrow(/"not a url" is not valid .*each key is a URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with liveHttp sends GET parameters in the query string and parses only JSON objects', async () => {
    const before = seen.length;
    const { said } = await run(flow(), [], { liveHttp: true, trigger: { kind: 'message', from: 'whatsapp:+254700000001', body: 'a b&c' } });
    expect(seen.slice(before).map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual(['GET /lookup?q=a+b%26c ', 'POST /other-function a=1']);
    expect(said).toEqual(['get=true fn=200']);
    const list = flowOf([triggerTo('get'), { name: 'get', type: 'make-http-request', transitions: [{ event: 'success', next: 'out' }, { event: 'failed' }], properties: { offset, method: 'GET', url: `${serverUrl}/list` } }, say('out', '[{{widgets.get.parsed}}] {{widgets.get.body}}')]);
    expect((await run(list, [], { liveHttp: true })).said).toEqual(['[] [1,2]']);
  });
});

describe('triggers', () => {
  const echo = (text: string) => flowOf([triggerTo('out'), say('out', text)]);
  it('runs each of the five triggers with its own context', async () => {
    const cases: Array<[Trigger, string, string]> = [
      [{ kind: 'message', from: 'whatsapp:+1', body: 'hello' }, '{{trigger.message.Body}}', 'hello'],
      [{ kind: 'rest', to: 'whatsapp:+2', data: { x: 1 } }, '{{trigger.request.to}} {{flow.data}}', 'whatsapp:+2 {"x":1}'],
      [{ kind: 'conversation', from: 'user-1', body: 'hey' }, '{{trigger.conversation.Body}} {{trigger.conversation.Author}} {{trigger.conversation.ConversationSid | slice: 0, 2}}', 'hey user-1 CH'],
      [{ kind: 'call', from: '+3' }, '{{trigger.call.From}} {{trigger.call.CallSid | slice: 0, 2}}', '+3 CA'],
      [{ kind: 'parent', from: '+4', parameters: { lang: 'sw' } }, '{{trigger.parent.parameters.lang}} {{contact.channel.address}}', 'sw +4'],
    ];
    for (const [trigger, template, expected] of cases) {
      const { said, result } = await run(echo(template), [], { trigger });
      expect(said, trigger.kind).toEqual([expected]);
      expect(result.outcome).toBe('completed');
    }
  });

  it('fails, naming the event, when the flow does not route the trigger', async () => {
    const { result } = await run(flowOf([triggerTo('out', 'incomingMessage'), say('out', 'x')]), [], { trigger: { kind: 'call', from: '+1' } });
    expect(result.outcome).toBe('failed');
    expect(result.error).toBe('Trigger: the flow does not route incomingCall (nothing is connected to it): connect it, or simulate with a trigger the flow routes');
  });
});

describe('widgets', () => {
  it('voice: say-play, gather (keys or speech), record-voicemail and connect-call-to with scripted replies', async () => {
    const flow = flowOf([
      triggerTo('hello'),
      { name: 'hello', type: 'say-play', transitions: [{ event: 'audioComplete', next: 'menu' }], properties: { offset, say: 'Welcome.' } },
      { name: 'menu', type: 'gather-input-on-call', transitions: [{ event: 'keypress', next: 'vm' }, { event: 'speech', next: 'vm' }, { event: 'timeout', next: 'bye' }], properties: { offset, say: 'Press 1.' } },
      { name: 'vm', type: 'record-voicemail', transitions: [{ event: 'recordingComplete', next: 'agent' }, { event: 'noAudio', next: 'bye' }, { event: 'hangup' }], properties: { offset, transcribe: true } },
      { name: 'agent', type: 'connect-call-to', transitions: [{ event: 'callCompleted', next: 'bye' }, { event: 'hangup' }], properties: { offset, to: '+15550100' } },
      { name: 'bye', type: 'say-play', transitions: [{ event: 'audioComplete' }], properties: { offset, say: 'd={{widgets.menu.Digits}} s={{widgets.menu.SpeechResult}} t={{widgets.vm.TranscriptionText}}' } },
    ]);
    const call: Trigger = { kind: 'call', from: '+254700000001' };
    const keys = await run(flow, ['1#', 'my message'], { trigger: call });
    expect(keys.said).toEqual(['Welcome.', 'Press 1.', 'd=1# s= t=my message']);
    expect(keys.result.steps.map((s) => s.event)).toEqual(['incomingCall', 'audioComplete', 'keypress', 'recordingComplete', 'callCompleted', 'audioComplete']);
    const speech = await run(flow, ['one please', TIMEOUT], { trigger: call });
    expect(speech.said.at(-1)).toBe('d= s=one please t=');
    expect(speech.result.steps.map((s) => s.event)).toContain('noAudio');
  });

  it('hand-offs (Flex, TwiML redirect, Autopilot) end the execution, recorded as handed off at that widget', async () => {
    for (const type of ['send-to-flex', 'add-twiml-redirect', 'send-to-auto-pilot']) {
      const flow = flowOf([triggerTo('off'), { name: 'off', type, transitions: [{ event: 'callComplete', next: 'after' }, { event: 'return', next: 'after' }, { event: 'sessionEnded', next: 'after' }], properties: { offset } }, say('after', 'never')]);
      const { result, said, notes } = await run(flow, []);
      expect(result.outcome, type).toBe('handed-off');
      expect(result.endedAt).toBe('off');
      expect(said).toEqual([]);
      expect(notes[0]).toContain(`(${type}): the simulated execution ends here`);
    }
  });

  it('runs a given subflow with parameters and returns its variables; stubs one not given', async () => {
    const sub = flowOf([
      triggerTo('ask', 'incomingParent'),
      { name: 'ask', type: 'send-and-wait-for-reply', transitions: [{ event: 'incomingMessage', next: 'keep' }, { event: 'timeout' }, { event: 'deliveryFailure' }], properties: { offset, body: 'Lang {{trigger.parent.parameters.default}}?' } },
      { name: 'keep', type: 'set-variables', transitions: [{ event: 'next' }], properties: { offset, variables: [{ key: 'lang', value: '{{widgets.ask.inbound.Body}}' }] } },
    ]);
    const parent = flowOf([
      triggerTo('lang'),
      { name: 'lang', type: 'run-subflow', transitions: [{ event: 'completed', next: 'out' }, { event: 'failed' }], properties: { offset, flow_sid: 'FW1', parameters: [{ key: 'default', value: 'en' }] } },
      say('out', 'chose {{widgets.lang.lang}}'),
    ]);
    const ran = await run(parent, ['sw'], { subflows: new Map([['FW1', sub]]) });
    expect(ran.said).toEqual(['Lang en?', 'chose sw']);
    expect(ran.result.steps.map((s) => s.widget)).toEqual(['Trigger', 'lang › Trigger', 'lang › ask', 'lang › keep', 'lang', 'out']);
    const stubbed = await run(parent, []);
    expect(stubbed.said).toEqual(['chose ']);
    expect(stubbed.notes).toEqual(['offline: subflow FW1 stubbed as completed; --subflow lang=FILE runs it']);
  });

  it('honours `to`: a message to another address is not shown to the respondent', async () => {
    const flow = flowOf([triggerTo('staff'), say('staff', 'New: {{trigger.message.Body}}', 'me', '+15550100'), say('me', 'Thanks')]);
    const { said, notes } = await run(flow, []);
    expect(said).toEqual(['Thanks']);
    expect(notes).toEqual(['sent to another address, not the respondent: New: Hi']);
  });

  it('sends the content template when message_type says so, and refuses an empty content_sid', async () => {
    const template = (sid: string) => flowOf([triggerTo('t'), { name: 't', type: 'send-message', transitions: [{ event: 'sent' }, { event: 'failed' }], properties: { offset, to: '{{contact.channel.address}}', message_type: 'content_template', content_sid: sid, body: 'ignored' } }]);
    expect((await run(template('HX1'), [])).said).toEqual(['[WhatsApp template HX1]']);
    const empty = await run(template('{{flow.data.content_sid}}'), []);
    expect(empty.result.error).toContain('t: message_type is content_template but content_sid renders empty');
  });
});

describe('Liquid and conditions as Studio has them', () => {
  it('tests the split\'s Input, not the arguments, against a Liquid-rendered value', async () => {
    const flow = flowOf([
      triggerTo('ask'),
      { name: 'ask', type: 'send-and-wait-for-reply', transitions: [{ event: 'incomingMessage', next: 'check' }, { event: 'timeout' }, { event: 'deliveryFailure' }], properties: { offset, body: 'Again?' } },
      { name: 'check', type: 'split-based-on', transitions: [{ event: 'noMatch', next: 'no' }, { event: 'match', next: 'yes', conditions: [{ arguments: ['{{trigger.message.Body}}'], type: 'equal_to', value: '{{trigger.message.Body}}' }] }], properties: { offset, input: '{{widgets.ask.inbound.Body}}' } },
      say('yes', 'same'),
      say('no', 'different'),
    ]);
    expect((await run(flow, ['hi'])).said.at(-1)).toBe('same');
    expect((await run(flow, ['other'])).said.at(-1)).toBe('different');
  });

  it('stores Set Variables values as numbers unless quoted', async () => {
    expect(variableValue('7')).toBe(7);
    expect(variableValue('"7"')).toBe('7');
    expect(variableValue('0712')).toBe('0712');
    expect(variableValue('yes')).toBe('yes');
    const flow = flowOf([
      triggerTo('set'),
      { name: 'set', type: 'set-variables', transitions: [{ event: 'next', next: 'out' }], properties: { offset, variables: [{ key: 'n', value: '10' }, { key: 's', value: '"10"' }] } },
      say('out', '{{flow.variables.n | plus: 1}} {{flow.variables.s | append: 1}} {% if flow.variables.n > 9 %}big{% endif %}'),
    ]);
    expect((await run(flow, [])).said).toEqual(['11 101 big']);
  });

  it('renders objects as JSON, has to_json, refuses unknown filters, and dates in Studio\'s Pacific time', () => {
    const liquid = studioLiquid();
    const ctx = { o: { a: 1, b: ['x'] } };
    expect(liquid.parseAndRenderSync('{{o}} {{o | to_json}} {{o.b | to_json}}', ctx)).toBe('{"a":1,"b":["x"]} {"a":1,"b":["x"]} ["x"]');
    expect(() => liquid.parseAndRenderSync('{{o | no_such_filter}}', ctx)).toThrow(/no_such_filter/);
    expect(liquid.parseAndRenderSync("{{ '2024-01-15T20:00:00Z' | date: '%H:%M %z' }} {{ '2024-07-15T20:00:00Z' | date: '%H:%M %z' }}", {})).toBe('12:00 -0800 13:00 -0700');
  });

  it('an unknown filter in a widget is an error naming the widget', async () => {
    const { result } = await run(flowOf([triggerTo('out'), say('out', '{{ trigger.message.Body | shout }}')]), []);
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/^out → body: the Liquid template does not render/);
  });

  it('conditionHolds keeps its contract', () => {
    expect(conditionHolds('equal_to', ' Yes ', 'yes', 'w')).toBe(true);
    expect(() => conditionHolds('is_before_time', 'x', 'y', 'w')).toThrow(FlowError);
  });
});

describe('summary', () => {
  it('counts executions by outcome and by the widget they ended at, with stored by publish apart', async () => {
    const flow = flowOf([
      triggerTo('ask'),
      { name: 'ask', type: 'send-and-wait-for-reply', transitions: [{ event: 'incomingMessage', next: 'route' }, { event: 'timeout', next: 'bye' }, { event: 'deliveryFailure' }], properties: { offset, body: 'Agent?' } },
      { name: 'route', type: 'split-based-on', transitions: [{ event: 'noMatch', next: 'bye' }, { event: 'match', next: 'flex', conditions: [{ arguments: [], type: 'equal_to', value: 'yes' }] }], properties: { offset, input: '{{widgets.ask.inbound.Body}}' } },
      { name: 'flex', type: 'send-to-flex', transitions: [{ event: 'callComplete' }], properties: { offset } },
      say('bye', 'Bye'),
    ]);
    const jobs = [['yes'], ['no'], [TIMEOUT]].map((replies) => ({ trigger: message, chat: new ScriptedChat(replies) }));
    const { summary, results } = await simulate(jobs, { flow, functionsUrl: 'http://127.0.0.1:9', authToken: 'x'.repeat(32), concurrency: 1 });
    expect(results.map((r) => `${r.outcome}@${r.endedAt}`).sort()).toEqual(['completed@bye', 'completed@bye', 'handed-off@flex']);
    expect(summary.stored).toBe(0);
    const text = formatSummary(summary, { widgets: false });
    expect(text).toMatch(/: 2 completed, 1 handed off, 0 failed; 0 stored by publish\nended at: bye 2 completed, flex 1 handed-off$/);
  });
});
