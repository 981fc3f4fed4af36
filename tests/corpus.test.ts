// Real Studio flows others published (tests/corpus/, provenance in sources.json):
// lint reports the bugs and leaks each has and no other errors, and simulate
// starts each flow on the trigger event it routes and runs a scripted
// respondent along a path to a real end of the flow, offline.
// Why each expected finding is true (or known false): tests/corpus/SOURCES.md.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome, Trigger } from '../src/flow/runner.js';
import { CORPUS_DIR, corpusFlow, EVENT_OF, guardNetwork, lintCorpusFlow, runCorpusFlow, sources, startFunctionStandIn, stubsOf, triggerEvents, type FunctionStandIn } from './corpus/harness.js';

/** Per flow: "widget | property | what the message names" for each true error, and errors judged false that lint still reports. */
const expected = JSON.parse(readFileSync(join(CORPUS_DIR, 'expected-lint.json'), 'utf8')) as Record<string, { errors: string[]; knownFalse: string[] }>;

describe('corpus provenance', () => {
  it('lists at least 15 vendored flows, each with repository, path, commit and a licence that allows it, and the licence text where the repository has one', () => {
    const { vendored, fetchOnly } = sources();
    expect(vendored.length).toBeGreaterThanOrEqual(15);
    for (const s of [...vendored, ...fetchOnly]) {
      expect(s.repository).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(s.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(s.path).not.toBe('');
    }
    for (const s of vendored) {
      expect(s.licence).toMatch(/^(MIT|Apache-2\.0|ISC)\b/);
      expect(existsSync(join(CORPUS_DIR, 'flows', s.file))).toBe(true);
      if (s.licenceText) expect(readFileSync(join(CORPUS_DIR, s.licenceText), 'utf8')).toMatch(/MIT License|Apache License/);
    }
    for (const s of fetchOnly) expect(existsSync(join(CORPUS_DIR, 'flows', s.file))).toBe(false);
  });
});

describe('lint on the corpus', () => {
  for (const s of sources().vendored) {
    it(`${s.file}: every true error is reported, and nothing else is an error`, () => {
      const want = expected[s.file];
      expect(want, `no expectations recorded for ${s.file} in expected-lint.json`).toBeDefined();
      const errors = lintCorpusFlow(s.file).filter((f) => f.severity === 'error');
      const matches = (line: string) => {
        const [widget, property, names] = line.split(' | ') as [string, string, string];
        return (f: (typeof errors)[number]) => f.widget === widget && f.property === property && f.message.includes(names);
      };
      for (const line of want?.errors ?? []) expect(errors.some(matches(line)), `missing error: ${line}`).toBe(true);
      const accounted = [...(want?.errors ?? []), ...(want?.knownFalse ?? [])];
      const unexpected = errors.filter((f) => !accounted.some((line) => matches(line)(f)));
      expect(unexpected.map((f) => `${f.widget} | ${f.property} | ${f.message}`)).toEqual([]);
    });
  }
});

describe('simulate on the corpus, offline', () => {
  let fns: FunctionStandIn;
  let net: ReturnType<typeof guardNetwork>;
  beforeAll(async () => {
    fns = await startFunctionStandIn();
    net = guardNetwork();
  });
  afterAll(async () => {
    net?.restore();
    await fns?.stop();
  });

  const caller = '+15005550001';
  const sms = (body: string): Trigger => ({ kind: 'message', from: caller, body });
  const rest = (data: Record<string, unknown>): Trigger => ({ kind: 'rest', to: caller, data });
  const conversation = (body: string): Trigger => ({ kind: 'conversation', from: caller, body });
  const call: Trigger = { kind: 'call', from: caller };

  interface Case {
    readonly file: string;
    /** What the run shows, for the test's name. */
    readonly walk: string;
    readonly trigger: Trigger;
    /** The respondent's replies in order; digits are keys pressed on a call. */
    readonly replies: string[];
    /** What the flow's HTTP requests and Functions answer, by URL (else 200 with {}). */
    readonly stubs?: Record<string, unknown>;
    /** Every widget the execution runs, in order. */
    readonly path: string[];
    readonly outcome: Outcome;
    /** Where the execution ends, when it is not the last step (a widget the runner refuses). */
    readonly endsAt?: string;
    readonly error?: RegExp;
    /** In what the flow says or plays to the respondent. */
    readonly says?: RegExp;
    /** In what the simulator notes (hand-offs, messages to others, stubbed requests). */
    readonly notes?: RegExp;
    readonly variables?: Record<string, unknown>;
  }

  const cases: Case[] = [
    {
      file: 'vaccine-standby-intake.json',
      walk: 'the whole intake, e-mail branch, then the flow’s own bug',
      trigger: sms('Hi'),
      replies: ['yes', 'Amina Otieno', '34', '94110', 'no', 'no', 'no', 'no', 'no', '2', 'amina@example.org', '1'],
      path: ['Trigger', 'Welcome', 'OptIn', 'Name', 'Age', 'ZipCode', 'EssentialWorker', 'WorkFromHome', 'LongTermCare', 'CongregateSetting', 'HealthCondition', 'NotificationPreference', 'ValidateNotificationPref', 'GetEmail', 'LanguagePreference', 'Goodbye'],
      // Goodbye's "sent" goes to SaveToAirtable, which is not in the flow.
      outcome: 'failed',
      error: /^Goodbye: transition "sent" leads to "SaveToAirtable", which is not a widget of the flow$/,
      says: /OK, Amina Otieno, how old are you\?[\s\S]*What is your email address\?[\s\S]*you're now on the vaccine wait-list/,
    },
    {
      file: 'patient-appointment-reminders.json',
      walk: 'a REMIND event, the patient confirms, the EHR is told',
      trigger: rest({ event_type: 'REMIND', patient_first_name: 'Amina', provider_last_name: 'Mwangi', appointment_datetime: '2024-06-03T10:00:00Z' }),
      stubs: { 'https://YOUR_TWILIO_ENVIRONMENT_DOMAIN_NAME/get-datetime-parts': { readable_datetime: 'Monday, June 3 at 10:00 AM' } },
      replies: ['CONFIRM APPT'],
      path: ['Trigger', 'set_global_variables', 'get-datetime-parts', 'split_on_event_type', 'save-remind', 'send_remind', 'split_remind_reply', 'confirm_remind'],
      outcome: 'completed',
      says: /Hello, Amina\. This is a reminder that you have an appointment scheduled with Dr\. Mwangi for\s+Monday, June 3 at 10:00 AM/,
      // The EHR endpoint comes from set_global_variables.
      notes: /offline: POST https:\/\/you_ehr_endpoint_url\.com\/inbound answered by a stub/,
    },
    {
      file: 'outreach-pcp-followup.json',
      walk: 'follow-up booked, in pain: told to call the nurse',
      trigger: rest({ patient_first_name: 'Amina' }),
      // Each split reads save-response's answer body, not the reply itself: the stub answers YES.
      stubs: { 'https://YOUR_ENVIRONMENT_DOMAIN_NAME/save-response': 'YES' },
      replies: ['YES', 'YES'],
      path: ['Trigger', 'Outreach', 'save_Outreach', 'split_Outreach', 'PainLevel', 'save_PainLevel', 'split_PainLevel', 'CallNurse'],
      outcome: 'completed',
      says: /Please call \(415\) 326-1980/,
    },
    {
      file: 'webchat-conversations.json',
      walk: 'the pre-chat questions, then Flex',
      trigger: conversation('Hi'),
      replies: ['Scheduling', 'New', 'Amina', 'Otieno', '1990-01-31'],
      path: ['Trigger', 'loop_1', 'intro', 'selection_offering', 'selection_check', 'return_customer_offering', 'return_customer_check', 'enter_firstname', 'enter_lastname', 'enter_dob', 'send_thank_you', 'send_to_flex_agent'],
      outcome: 'handed-off',
      says: /connect you with someone who can help/,
      notes: /handed to Flex \(send-to-flex\)/,
      // count's Liquid renders 0 on the first pass, stored as a number.
      variables: { count: 0 },
    },
    {
      file: 'flex-voice.json',
      walk: 'open hours: the call goes to Flex',
      trigger: call,
      stubs: { 'https://${SCHEDULE_MANAGER_DOMAIN}/check-schedule': { isOpen: true } },
      replies: [],
      path: ['Trigger', 'check_schedule', 'is_open', 'SendCallToAgent'],
      outcome: 'handed-off',
      notes: /handed to Flex/,
    },
    {
      file: 'flex-messaging.json',
      walk: 'the caller picks Support, then Flex',
      trigger: conversation('Hi'),
      replies: ['2'],
      path: ['Trigger', 'identify_queue', 'check_response', 'set_queue_support', 'SendConversationToAgent'],
      outcome: 'handed-off',
      variables: { queue_name: 'template_example_support' },
    },
    {
      file: 'flex-chat.json',
      walk: 'straight to Flex',
      trigger: conversation('Hi'),
      replies: [],
      path: ['Trigger', 'SendConversationToAgent'],
      outcome: 'handed-off',
      notes: /handed to Flex/,
    },
    {
      file: 'flex-callback-voicemail.json',
      walk: 'straight to Flex',
      trigger: call,
      replies: [],
      path: ['Trigger', 'SendCallToAgent'],
      outcome: 'handed-off',
      notes: /handed to Flex/,
    },
    {
      file: 'flex-messaging-parking.json',
      walk: 'an unclear answer is asked again, then sales and Flex',
      trigger: conversation('Hi'),
      replies: ['hello?', 'I need help with sales'],
      path: ['Trigger', 'send_welcome', 'select_queue', 'send_welcome', 'select_queue', 'set_sales', 'send_please_wait', 'send_to_flex'],
      outcome: 'handed-off',
      says: /locate a sales representative/,
      variables: { selected_queue: 'sales' },
    },
    {
      file: 'flex-schedule.json',
      walk: 'closed: the caller hears why',
      trigger: call,
      stubs: { 'https://${SCHEDULE_MANAGER_DOMAIN}/check-schedule': { isOpen: false, closedReason: 'manual' } },
      replies: [],
      path: ['Trigger', 'check_schedule', 'is_open', 'say_closed'],
      outcome: 'completed',
      // The say is a Liquid case on closedReason: only the 'manual' branch is spoken.
      says: /^\s*We are currently closed due to unforseen circumstances\. Please call back later\.\s*Thank you for calling and have a great day\.$/,
    },
    {
      file: 'frontline-airtable-bot.json',
      walk: 'a new WhatsApp customer asks for an agent and is routed',
      trigger: conversation('Oi'),
      // get-convo-name and get-customer answer {}: no name, no customer yet.
      replies: ['Amina', 'agente'],
      path: ['Trigger', 'set_variables_1', 'get-convo-name', 'split-convo-name', 'get-customer', 'split-customer', 'new-customer-name', 'new-customer-send-reply', 'split-agent-new-customer', 'transfer-message', 'add-convo-name', 'routing'],
      outcome: 'completed',
      says: /Muito prazer Amina![\s\S]*Um momento enquanto te transfiro/,
      notes: /offline: POST https:\/\/your-serverless-url-dev\.twil\.io\/callbacks\/routing answered by a stub/,
    },
    {
      file: 'frontline-airtable-bot.json',
      walk: 'a caller presses 0 and is sent to WhatsApp',
      trigger: call,
      replies: ['0'],
      path: ['Trigger', 'set_variables_2', 'gather_1', 'function_1', 'say_play_2'],
      outcome: 'completed',
      says: /Favor se dirigir ao aplicativo do Whats-ápp/,
      // A phone number set without quotes stays text: "+1…" does not read back as the same number.
      variables: { To: caller },
    },
    {
      file: 'order-lookup-ivr.json',
      walk: 'an allowed store enters an order and is connected',
      trigger: call,
      stubs: { 'https://example.com/allow': { matched: true }, 'https://example.com/httpRequest': '+15005550009' },
      replies: ['4521'],
      path: ['Trigger', 'allow_list', 'allow_split', 'order_no', 'order_lookup', 'say_play_1', 'forward_call'],
      outcome: 'completed',
      says: /Please enter the order number\.[\s\S]*now being connected with the customer/,
      notes: /the call was connected/,
    },
    {
      file: 'order-lookup-ivr.json',
      walk: 'a caller not on the allow list is turned away',
      trigger: call,
      stubs: { 'https://example.com/allow': { matched: false } },
      replies: [],
      path: ['Trigger', 'allow_list', 'allow_split', 'error'],
      outcome: 'completed',
      says: /cannot accept your call/,
    },
    {
      file: 'global-connect-passport.json',
      walk: 'the tenth stamp: templates to collector and target',
      trigger: sms('K7Q2'),
      stubs: {
        'https://YOUR-SERVICE-NAME.twil.io/validate-stamp': {
          action: 'stamp_collected',
          languageMatch: 'different',
          newStampCount: 10,
          target: { name: 'Kofi', country: 'Ghana', phone: '+15005550002' },
          collector: { name: 'Amina', country: 'Kenya' },
        },
      },
      replies: [],
      path: ['Trigger', 'validate_stamp', 'check_action', 'same_language', 'send_stamp_collector', 'check_stamp_number', 'send_completion', 'send_stamp_target'],
      outcome: 'completed',
      says: /\[WhatsApp template HXbb376c8977326f588f4185accb59a152\][\s\S]*Passport Validated!/,
      // The target's template goes to the target's phone, not to the respondent.
      notes: /sent to another address, not the respondent: \[WhatsApp template HX864a53aedd05da9606765161b9d09450\]/,
    },
    {
      file: 'sms-forwarding.json',
      walk: 'the message is forwarded (to a stub)',
      trigger: sms('Running late, there at 6'),
      replies: [],
      path: ['Trigger', 'http_1'],
      outcome: 'completed',
      notes: /^offline: POST <<INSERT YOUR TWILIO FUNCTION URL>> answered by a stub/,
    },
    {
      file: 'order-bot.json',
      walk: 'a known member ID, then Flex',
      trigger: call,
      stubs: { 'https://mercado-pago-serverless-8115-prod.twil.io/create-payment': { record: { fields: { View: 'Gold' } } } },
      replies: ['123456'],
      path: ['Trigger', 'boasvindas', 'matricula', 'consulta_usuario', 'usuario_existe', 'send_to_flex_1'],
      outcome: 'handed-off',
      says: /Seja bem-vindo[\s\S]*digite o número de sua matrícula/,
      notes: /handed to Flex/,
    },
    {
      file: 'autodialer.json',
      walk: 'the outbound call is picked up and announced, then stops at enqueue-call, which the runner cannot run',
      trigger: rest({ reason: 'review your order' }),
      replies: ['<answer>'],
      path: ['Trigger', 'initate_call', 'announce'],
      outcome: 'failed',
      endsAt: 'enqueue',
      says: /we are calling you today to  review your order/,
      error: /^enqueue: widget type "enqueue-call" is not supported by the local runner/,
    },
    {
      file: 'requestbin.json',
      walk: 'the name is posted to the callback and its answer quoted',
      trigger: rest({ campaignid: '1' }),
      stubs: { 'https://you_callback.ngrok.io/callback': { message: 'stored' } },
      replies: ['Amina'],
      path: ['Trigger', 'intro', 'callback', 'ack'],
      outcome: 'completed',
      says: /Pleasure to meet you, Amina\. HTTP response from callback was: "stored"/,
    },
  ];

  it('has a run for every vendored flow, each started on an event its Trigger routes', () => {
    expect(new Set(cases.map((c) => c.file))).toEqual(new Set(sources().vendored.map((s) => s.file)));
    for (const c of cases) expect(triggerEvents(corpusFlow(c.file)), c.file).toContain(EVENT_OF[c.trigger.kind]);
  });

  for (const c of cases) {
    it(`${c.file} (${EVENT_OF[c.trigger.kind]}): ${c.walk}, ending at ${c.endsAt ?? c.path.at(-1)} (${c.outcome})`, async () => {
      const { result, transcript } = await runCorpusFlow(corpusFlow(c.file), fns.url, c.trigger, c.replies, c.stubs && stubsOf(c.stubs));
      const lines = (from: string) => transcript.filter((l) => l.from === from);
      expect(result.steps.map((s) => s.widget)).toEqual(c.path);
      expect(result.outcome).toBe(c.outcome);
      expect(result.endedAt).toBe(c.endsAt ?? c.path.at(-1));
      if (c.error) expect(result.error).toMatch(c.error);
      else expect(result.error).toBeUndefined();
      // Every reply was used: the path is the one the script walks, not a time-out.
      expect(lines('respondent').map((l) => l.text)).toEqual(c.replies);
      if (c.says) expect(lines('flow').map((l) => l.text).join('\n')).toMatch(c.says);
      if (c.notes) expect(lines('simulator').some((l) => c.notes?.test(l.text))).toBe(true);
      if (c.variables) expect(result.variables).toMatchObject(c.variables);
      // Offline: every HTTP request and Function call on the path was answered by a stub, and nothing reached the network.
      const requests = result.steps.filter((s) => s.type === 'make-http-request' || s.type === 'run-function').map((s) => s.widget);
      expect(lines('simulator').filter((l) => l.text.startsWith('offline: ')).map((l) => l.widget)).toEqual(requests);
      expect(net.outside).toEqual([]);
      expect(fns.paths).toEqual([]);
    });
  }
});
