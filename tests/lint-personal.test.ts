// `sealed-survey lint`, issue 11 §1: personal data is personal until declared
// otherwise (whether or not the flow gives it to encrypt), the sinks it must not
// reach unsealed, "fail leads nowhere" only where answers are lost, and each
// distinct finding printed once. Variants of the shipped flow and small
// hand-made flows, linted from files as the CLI reads them.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readFlow, type FlowDefinition, type Widget } from '../src/flow/definition.js';
import { lintFlow, type Finding } from '../src/flow/lint.js';
import { declarationPath } from '../src/flow/publishable.js';
import { runCli } from './helpers/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHIPPED = join(ROOT, 'flows/whatsapp-survey.json');
const tmp = mkdtempSync(join(tmpdir(), 'sealed-survey-lint-personal-'));
mkdirSync(join(tmp, 'columns'));

const errors = (findings: readonly Finding[]) => findings.filter((f) => f.severity === 'error');
const warnings = (findings: readonly Finding[]) => findings.filter((f) => f.severity === 'warning');
const where = (findings: readonly Finding[]) => findings.map((f) => `${f.widget} → ${f.property}`);

let n = 0;
/** Writes the flow (and, given one, its publishable declaration beside it) and lints the file with every check. */
function lintFile(flow: FlowDefinition, declaration?: unknown): { file: string; findings: Finding[] } {
  const file = join(tmp, `flow-${++n}.json`);
  writeFileSync(file, JSON.stringify(flow));
  if (declaration !== undefined) writeFileSync(declarationPath(file), JSON.stringify(declaration));
  return { file, findings: lintFlow(readFlow(file), file) };
}

function widget(flow: FlowDefinition, name: string): Widget {
  const w = flow.states.find((s) => s.name === name);
  if (!w) throw new Error(`no widget ${name}`);
  return w;
}
const params = (w: Widget) => w.properties.parameters as Array<{ key: string; value: string }>;

const W = (name: string, type: string, properties: Record<string, unknown>, transitions: Array<{ event: string; next?: string }>): Widget => ({ name, type, properties, transitions });
const send = (name: string, body: string, next?: string, to = '{{contact.channel.address}}') =>
  W(name, 'send-message', { from: '{{flow.channel.address}}', to, body }, [{ event: 'sent', ...(next ? { next } : {}) }, { event: 'failed' }]);
const ask = (name: string, body: string, next: string) => W(name, 'send-and-wait-for-reply', { from: '{{flow.channel.address}}', body, timeout: '3600' }, [{ event: 'incomingMessage', next }, { event: 'timeout', next: 'bye' }, { event: 'deliveryFailure' }]);
const http = (name: string, props: Record<string, unknown>, next = 'bye', failed: string | null = 'bye') =>
  W(name, 'make-http-request', { method: 'POST', content_type: 'application/json;charset=utf-8', url: 'https://example.com/hook', body: '{}', ...props }, [{ event: 'success', next }, { event: 'failed', ...(failed ? { next: failed } : {}) }]);

/** Trigger (message and REST) → the given widgets (wired by the caller) → "bye". */
function flowOf(first: string, ...states: Widget[]): FlowDefinition {
  const trigger = W('Trigger', 'trigger', {}, [{ event: 'incomingMessage', next: first }, { event: 'incomingCall', next: first }, { event: 'incomingConversationMessage', next: first }, { event: 'incomingRequest', next: first }, { event: 'incomingParent', next: first }]);
  return { description: 'hand-made', initial_state: 'Trigger', states: [trigger, ...states, send('bye', 'Thank you!')] };
}

