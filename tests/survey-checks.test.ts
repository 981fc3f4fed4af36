// Survey checks (issue 11 §2) on small flows written here and on copies of the
// shipped flow: split conditions evaluated with the runner's evaluator, stop
// words walked to publish, REST openers, message limits, credentials.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FlowError, parseFlow, type FlowDefinition } from '../src/flow/definition.js';
import { lintFlow, type Finding } from '../src/flow/lint.js';
import { MAX_BODY_CHARS, SURVEY_CHECK_IDS, surveyCheckId, surveyChecks } from '../src/flow/survey-checks.js';

const SHIPPED = fileURLToPath(new URL('../flows/whatsapp-survey.json', import.meta.url));
const offset = { x: 0, y: 0 };
type State = { name: string; type: string; transitions: Array<Record<string, unknown>>; properties: Record<string, unknown> };

const definition = (states: State[]) => ({ description: 't', states, initial_state: 'Trigger', flags: { allow_concurrent_calls: true } });
const flowOf = (states: State[]): FlowDefinition => parseFlow(JSON.stringify(definition(states)), 'test.json');
const trigger = (message?: string, request?: string): State => ({
  name: 'Trigger',
  type: 'trigger',
  transitions: [{ event: 'incomingMessage', ...(message ? { next: message } : {}) }, { event: 'incomingRequest', ...(request ? { next: request } : {}) }],
  properties: { offset },
});
const ask = (name: string, next: string, more: Record<string, unknown> = {}): State => ({
  name,
  type: 'send-and-wait-for-reply',
  transitions: [{ event: 'incomingMessage', next }, { event: 'timeout', next: 'bye' }, { event: 'deliveryFailure', next: 'bye' }],
  properties: { offset, from: '{{flow.channel.address}}', body: `${name}?`, timeout: '3600', ...more },
});
const say = (name: string, body: string, next?: string): State => ({ name, type: 'send-message', transitions: [{ event: 'sent', ...(next ? { next } : {}) }, { event: 'failed' }], properties: { offset, to: '{{contact.channel.address}}', body } });
const setVar = (name: string, key: string, value: string, next: string): State => ({ name, type: 'set-variables', transitions: [{ event: 'next', next }], properties: { offset, variables: [{ key, value }] } });
const option = (next: string, type: string, value: string, friendly_name = value) => ({ event: 'match', next, conditions: [{ friendly_name, arguments: ['{{widgets.q.inbound.Body}}'], type, value }] });
const split = (name: string, input: string, options: Array<Record<string, unknown>>, noMatch: string | null = 'q'): State => ({
  name,
  type: 'split-based-on',
  transitions: [{ event: 'noMatch', ...(noMatch ? { next: noMatch } : {}) }, ...options],
  properties: { offset, input },
});
const fn = (name: string, path: string, parameters: Array<{ key: string; value: string }>, next?: string): State => ({
  name,
  type: 'run-function',
  transitions: [{ event: 'success', ...(next ? { next } : {}) }, { event: 'fail', next: 'bye' }],
  properties: { offset, url: `https://example-1234-dev.twil.io${path}`, parameters },
});
const publish = (parameters: Array<{ key: string; value: string }>) => fn('publish', '/publish', [{ key: 'execution_sid', value: '{{flow.sid}}' }, ...parameters], 'bye');

/** A one-question survey: q, then a split on its answer, then publish. */
const survey = (options: Array<Record<string, unknown>>, extra: State[] = []) =>
  flowOf([trigger('q'), ask('q', 'check'), split('check', '{{widgets.q.inbound.Body}}', options), publish([{ key: 'answer', value: '{{widgets.q.inbound.Body}}' }]), say('bye', 'Bye'), ...extra]);

const withId = (findings: Finding[], id: string) => findings.filter((f) => surveyCheckId(f) === id);
const shipped = (): { states: State[] } & Record<string, unknown> => JSON.parse(readFileSync(SHIPPED, 'utf8'));
const state = (flow: { states: State[] }, name: string) => {
  const s = flow.states.find((x) => x.name === name);
  if (!s) throw new Error(`the shipped flow has no ${name}`);
  return s;
};