describe('sources: personal whether or not encrypt is given them', () => {
  const shipped = readFlow(SHIPPED);
  const declared = (JSON.parse(JSON.stringify(readDeclarationOf(SHIPPED))) as { publishable: Record<string, string> }).publishable;

  it('the shipped flow with national_id taken out of encrypt and published raw: error from the answer, through the variable, to the column', () => {
    const flow = structuredClone(shipped);
    const enc = widget(flow, 'encrypt');
    enc.properties.parameters = params(enc).filter((p) => p.key !== 'national_id');
    const id = params(widget(flow, 'publish')).find((p) => p.key === 'national_id');
    if (id) id.value = '{{flow.variables.national_id}}';
    const { file, findings } = lintFile(flow, { publishable: declared });
    const found = errors(findings);
    expect(where(found)).toEqual(['publish → parameters.national_id']);
    expect(found[0]?.message).toMatch(/^PII from q_national_id \(widgets\.q_national_id\.inbound\.Body\) reaches the publish column "national_id" via flow\.variables\.national_id, which is neither sealed nor declared publishable/);
    expect(found[0]?.message).toContain(`give it to the encrypt widget and publish {{widgets.<encrypt>.parsed.national_id}}), or, only if publishing it in plaintext is acceptable, declare "national_id" with the reason in ${declarationPath(file)}`);
  });

  it('a declared column may carry an answer (the shipped comment); without its declaration it is an error naming the route', () => {
    const { comment: _comment, ...rest } = declared;
    const clean = lintFile(structuredClone(shipped), { publishable: declared });
    expect(errors(clean.findings)).toEqual([]);
    const found = errors(lintFile(structuredClone(shipped), { publishable: rest }).findings);
    expect(where(found)).toEqual(['publish → parameters.comment']);
    expect(found[0]?.message).toMatch(/^PII from q_comment \(widgets\.q_comment\.inbound\.Body\) reaches the publish column "comment" via flow\.variables\.comment,/);
  });

  it('a flow with no encrypt widget posting name, ZIP code and e-mail to an outside URL: one error per answer', () => {
    const flow = flowOf(
      'q_name',
      ask('q_name', 'Your name?', 'q_zip'),
      ask('q_zip', 'Your ZIP code?', 'set_email'),
      W('set_email', 'set-variables', { variables: [{ key: 'email', value: '{{trigger.message.Body | strip}}' }] }, [{ event: 'next', next: 'post' }]),
      http('post', { body: '{"name": "{{widgets.q_name.inbound.Body}}", "zip": "{{widgets.q_zip.inbound.Body}}", "email": "{{flow.variables.email}}"}' }),
    );
    const found = errors(lintFile(flow).findings);
    expect(where(found)).toEqual(['post → body', 'post → body', 'post → body']);
    expect(found.map((f) => f.message.replace(/ reaches .*/, ''))).toEqual(['PII from q_name (widgets.q_name.inbound.Body)', 'PII from q_zip (widgets.q_zip.inbound.Body)', 'PII from trigger.message.Body']);
    expect(found[2]?.message).toContain('reaches an HTTP request body via flow.variables.email:');
  });

  it.each([
    ['flow.data.first_name', /^PII from flow\.data\.first_name reaches/],
    ['flow.data', /^PII from flow\.data reaches/],
    ['trigger.parent.parameters.name', /^PII from trigger\.parent\.parameters\.name reaches/],
    ['trigger.message.ChannelAttributes.from', /^PII from trigger\.message\.ChannelAttributes\.from reaches/],
    ['trigger.message.ProfileName', /^PII from the respondent's profile name \(trigger\.message\.ProfileName\)/],
    ['trigger.message.WaId', /^PII from the respondent's address \(trigger\.message\.WaId\)/],
    ['trigger.message.MediaUrl0', /^PII from trigger\.message\.MediaUrl0 reaches/],
    ['trigger.call.From', /^PII from the respondent's address \(trigger\.call\.From\)/],
    ['trigger.call.FromCity', /^PII from trigger\.call\.FromCity reaches/],
    ['trigger.conversation.Author', /^PII from the respondent's address \(trigger\.conversation\.Author\)/],
    ['trigger.request.To', /^PII from trigger\.request\.To reaches/],
    ['contact.channel.address', /^PII from the respondent's address \(contact\.channel\.address\)/],
    ['widgets.menu.Digits', /^PII from menu \(widgets\.menu\.Digits\)/],
    ['widgets.menu.SpeechResult', /^PII from menu \(widgets\.menu\.SpeechResult\)/],
    ['widgets.q.inbound.MediaUrl0', /^PII from q \(widgets\.q\.inbound\.MediaUrl0\)/],
    ['widgets.q.inbound', /^PII from q \(widgets\.q\.inbound\)/],
  ])('%s into an HTTP request URL is an error naming the source', (path, message) => {
    const flow = flowOf(
      'menu',
      W('menu', 'gather-input-on-call', { say: 'Press 1', speech_timeout: 'auto' }, [{ event: 'keypress', next: 'q' }, { event: 'speech', next: 'q' }, { event: 'timeout', next: 'q' }]),
      ask('q', 'Anything else?', 'hook'),
      http('hook', { method: 'GET', url: `https://example.com/hook?x={{${path}}}`, body: '' }),
    );
    const found = errors(lintFile(flow).findings);
    expect(where(found)).toEqual(['hook → url']);
    expect(found[0]?.message).toMatch(message);
    expect(found[0]?.message).toContain('reaches an HTTP request URL');
  });

  it('our own number, SIDs, flow.sid, the outbound message and the sealed output are not personal data', () => {
    const flow = flowOf(
      'q',
      ask('q', 'Anything?', 'encrypt'),
      W('encrypt', 'run-function', { url: 'https://x-1234-dev.twil.io/encrypt', parameters: [{ key: 'answer', value: '{{widgets.q.inbound.Body}}' }] }, [{ event: 'success', next: 'hook' }, { event: 'fail', next: 'bye' }]),
      http('hook', {
        body: '{"to": "{{trigger.message.To}}", "ours": "{{flow.channel.address}}", "sid": "{{flow.sid}}", "msg": "{{trigger.message.MessageSid}}", "svc": "{{trigger.message.InstanceSid}}", "asked": "{{widgets.q.outbound.Body}}", "sealed": "{{widgets.encrypt.parsed.answer}}", "call": "{{trigger.call.CallSid}}", "conv": "{{trigger.conversation.ConversationSid}}", "reply": "{{widgets.q.inbound.MessageSid}}", "kind": "{{trigger.message.ChannelAttributes.channel_type}}"}',
      }),
    );
    expect(lintFile(flow).findings).toEqual([]);
    // …while the rest of a reply and of the channel's attributes is.
    const leaky = structuredClone(flow);
    widget(leaky, 'hook').properties.body = '{"a": "{{widgets.q.inbound.From}}", "b": "{{trigger.message.ChannelAttributes.from}}"}';
    expect(where(errors(lintFile(leaky).findings))).toEqual(['hook → body', 'hook → body']);
  });
});

describe('last_answered: which question was answered last, never what was answered', () => {
  const shipped = readFlow(SHIPPED);
  const declaration = readDeclarationOf(SHIPPED);

  it('as tools/flow-outcomes.ts writes it, it tests replies to personal questions for presence only: no finding', () => {
    const value = params(widget(shipped, 'publish')).find((p) => p.key === 'last_answered')?.value ?? '';
    expect(value).toContain('{% elsif widgets.q_full_name.inbound.Body %}q_full_name');
    expect(errors(lintFile(structuredClone(shipped), declaration).findings)).toEqual([]);
    expect(lintFile(structuredClone(shipped), declaration).findings.filter((f) => f.property.endsWith('last_answered'))).toEqual([]);
  });

  it('a value that outputs an answer is a personal-data error; a chain the flow no longer matches is an error naming the tool that writes it', () => {
    const leaking = structuredClone(shipped);
    const leak = params(widget(leaking, 'publish_outcome')).find((p) => p.key === 'last_answered') as { value: string };
    leak.value = '{{widgets.q_full_name.inbound.Body}}';
    const found = errors(lintFile(leaking, declaration).findings);
    expect(where(found)).toEqual(['publish_outcome → parameters.last_answered']);
    expect(found[0]?.message).toContain('PII from');

    const stale = structuredClone(shipped);
    const chain = params(widget(stale, 'publish')).find((p) => p.key === 'last_answered') as { value: string };
    chain.value = chain.value.replace('{% elsif widgets.q_age.inbound.Body %}q_age', '');
    const staleErrors = errors(lintFile(stale, declaration).findings);
    expect(where(staleErrors)).toEqual(['publish → parameters.last_answered']);
    expect(staleErrors[0]?.message).toContain('last_answered is not what tools/flow-outcomes.ts writes');
  });
});

describe('sinks', () => {
  /** q_name → q_id → the widget under test → bye. */
  const survey = (...sinks: Widget[]) => flowOf('q_name', ask('q_name', 'Your name?', 'q_id'), ask('q_id', 'Your ID number?', sinks[0]?.name ?? 'bye'), ...sinks);

  it("send-to-flex attributes carrying the answer: error", () => {
    const flex = W('to_agent', 'send-to-flex', { workflow: 'WW00000000000000000000000000000000', channel: 'TC00000000000000000000000000000000', attributes: '{"name": "{{widgets.q_name.inbound.Body}}", "type": "inbound"}' }, [{ event: 'callComplete' }, { event: 'failedToEnqueue' }, { event: 'callFailure' }]);
    const found = errors(lintFile(survey(flex)).findings);
    expect(where(found)).toEqual(['to_agent → attributes']);
    expect(found[0]?.message).toMatch(/^PII from q_name \(widgets\.q_name\.inbound\.Body\) reaches the Flex task attributes: it would leave Studio unencrypted/);
  });

  it("an add-twiml-redirect URL carrying {{contact.channel.address}}: error", () => {
    const redirect = W('redirect', 'add-twiml-redirect', { method: 'POST', url: 'https://example.com/twiml?caller={{contact.channel.address}}', timeout: '14400' }, [{ event: 'return' }, { event: 'timeout' }, { event: 'fail' }]);
    const found = errors(lintFile(survey(redirect)).findings);
    expect(where(found)).toEqual(['redirect → url']);
    expect(found[0]?.message).toMatch(/^PII from the respondent's address \(contact\.channel\.address\) reaches a TwiML Redirect URL/);
  });

  it("a message to a staff number with the respondent's name and ID: one error per answer, not the quoted-back warning", () => {
    const staff = send('notify_staff', 'New respondent: {{widgets.q_name.inbound.Body}}, ID {{widgets.q_id.inbound.Body}}', 'bye', '+15550001111');
    const { findings } = lintFile(survey(staff));
    expect(warnings(findings)).toEqual([]);
    const found = errors(findings);
    expect(where(found)).toEqual(['notify_staff → body', 'notify_staff → body']);
    expect(found[0]?.message).toMatch(/^PII from q_name .* reaches a message to someone other than the respondent \(its "to" is not \{\{contact\.channel\.address\}\}\)/);
    expect(found[1]?.message).toMatch(/^PII from q_id /);
    expect(found.some((f) => f.message.includes('+1555'))).toBe(false);
  });

  it("the same message to the respondent (by contact.channel.address, trigger.message.From, or Studio's default) is a warning", () => {
    for (const to of ['{{contact.channel.address}}', '{{ trigger.message.From }}', '']) {
      const { findings } = lintFile(survey(send('echo', 'Thanks, {{widgets.q_name.inbound.Body}}!', 'bye', to)));
      expect(errors(findings)).toEqual([]);
      expect(where(warnings(findings))).toEqual(['echo → body']);
      expect(warnings(findings)[0]?.message).toContain('is quoted back to the respondent');
    }
  });

  it('an answer in another Run Function, an HTTP header and a subflow parameter: errors naming the route through variables', () => {
    const flow = survey(
      W('keep', 'set-variables', { variables: [{ key: 'who', value: '{{widgets.q_name.inbound.Body}}' }] }, [{ event: 'next', next: 'crm' }]),
      W('crm', 'run-function', { url: 'https://x-1234-dev.twil.io/crm', parameters: [{ key: 'who', value: '{{flow.variables.who}}' }] }, [{ event: 'success', next: 'hook' }, { event: 'fail', next: 'bye' }]),
      http('hook', { headers: [{ key: 'X-Id', value: '{{widgets.q_id.inbound.Body}}' }] }, 'child'),
      W('child', 'run-subflow', { flow_sid: 'FW00000000000000000000000000000000', flow_revision: 'LatestPublished', parameters: [{ key: 'p', value: '{{flow.variables.who}}' }] }, [{ event: 'completed', next: 'bye' }, { event: 'failed', next: 'bye' }]),
    );
    const found = errors(lintFile(flow).findings);
    expect(where(found)).toEqual(['crm → parameters.who', 'hook → headers[0].value', 'child → parameters.p']);
    expect(found[0]?.message).toContain('reaches a Run Function parameter via flow.variables.who:');
    expect(found[1]?.message).toMatch(/^PII from q_id .* reaches an HTTP request's headers/);
    expect(found[2]?.message).toContain('reaches a Subflow parameter via flow.variables.who:');
  });
});

describe('"fail leads nowhere" only where answers are lost', () => {
  it('a Run Function that handles no answers (a voice menu lookup) and an HTTP request sending none: warnings', () => {
    const flow = flowOf(
      'hours',
      W('hours', 'run-function', { url: 'https://x-1234-dev.twil.io/opening-hours', parameters: [{ key: 'day', value: 'today' }] }, [{ event: 'success', next: 'weather' }, { event: 'fail' }]),
      http('weather', { method: 'GET', url: 'https://example.com/weather?city=Nairobi', body: '' }, 'bye', null),
    );
    const { findings } = lintFile(flow);
    expect(errors(findings)).toEqual([]);
    expect(where(warnings(findings))).toEqual(['hours → transitions.fail', 'weather → transitions.failed']);
    expect(warnings(findings)[1]?.message).toContain('the failed transition leads nowhere: when the request fails the execution ends here');
  });

  it('an HTTP request given an answer, or a token, whose failed leads nowhere (or is missing): error', () => {
    const flow = flowOf(
      'q',
      W('q', 'send-and-wait-for-reply', { body: 'Anything?' }, [{ event: 'incomingMessage', next: 'encrypt' }, { event: 'timeout' }, { event: 'deliveryFailure' }]),
      W('encrypt', 'run-function', { url: 'https://x-1234-dev.twil.io/encrypt', parameters: [{ key: 'answer', value: '{{widgets.q.inbound.Body}}' }] }, [{ event: 'success', next: 'store' }, { event: 'fail', next: 'bye' }]),
      W('store', 'make-http-request', { method: 'POST', url: 'https://example.com/store', content_type: 'application/json;charset=utf-8', body: '{"a": "{{widgets.encrypt.parsed.answer}}"}' }, [{ event: 'success', next: 'bye' }]),
    );
    const found = errors(lintFile(flow).findings);
    expect(where(found)).toEqual(['store → transitions.failed']);
    expect(found[0]?.message).toContain('this widget handles the answers');
  });

  it("the shipped flow's publish with fail unconnected: error", () => {
    const flow = readFlow(SHIPPED);
    const fail = widget(flow, 'publish').transitions.find((t) => t.event === 'fail');
    if (fail) delete fail.next;
    const found = errors(lintFile(flow, readDeclarationOf(SHIPPED)).findings);
    expect(where(found)).toEqual(['publish → transitions.fail']);
    expect(found[0]?.message).toContain('left hanging');
  });
});

describe('each distinct finding once', () => {
  it('an unset variable tested by eight conditions: one warning for the input, one for the conditions', () => {
    const options = ['1', '2', '3', '4', '5', '6', '7', '8'];
    const split = W('route', 'split-based-on', { input: '{{flow.variables.choice}}' }, [
      { event: 'noMatch', next: 'bye' },
      ...options.map((o) => ({ event: 'match', next: 'bye', conditions: [{ friendly_name: `If value equal_to ${o}`, arguments: ['{{flow.variables.choice}}'], type: 'equal_to', value: o }] })),
    ]);
    const { findings } = lintFile(flowOf('route', split));
    expect(findings.map((f) => `${f.widget} → ${f.property}: ${f.message}`)).toEqual([
      'route → input: flow.variables.choice is never set by a Set Variables widget, so it is always empty',
      'route → conditions.arguments: flow.variables.choice is never set by a Set Variables widget, so it is always empty',
    ]);
  });
});

describe('sealed-survey lint (CLI) on a message to staff', () => {
  it('exits 1 with one line per answer that reaches the staff number', async () => {
    const base = readFlow(SHIPPED);
    const flow = structuredClone(base);
    flow.states.push(send('notify_staff', 'Done: {{flow.variables.full_name}}', 'thanks', 'whatsapp:+15550001111'));
    const success = widget(flow, 'publish').transitions.find((t) => t.event === 'success');
    if (success) success.next = 'notify_staff';
    const file = join(tmp, 'staff.json');
    writeFileSync(file, JSON.stringify(flow));
    copyFileSync(declarationPath(SHIPPED), declarationPath(file));
    const res = await runCli('sealed-survey', ['lint', file], { env: { NO_COLOR: '1' } });
    expect(res.code).toBe(1);
    // The invite's template greets the respondent by flow.data.first_name: personal data, quoted back (a warning).
    const quoted = "is quoted back to the respondent: the message text lands in Twilio's message logs unencrypted; leave it out of the message";
    expect(res.stdout.split('\n')).toEqual([
      `${file}: invite → content_variables.1: warning: PII from flow.data.first_name ${quoted}`,
      `${file}: invite_reminder → content_variables.1: warning: PII from flow.data.first_name ${quoted}`,
      `${file}: notify_staff → body: PII from q_full_name (widgets.q_full_name.inbound.Body) reaches a message to someone other than the respondent via flow.variables.full_name (its "to" is not {{contact.channel.address}}): the recipient and Twilio's message logs get it unencrypted; leave it out of the message`,
      '',
    ]);
    expect(res.stderr).toContain('1 error, 2 warnings in 1 flow');
  });
});

function readDeclarationOf(flowFile: string): unknown {
  return JSON.parse(readFileSync(declarationPath(flowFile), 'utf8')) as unknown;
}