describe('parseFlow: the Flows API outputs', () => {
  const def = definition([trigger('bye'), say('bye', 'Bye')]);
  const plain = parseFlow(JSON.stringify(def), 'plain.json');

  it('accepts `twilio api:studio:v2:flows:fetch -o json` (an array of one flow) and a {definition} object', () => {
    const resource = { sid: `FW${'0'.repeat(32)}`, friendlyName: 'survey', status: 'published', revision: 3, definition: def };
    expect(parseFlow(JSON.stringify([resource]), 'fetched.json')).toEqual(plain);
    expect(parseFlow(JSON.stringify(resource), 'resource.json')).toEqual(plain);
  });

  it('refuses a list of several flows (or none), naming the count and how to fetch one', () => {
    expect(() => parseFlow(JSON.stringify([{ definition: def }, { definition: def }]), 'list.json')).toThrow(FlowError);
    expect(() => parseFlow(JSON.stringify([{ definition: def }, { definition: def }]), 'list.json')).toThrow(/list\.json is a list of 2 flows: give one flow .*flows:fetch --sid/);
    expect(() => parseFlow('[]', 'empty.json')).toThrow('empty.json is a list of 0 flows');
  });

  it('keeps its messages for what is not a flow inside the array', () => {
    expect(() => parseFlow(JSON.stringify([{ definition: { states: [] } }]), 'x.json')).toThrow('x.json is not a Studio flow definition (at states:');
  });
});

describe('surveyChecks', () => {
  it('every message starts with a known check id', () => {
    const flow = survey([option('publish', 'regex', '.*')]);
    const findings = surveyChecks(flow, 'test.json');
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) expect(SURVEY_CHECK_IDS).toContain(surveyCheckId(f));
  });

  it('a flow without publish gets only the safety check (credentials)', () => {
    const flow = flowOf([
      trigger('q'),
      ask('q', 'check'),
      split('check', '{{widgets.q.inbound.Body}}', [option('bye', 'regex', '.*')], null),
      { name: 'hook', type: 'make-http-request', transitions: [{ event: 'success' }, { event: 'failed' }], properties: { offset, method: 'GET', url: 'https://admin:hunter2@example.org/x' } },
      say('bye', 'Bye'),
    ]);
    const findings = surveyChecks(flow, 'test.json');
    expect(findings.map((f) => [f.widget, f.property, surveyCheckId(f), f.severity])).toEqual([['hook', 'url', 'credential', 'error']]);
    expect(findings[0]?.message).toContain('a user name and password in a URL');
    expect(findings[0]?.message).not.toContain('hunter2');
  });

  it('credential: an auth token or an API key and secret, by widget and property, never the value', () => {
    const token = 'f'.repeat(32);
    const secret = `SK${'a'.repeat(32)}:${'B'.repeat(32)}`;
    const flow = survey([option('publish', 'equal_to', 'yes')], [
      fn('notify', '/notify', [{ key: 'sid', value: `AC${'1'.repeat(32)}` }, { key: 'token', value: token }, { key: 'key', value: secret }]),
    ]);
    const findings = withId(surveyChecks(flow, 'test.json'), 'credential');
    expect(findings.map((f) => f.property)).toEqual(['parameters[1].value', 'parameters[2].value']);
    for (const f of findings) expect(f.message).not.toMatch(/f{32}|a{32}|B{32}/);
  });

  it('split-no-nomatch: on a reply an error (the survey ends without a word), on anything else a warning', () => {
    const flow = flowOf([
      trigger('q'),
      ask('q', 'count'),
      setVar('count', 'tries', '{{flow.variables.tries | plus: 1}}', 'cap'),
      split('cap', '{{flow.variables.tries}}', [option('check', 'greater_than', '2')], null),
      split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'equal_to', 'yes')], null),
      publish([]),
      say('bye', 'Bye'),
    ]);
    const findings = withId(surveyChecks(flow, 'test.json'), 'split-no-nomatch');
    expect(findings.map((f) => [f.widget, f.property, f.severity])).toEqual([
      ['cap', 'transitions.noMatch', 'warning'],
      ['check', 'transitions.noMatch', 'error'],
    ]);
    expect(findings[1]?.message).toContain('connect "noMatch" to a message that asks again');
  });

  it('split-shadowed-option: an option whose replies an earlier one takes first (case ignored, as the runner compares)', () => {
    const flow = survey([option('publish', 'matches_any_of', 'Yes,y', 'Yes'), option('bye', 'equal_to', 'YES', 'Exactly yes'), option('bye', 'starts_with', 'no')]);
    const findings = withId(surveyChecks(flow, 'test.json'), 'split-shadowed-option');
    expect(findings.map((f) => [f.widget, f.property, f.severity])).toEqual([['check', 'transitions[2]', 'error']]);
    expect(findings[0]?.message).toBe('[split-shadowed-option] option 2 ("Exactly yes") is never taken: the replies it is written for ("YES") are taken first by option 1 ("Yes"); move it above them, or remove it');
  });

  it('a prefix or pattern after a list of exact replies is reachable by a longer reply ("yes thanks"), and a pattern by typical answers', () => {
    const flow = survey([
      option('publish', 'matches_any_of', 'yes,y,ok'),
      option('publish', 'regex', '^(yes|ok)\\b.*$', 'Starts with yes'),
      option('publish', 'contains', 'es'),
      option('publish', 'regex', '^[0-9]{6,10}$', 'ID number'),
      option('publish', 'greater_than', '120'),
    ]);
    const findings = surveyChecks(flow, 'test.json');
    expect(withId(findings, 'split-shadowed-option')).toEqual([]);
    expect(withId(findings, 'split-unreachable-option')).toEqual([]);
  });

  it('split-unreachable-option: a pattern no reply tried matches is a warning naming the option', () => {
    const flow = survey([option('publish', 'equal_to', 'yes'), option('publish', 'regex', '^zz[0-9]{20}$', 'Code')]);
    const findings = withId(surveyChecks(flow, 'test.json'), 'split-unreachable-option');
    expect(findings.map((f) => [f.property, f.severity])).toEqual([['transitions[2]', 'warning']]);
    expect(findings[0]?.message).toContain('option 2 ("Code") matches none of the replies tried');
  });

  it('split-accepts-junk: a choice that takes junk, and a pattern that matches everything', () => {
    const choice = withId(surveyChecks(survey([option('publish', 'contains', 's', 'Yes'), option('bye', 'equal_to', 'no')]), 'test.json'), 'split-accepts-junk');
    expect(choice.map((f) => [f.widget, f.property, f.severity])).toEqual([['check', 'transitions', 'warning']]);
    expect(choice[0]?.message).toBe(
      '[split-accepts-junk] accepts junk as an answer: "asdf" → option 1 ("Yes"), a 2000-character reply → option 1 ("Yes"); tighten that condition (anchor a pattern with ^…$, list the accepted replies) so junk goes to "noMatch" and is asked again',
    );

    // A free-text option (a pattern, no texts of its own) may take "asdf" but not an empty or sign-only reply.
    const anything = withId(surveyChecks(survey([option('publish', 'equal_to', 'yes'), option('publish', 'regex', '.*', 'Anything')]), 'test.json'), 'split-accepts-junk');
    expect(anything).toHaveLength(1);
    expect(anything[0]?.message).toContain('"" → option 2 ("Anything"), " " → option 2 ("Anything"), "?" → option 2 ("Anything"), "🙂" → option 2 ("Anything");');
    expect(anything[0]?.message).not.toContain('asdf');
    expect(withId(surveyChecks(survey([option('publish', 'regex', '^.*[A-Za-z]{2,}.*$', 'Name')]), 'test.json'), 'split-accepts-junk')).toEqual([]);
    // The same name pattern after a list of stop words is still free text.
    expect(withId(surveyChecks(survey([option('bye', 'matches_any_of', 'stop,cancel'), option('publish', 'regex', '^.*[A-Za-z]{2,}.*$', 'Name')]), 'test.json'), 'split-accepts-junk')).toEqual([]);
  });

  it('junk that is one of the options is an answer, not junk', () => {
    const flow = survey([option('publish', 'matches_any_of', '0,1,2', 'Number of visits')]);
    expect(withId(surveyChecks(flow, 'test.json'), 'split-accepts-junk')).toEqual([]);
  });

  it('split-invalid-condition: a condition the evaluator refuses is an error with its message', () => {
    const bad = withId(surveyChecks(survey([option('publish', 'regex', '(unclosed')]), 'test.json'), 'split-invalid-condition');
    expect(bad.map((f) => [f.widget, f.severity])).toEqual([['check', 'error']]);
    expect(bad[0]?.message).toContain('is not a valid regular expression');
    const unknown = withId(surveyChecks(survey([option('publish', 'sounds_like', 'yes')]), 'test.json'), 'split-invalid-condition');
    expect(unknown[0]?.message).toContain('condition type "sounds_like" is not supported');
  });

  it('wait-no-timeout and wait-no-delivery-failure: a question whose silence or failure leads nowhere', () => {
    const q = ask('q', 'check');
    q.transitions = [{ event: 'incomingMessage', next: 'check' }, { event: 'timeout' }];
    const flow = flowOf([trigger('q'), q, split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'equal_to', 'yes')]), publish([]), say('bye', 'Bye')]);
    const findings = surveyChecks(flow, 'test.json');
    expect(withId(findings, 'wait-no-timeout').map((f) => [f.widget, f.property, f.severity])).toEqual([['q', 'transitions.timeout', 'warning']]);
    expect(withId(findings, 'wait-no-timeout')[0]?.message).toContain('within 3600 s');
    expect(withId(findings, 'wait-no-delivery-failure').map((f) => [f.widget, f.property, f.severity])).toEqual([['q', 'transitions.deliveryFailure', 'warning']]);
    expect(withId(surveyChecks(survey([option('publish', 'equal_to', 'yes')]), 'test.json'), 'wait-no-timeout')).toEqual([]);
  });

  describe('no-opt-out: a stop word walked through the flow', () => {
    const comment = (beforeCheck: State[] = [], first = 'got') =>
      flowOf([
        trigger('q'),
        ask('q', first),
        ...beforeCheck,
        setVar('got', 'comment', '{{widgets.q.inbound.Body | strip}}', 'encrypt'),
        fn('encrypt', '/encrypt', [{ key: 'execution_sid', value: '{{flow.sid}}' }, { key: 'comment', value: '{{flow.variables.comment}}' }], 'publish'),
        publish([{ key: 'comment', value: '{{widgets.encrypt.parsed.comment}}' }]),
        say('bye', 'Bye'),
      ]);

    it('a free-text answer takes STOP and publishes it (through a variable and encrypt)', () => {
      const findings = withId(surveyChecks(comment(), 'test.json'), 'no-opt-out');
      expect(findings.map((f) => [f.widget, f.property, f.severity])).toEqual([['q', 'transitions.incomingMessage', 'warning']]);
      expect(findings[0]?.message).toContain('a reply of "STOP", "stop", "unsubscribe", "cancel", "quit", "end" here is taken as the answer and published');
    });

    it('a stop split before the answer is stored is an opt-out path', () => {
      const stop = split('stop_words', '{{widgets.q.inbound.Body}}', [option('bye', 'matches_any_of', 'stop,unsubscribe,cancel,quit,end')], 'got');
      expect(withId(surveyChecks(comment([stop], 'stop_words'), 'test.json'), 'no-opt-out')).toEqual([]);
      // Only some words: the others are still stored, and named.
      const partial = split('stop_words', '{{widgets.q.inbound.Body}}', [option('bye', 'equal_to', 'stop')], 'got');
      const findings = withId(surveyChecks(comment([partial], 'stop_words'), 'test.json'), 'no-opt-out');
      expect(findings[0]?.message).toContain('a reply of "unsubscribe", "cancel", "quit", "end" here');
    });

    it('an answer the validation refuses is asked again, not stored, even when the retry is later answered', () => {
      const flow = flowOf([
        trigger('q'),
        ask('q', 'check'),
        split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'regex', '^[0-9]+$', 'Number')], 'q'),
        publish([{ key: 'answer', value: '{{widgets.q.inbound.Body}}' }]),
        say('bye', 'Bye'),
      ]);
      expect(withId(surveyChecks(flow, 'test.json'), 'no-opt-out')).toEqual([]);
    });
  });

  describe('REST launches', () => {
    const launched = (opener: State, states: State[] = []) => flowOf([trigger('q', opener.name), opener, ask('q', 'check'), split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'equal_to', 'yes')]), publish([]), say('bye', 'Bye'), ...states]);

    it('rest-opener-not-template: a free-text first message on WhatsApp is an error (63016), on SMS a warning', () => {
      const whatsapp = ask('invite', 'q', { from: 'whatsapp:+14155238886', body: 'Hello {{flow.data.first_name}}' });
      const found = withId(surveyChecks(launched(whatsapp), 'test.json'), 'rest-opener-not-template');
      expect(found.map((f) => [f.widget, f.property, f.severity])).toEqual([['invite', 'content_sid', 'error']]);
      expect(found[0]?.message).toContain('error 63016');
      const sms = ask('invite', 'q', { from: '+15005550006', body: 'Hello {{flow.data.first_name}}' });
      expect(withId(surveyChecks(launched(sms), 'test.json'), 'rest-opener-not-template').map((f) => f.severity)).toEqual(['warning']);
    });

    it('the first message is found past widgets that send nothing, and a content template passes', () => {
      const template = ask('invite', 'q', { message_type: 'content_template', content_sid: 'HX' + '0'.repeat(32), body: undefined });
      const via = setVar('prepare', 'x', '1', 'invite');
      const flow = flowOf([trigger('q', 'prepare'), via, template, ask('q', 'check'), split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'equal_to', 'yes')]), publish([]), say('bye', 'Bye')]);
      expect(withId(surveyChecks(flow, 'test.json'), 'rest-opener-not-template')).toEqual([]);
      const free = flowOf([trigger('q', 'prepare'), via, say('invite', 'Hi', 'q'), ask('q', 'check'), split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'equal_to', 'yes')]), publish([]), say('bye', 'Bye')]);
      expect(withId(surveyChecks(free, 'test.json'), 'rest-opener-not-template').map((f) => f.widget)).toEqual(['invite']);
    });

    it('rest-not-routed: a flow that reads flow.data but leaves incomingRequest unconnected', () => {
      const flow = flowOf([trigger('q'), ask('q', 'check', { body: 'Hello {{flow.data.first_name}}' }), split('check', '{{widgets.q.inbound.Body}}', [option('publish', 'equal_to', 'yes')]), publish([]), say('bye', 'Bye')]);
      const found = withId(surveyChecks(flow, 'test.json'), 'rest-not-routed');
      expect(found.map((f) => [f.widget, f.property, f.severity])).toEqual([['Trigger', 'transitions.incomingRequest', 'error']]);
      expect(withId(surveyChecks(survey([option('publish', 'equal_to', 'yes')]), 'test.json'), 'rest-not-routed')).toEqual([]);
    });
  });

  it(`message-too-long: text over ${MAX_BODY_CHARS} characters (Liquid not counted; an emoji counts 2)`, () => {
    const at = (body: string) => withId(surveyChecks(survey([option('publish', 'equal_to', 'yes')], [say('long', body)]), 'test.json'), 'message-too-long');
    expect(at('x'.repeat(MAX_BODY_CHARS))).toEqual([]);
    expect(at(`${'x'.repeat(MAX_BODY_CHARS)}{{flow.data.name}}`)).toEqual([]);
    expect(at(`${'x'.repeat(MAX_BODY_CHARS - 1)}🙂`).map((f) => [f.widget, f.property, f.severity])).toEqual([['long', 'body', 'error']]);
    expect(at('x'.repeat(MAX_BODY_CHARS + 1))[0]?.message).toContain(`is ${MAX_BODY_CHARS + 1} characters`);
  });

  describe('the shipped flow', () => {
    it('has no survey-check errors: its splits evaluate as intended and its REST opener is a template', () => {
      const flow = parseFlow(readFileSync(SHIPPED, 'utf8'), SHIPPED);
      const findings = surveyChecks(flow, SHIPPED);
      expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
      for (const id of ['split-shadowed-option', 'split-unreachable-option', 'split-accepts-junk', 'rest-opener-not-template', 'rest-not-routed', 'multiple-conditions']) expect(withId(findings, id)).toEqual([]);
    });

    it('multiple-conditions: a copy whose age check ANDs three conditions on one transition', () => {
      const copy = shipped();
      const match = state(copy, 'check_age').transitions.find((t) => t.event === 'match') as { conditions: unknown[] };
      const args = ['{{flow.variables.age}}'];
      match.conditions = [
        { friendly_name: 'Age', arguments: args, type: 'regex', value: '^[0-9]{1,3}$' },
        { friendly_name: 'Age', arguments: args, type: 'greater_than', value: '9' },
        { friendly_name: 'Age', arguments: args, type: 'less_than', value: '121' },
      ];
      const findings = withId(surveyChecks(parseFlow(JSON.stringify(copy), 'copy.json'), 'copy.json'), 'multiple-conditions');
      expect(findings.map((f) => [f.widget, f.severity])).toEqual([['check_age', 'error']]);
      expect(findings[0]?.message).toContain('has 3 conditions on one transition');
    });

    it('a copy whose invite is free text, and one that does not route incomingRequest', () => {
      const free = shipped();
      const invite = state(free, 'invite');
      delete invite.properties.content_sid;
      delete invite.properties.message_type;
      invite.properties.body = 'Hello {{flow.data.first_name}}, would you take our survey?';
      expect(withId(surveyChecks(parseFlow(JSON.stringify(free), 'copy.json'), 'copy.json'), 'rest-opener-not-template').map((f) => [f.widget, f.severity])).toEqual([['invite', 'error']]);

      const unrouted = shipped();
      const request = state(unrouted, 'Trigger').transitions.find((t) => t.event === 'incomingRequest') as Record<string, unknown>;
      delete request.next;
      expect(withId(surveyChecks(parseFlow(JSON.stringify(unrouted), 'copy.json'), 'copy.json'), 'rest-not-routed')).toHaveLength(1);
    });

    it('a copy with a check that takes anything: the junk is named', () => {
      const copy = shipped();
      const match = state(copy, 'check_national_id').transitions.find((t) => t.event === 'match') as { conditions: Array<{ value: string }> };
      (match.conditions[0] as { value: string }).value = '.*';
      const junk = withId(surveyChecks(parseFlow(JSON.stringify(copy), 'copy.json'), 'copy.json'), 'split-accepts-junk');
      expect(junk.map((f) => f.widget)).toEqual(['check_national_id']);
      expect(junk[0]?.message).toContain('"" → option 1');
    });
  });
});

describe('lint runs the survey checks', () => {
  it('lintFlow reports them beside its own findings, and a split with no noMatch once, not twice', () => {
    const flow = parseFlow(JSON.stringify({
      states: [
        { name: 'Trigger', type: 'trigger', transitions: [{ event: 'incomingMessage', next: 'q' }], properties: {} },
        { name: 'q', type: 'send-and-wait-for-reply', transitions: [{ event: 'incomingMessage', next: 's' }, { event: 'timeout', next: 's' }, { event: 'deliveryFailure', next: 's' }], properties: { body: 'x'.repeat(1700), timeout: '60' } },
        { name: 's', type: 'split-based-on', transitions: [{ event: 'match', next: 'q', conditions: [{ friendly_name: 'y', arguments: ['{{widgets.q.inbound.Body}}'], type: 'equal_to', value: 'yes' }] }], properties: { input: '{{widgets.q.inbound.Body}}' } },
        { name: 'publish', type: 'run-function', transitions: [{ event: 'success' }, { event: 'fail' }], properties: { url: 'https://x.twil.io/publish', parameters: [{ key: 'execution_sid', value: '{{flow.sid}}' }] } },
      ],
      initial_state: 'Trigger',
      flags: { allow_concurrent_calls: true },
    }), 'inline.json');
    const findings = lintFlow(flow, 'inline.json', { columns: false });
    expect(findings.filter((f) => f.widget === 's' && /noMatch/.test(f.message))).toHaveLength(1);
    expect(findings.map(surveyCheckId)).toContain('message-too-long');
  });
});

describe('one row per execution, saying how it ended', () => {
  const run = (name: string, path: string, parameters: Array<{ key: string; value: string }>, success: string | undefined, fail: string | undefined): State => ({
    name,
    type: 'run-function',
    transitions: [{ event: 'success', ...(success ? { next: success } : {}) }, { event: 'fail', ...(fail ? { next: fail } : {}) }],
    properties: { offset, url: `https://example-1234-dev.twil.io${path}`, parameters },
  });
  const outcome = [{ key: 'outcome', value: '{{flow.variables.outcome}}' }, { key: 'final_status', value: '{% if flow.variables.outcome == "complete" %}complete{% else %}failed{% endif %}' }];
  const sid = { key: 'execution_sid', value: '{{flow.sid}}' };
  type Change = { qTimeout?: string; encryptFail?: string; publishFail?: string; answerOutcome?: boolean };
  /** q → encrypt → publish → thanks; a timeout or an encrypt or publish failure records its outcome in a row of its own. */
  const outcomeSurvey = ({ qTimeout = 'ended_no_reply', encryptFail = 'ended_failed', publishFail = 'ended_failed', answerOutcome = true }: Change = {}) =>
    flowOf([
      trigger('q'),
      { ...ask('q', 'set_complete'), transitions: [{ event: 'incomingMessage', next: 'set_complete' }, { event: 'timeout', next: qTimeout }, { event: 'deliveryFailure', next: 'ended_no_reply' }] },
      setVar('set_complete', 'outcome', 'complete', 'encrypt'),
      run('encrypt', '/encrypt', [sid, { key: 'answer', value: '{{widgets.q.inbound.Body}}' }], 'publish', encryptFail),
      run('publish', '/publish', [sid, { key: 'answer', value: '{{widgets.encrypt.parsed.answer}}' }, ...(answerOutcome ? outcome : [])], 'thanks', publishFail),
      say('thanks', 'Thank you, your answers are saved.'),
      setVar('ended_no_reply', 'outcome', 'no_reply', 'publish_outcome'),
      setVar('ended_failed', 'outcome', 'failed', 'sorry'),
      say('sorry', 'Sorry, we could not save your answers.', 'publish_outcome'),
      say('gone', 'Bye.'),
      run('publish_outcome', '/publish', [sid, ...outcome], undefined, undefined),
    ]);
  const rowFindings = (flow: FlowDefinition) => surveyChecks(flow, 'test.json').filter((f) => ['terminal-without-row', 'publish-fail-thanks', 'encrypt-fail-publishes'].includes(surveyCheckId(f) ?? ''));

  it('a flow whose every way out publishes its outcome, and whose failures say sorry, passes', () => {
    expect(rowFindings(outcomeSurvey())).toEqual([]);
  });

  it('[terminal-without-row] a path that ends without passing a publish widget, named at its last widget', () => {
    const found = rowFindings(outcomeSurvey({ qTimeout: 'gone' }));
    expect(found.map((f) => [f.widget, f.property, f.severity])).toEqual([['gone', 'transitions.sent/failed', 'warning']]);
    expect(found[0]?.message).toMatch(/^\[terminal-without-row\] an execution can end here without a row.*lead this path to a publish widget/);
  });

  it('[publish-fail-thanks] a publish failure that reaches the thank-you message is an error', () => {
    const found = rowFindings(outcomeSurvey({ publishFail: 'thanks' }));
    expect(found.map((f) => [f.widget, f.property, f.severity])).toEqual([['publish', 'transitions.fail', 'error']]);
    expect(found[0]?.message).toContain('the respondent still gets thanks, the message sent when the answers were stored');
  });

  it('[encrypt-fail-publishes] an encrypt failure that goes on to publish the answers is an error; one that publishes only the outcome is fine', () => {
    const found = rowFindings(outcomeSurvey({ encryptFail: 'publish' }));
    expect(found.map((f) => [f.widget, f.property, f.severity])).toEqual([['encrypt', 'transitions.fail', 'error']]);
    expect(found[0]?.message).toContain('goes on to publish, which publishes the answers although nothing was sealed');
  });

  it('a flow that records no outcome (no outcome parameter on any publish widget) is not held to one row per path', () => {
    const flow = outcomeSurvey({ qTimeout: 'gone', answerOutcome: false });
    flow.states = flow.states.filter((w) => w.name !== 'publish_outcome');
    expect(rowFindings(flow)).toEqual([]);
  });

  it('the shipped flow has none of these findings', () => {
    const flow = parseFlow(readFileSync(SHIPPED, 'utf8'), SHIPPED);
    expect(rowFindings(flow)).toEqual([]);
  });
});

describe('no-outcome-column', () => {
  const flowWith = (parameters: Array<{ key: string; value: string }>) =>
    parseFlow(
      JSON.stringify({
        states: [
          { name: 'Trigger', type: 'trigger', transitions: [{ event: 'incomingMessage', next: 'publish' }], properties: {} },
          { name: 'publish', type: 'run-function', transitions: [{ event: 'success' }, { event: 'fail' }], properties: { url: 'https://x-1234-dev.twil.io/publish', parameters } },
        ],
        initial_state: 'Trigger',
        flags: { allow_concurrent_calls: true },
      }),
      'inline.json',
    );

  it('warns a survey that publishes no outcome (attrition cannot be counted), and not one that does', () => {
    const without = surveyChecks(flowWith([{ key: 'execution_sid', value: '{{flow.sid}}' }]), 'inline.json').filter((f) => surveyCheckId(f) === 'no-outcome-column');
    expect(without.map((f) => [f.widget, f.severity])).toEqual([['publish', 'warning']]);
    const withOutcome = surveyChecks(flowWith([{ key: 'execution_sid', value: '{{flow.sid}}' }, { key: 'outcome', value: '{{flow.variables.outcome}}' }]), 'inline.json');
    expect(withOutcome.map(surveyCheckId)).not.toContain('no-outcome-column');
  });
});
