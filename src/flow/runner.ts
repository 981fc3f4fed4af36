// A local Studio: runs one execution of a flow definition widget by widget,
// with Studio's Liquid context, calling the real local Functions signed as
// Twilio signs them. Offline by default: HTTP requests and Run Functions that
// are not this project's Functions get a stub answer, and the transcript says
// so. Unknown widget types and unrouted triggers stop the run with an error
// naming them; a failed execution says why, naming widgets and error codes,
// never an answer.
//
// Studio semantics relied on (from Studio's widget docs, unless marked):
// - Split Based On tests its Input against each condition, whose value is
//   rendered as Liquid (conditions.ts).
// - Set Variables: a value is "numeric if you do not enclose it in quotation
//   marks" (Twilio support, Liquid in Studio). Assumed: the rendered value is
//   stored as a number when it reads back as the same text (so "0712" stays
//   text), and surrounding quotes are removed.
// - Make HTTP Request: GET sends its parameters in the query string; only a
//   JSON object answer is parsed; at most 64 kB (http-answer.ts).
// - Send Message: sent to `to` (a message to another address is not shown to
//   the respondent). With message_type "content_template" the content_sid is
//   sent and the body ignored; assumed: a content_sid without message_type is
//   a template too, as older exports write it.
// - Run Subflow: parameters reach the subflow as trigger.parent.parameters;
//   assumed: the subflow's flow.variables come back as widgets.<name>.<key>.
// - Voice: gather-input-on-call gives Digits (keypress) or SpeechResult
//   (speech); record-voicemail gives RecordingUrl (recordingComplete), noAudio
//   or hangup; say-play ends with audioComplete; connect-call-to with
//   callCompleted. send-to-flex, send-to-auto-pilot and an add-twiml-redirect
//   to anything but this project's Functions hand the contact to something
//   this runner cannot run: the execution ends there, recorded as handed off.
// - Add TwiML Redirect (Studio's TwiML Redirect widget docs): Twilio requests
//   the URL (POST by default) and plays its TwiML; a <Redirect> to Studio's
//   webhook with FlowEvent=return takes the `return` transition, and every
//   other parameter of that URL becomes widgets.<name>.<parameter>. No return
//   within the widget's timeout (the caller hung up, the TwiML ended) takes
//   `timeout`. Assumed: a Function answering an error takes `fail`.
//   <Gather> (TwiML docs): keys or speech are posted to its action; with
//   nothing heard it falls through to the next verb.
// - Make Outgoing Call: answered, busy, noAnswer or failed, as scripted.

import { randomBytes } from 'node:crypto';
import { signForm } from '../twilio/signature.js';
import { allHold } from './conditions.js';
import { FlowError, keyValues, nextOf, urlPath, widgetsByName, type FlowDefinition, type Widget } from './definition.js';
import { functionFailure, widgetAnswer, type WidgetAnswer } from './http-answer.js';
import { studioLiquid } from './liquid.js';
import { projectFunctionPaths, shownUrl, stubFor, type Stubs } from './stubs.js';
import { parseTwiml } from './twiml.js';

/** Replies that stand for what a respondent does other than typing. */
export const TIMEOUT = '<timeout>';
export const DELIVERY_FAILURE = '<delivery-failure>';
/** On a call: the caller hangs up (at a TwiML <Gather>), or, at an outgoing call, does not pick up / is busy. */
export const HANGUP = '<hangup>';
export const NO_ANSWER = '<no-answer>';
export const BUSY = '<busy>';

export interface Chat {
  /** A message the flow sends to the respondent. */
  send(body: string, widget: string): void;
  /** The respondent's answer to `widget`'s question, or TIMEOUT / DELIVERY_FAILURE. */
  reply(widget: Widget, question: string): Promise<string>;
  /** What the simulator did that the respondent does not see (a stub answered, a hand-off, a message to someone else). */
  note?(text: string, widget: string): void;
}

export type Trigger =
  | { readonly kind: 'message'; readonly from: string; readonly body: string }
  | { readonly kind: 'rest'; readonly to: string; readonly data: Readonly<Record<string, unknown>> }
  | { readonly kind: 'conversation'; readonly from: string; readonly body: string }
  | { readonly kind: 'call'; readonly from: string }
  | { readonly kind: 'parent'; readonly from: string; readonly parameters: Readonly<Record<string, unknown>> };

/** The Trigger widget's event each kind of trigger starts. */
export const TRIGGER_EVENTS = {
  message: 'incomingMessage',
  rest: 'incomingRequest',
  conversation: 'incomingConversationMessage',
  call: 'incomingCall',
  parent: 'incomingParent',
} as const satisfies Record<Trigger['kind'], string>;

export interface ExecutionOptions {
  readonly flow: FlowDefinition;
  /** Base URL of the Functions (local twilio-run) and the auth token requests are signed with. */
  readonly functionsUrl: string;
  readonly authToken: string;
  readonly trigger: Trigger;
  /** The flow's own address, e.g. the WhatsApp sender. */
  readonly flowAddress: string;
  readonly chat: Chat;
  readonly executionSid?: string;
  readonly flowSid?: string;
  readonly maxSteps?: number;
  /** Stops the execution (Ctrl-C): it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Answers for HTTP requests and other Run Functions, by URL (offline mode). */
  readonly stubs?: Stubs;
  /** Make HTTP requests and call other Run Functions for real instead of stubbing them. */
  readonly liveHttp?: boolean;
  /** Subflows a run-subflow widget runs, by its flow_sid or widget name; others are stubbed. */
  readonly subflows?: ReadonlyMap<string, FlowDefinition>;
}

export interface Step {
  readonly widget: string;
  readonly type: string;
  readonly event: string;
}

/** completed: the flow ran to an end; handed-off: it ended at a widget handing the contact elsewhere (Flex, TwiML, Autopilot); failed: a Function failed or the runner stopped. */
export type Outcome = 'completed' | 'handed-off' | 'failed';
export const OUTCOMES: readonly Outcome[] = ['completed', 'handed-off', 'failed'];

export interface ExecutionResult {
  readonly executionSid: string;
  readonly outcome: Outcome;
  /** The widget the execution ended at (none when it failed before the first). */
  readonly endedAt?: string;
  /** publish answered 2xx: the response is stored (in the sheet, or queued for it). */
  readonly stored: boolean;
  readonly steps: readonly Step[];
  /** Why it failed: the first Function's error (status, code, message), a time-out, an unsupported widget, … */
  readonly error?: string;
  /** From the respondent's last answer to publish's answer, in ms. */
  readonly lastAnswerToPublishMs?: number;
  /** flow.variables at the end (a subflow returns them to its parent). */
  readonly variables: Readonly<Record<string, unknown>>;
}

const liquid = studioLiquid();
/** Studio's limit for a Run Function call or an HTTP request. */
const STUDIO_TIMEOUT_MS = 10_000;
const HAND_OFFS: Readonly<Record<string, string>> = {
  'send-to-flex': 'handed to Flex',
  'add-twiml-redirect': 'redirected to TwiML',
  'send-to-auto-pilot': 'handed to Autopilot',
};
export const SUPPORTED_WIDGETS = [
  'trigger', 'send-message', 'send-and-wait-for-reply', 'split-based-on', 'set-variables', 'run-function', 'make-http-request', 'run-subflow',
  'say-play', 'gather-input-on-call', 'record-voicemail', 'connect-call-to', 'make-outgoing-call-v2', ...Object.keys(HAND_OFFS),
] as const;
/** TwiML documents one redirect may chain before the runner gives up (a loop). */
const MAX_TWIML_HOPS = 20;
/** Studio's webhook a TwiML <Redirect> returns the call to. */
const STUDIO_RETURN = /^https:\/\/webhooks\.twilio\.com\/v1\/Accounts\/AC[0-9a-f]{32}\/Flows\/(FW[0-9a-f]{32})$/;

export const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/** Settles as `work` does, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((ok, fail) => {
    const onAbort = () => fail(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(ok, fail).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A Set Variables value as Studio stores it: quoted text without its quotes, a number when it is one, else text. */
export function variableValue(rendered: string): string | number {
  const quoted = /^\s*"([\s\S]*)"\s*$/.exec(rendered);
  if (quoted) return quoted[1] as string;
  const t = rendered.trim();
  return t !== '' && String(Number(t)) === t ? Number(t) : rendered;
}

function triggerContext(trigger: Trigger, flowAddress: string): Record<string, unknown> {
  switch (trigger.kind) {
    case 'message':
      return { message: { Body: trigger.body, From: trigger.from, To: flowAddress, MessageSid: newSid('SM'), ChannelAddress: trigger.from } };
    case 'rest':
      return { request: { from: flowAddress, to: trigger.to, parameters: trigger.data } };
    case 'conversation':
      return { conversation: { ConversationSid: newSid('CH'), MessageSid: newSid('IM'), ParticipantSid: newSid('MB'), Body: trigger.body, Author: trigger.from, Source: 'SDK' } };
    case 'call':
      return { call: { CallSid: newSid('CA'), From: trigger.from, Caller: trigger.from, To: flowAddress, Called: flowAddress, Direction: 'inbound', CallStatus: 'ringing' } };
    case 'parent':
      return { parent: { parameters: trigger.parameters } };
  }
}

const addressOf = (trigger: Trigger) => (trigger.kind === 'rest' ? trigger.to : trigger.from);

export async function runExecution(options: ExecutionOptions): Promise<ExecutionResult> {
  const { flow, chat } = options;
  const widgets = widgetsByName(flow);
  const executionSid = options.executionSid ?? newSid('FN');
  const contactAddress = addressOf(options.trigger);
  const variables: Record<string, unknown> = {};
  const context = {
    flow: {
      sid: executionSid,
      flow_sid: options.flowSid ?? `FW${'0'.repeat(32)}`,
      channel: { address: options.flowAddress },
      data: options.trigger.kind === 'rest' ? options.trigger.data : {},
      variables,
    },
    contact: { channel: { address: contactAddress } },
    trigger: triggerContext(options.trigger, options.flowAddress),
    widgets: {} as Record<string, unknown>,
  };
  const steps: Step[] = [];
  let lastAnswerAt: number | undefined;
  let lastAnswerToPublishMs: number | undefined;
  let failure: string | undefined;
  let stored = false;
  let handedOff = false;
  let callEnded = false;

  const note = (text: string, w: Widget) => chat.note?.(text, w.name);
  const render = (template: string, where: string): string => {
    try {
      return liquid.parseAndRenderSync(template, context);
    } catch (error) {
      throw new FlowError(`${where}: the Liquid template does not render (${error instanceof Error ? error.message.split('\n')[0] : 'error'})`);
    }
  };
  const prop = (w: Widget, name: string): string => {
    const v = w.properties[name];
    return typeof v === 'string' ? render(v, `${w.name} → ${name}`) : '';
  };
  const params = (w: Widget): Array<[string, string]> => keyValues(w.properties.parameters).map(({ key, value }) => [key, render(value, `${w.name} → parameters.${key}`)]);

  /** The body, or for a WhatsApp content template (the only first message WhatsApp allows) its SID. */
  const messageText = (w: Widget): string => {
    const type = w.properties.message_type;
    const template = type === 'content_template' || (type === undefined && typeof w.properties.content_sid === 'string');
    if (!template) return prop(w, 'body');
    const sid = prop(w, 'content_sid');
    if (!sid) throw new FlowError(`${w.name}: message_type is content_template but content_sid renders empty: give the template's HX… SID (e.g. in flow.data)`);
    return `[WhatsApp template ${sid}]`;
  };

  /** Sends a request with Studio's time limit; the answer, or throws a FlowError saying why there is none. */
  async function request(w: Widget, url: string, init: RequestInit, names: { what: string; target: string; hint?: string }): Promise<WidgetAnswer> {
    const timeout = AbortSignal.timeout(STUDIO_TIMEOUT_MS);
    try {
      const res = await fetch(url, { ...init, signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      return widgetAnswer(res.status, res.headers.get('content-type') ?? '', await res.text());
    } catch (error) {
      options.signal?.throwIfAborted();
      if (timeout.aborted) throw new FlowError(`${names.what} did not answer within ${STUDIO_TIMEOUT_MS / 1000} s, Studio's limit for a ${w.type === 'run-function' ? 'Run Function call' : 'HTTP request'}`);
      const cause = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new FlowError(`${w.name}: ${names.target} could not be reached (${typeof cause === 'string' ? cause : error instanceof Error ? error.name : 'error'})${names.hint ?? ''}`);
    }
  }

  function stubbed(w: Widget, method: string, url: string): WidgetAnswer {
    const stub = stubFor(options.stubs, url);
    note(`offline: ${method} ${shownUrl(url)} answered by a stub (HTTP ${stub.status}); --live-http makes the request`, w);
    return widgetAnswer(stub.status, stub.contentType, stub.body);
  }

  async function callFunction(w: Widget): Promise<string> {
    const url = typeof w.properties.url === 'string' ? w.properties.url : '';
    if (!url) throw new FlowError(`${w.name}: the Run Function widget has no url`);
    const path = urlPath(url);
    const ours = projectFunctionPaths().includes(path);
    const target = ours ? `${options.functionsUrl.replace(/\/+$/, '')}${path}` : url;
    const form = Object.fromEntries(params(w));
    let answer: WidgetAnswer;
    if (!ours && !options.liveHttp) answer = stubbed(w, 'POST', url);
    else {
      const init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signForm(options.authToken, target, form) },
        body: new URLSearchParams(form),
      };
      answer = await request(w, target, init, { what: `${w.name} (${path})`, target: ours ? `the Function at ${target}` : shownUrl(target), ...(ours ? { hint: ': are the local Functions running?' } : {}) });
    }
    context.widgets[w.name] = answer.context;
    if (answer.ok && ours && path === '/publish') {
      stored = true;
      if (lastAnswerAt !== undefined) lastAnswerToPublishMs = performance.now() - lastAnswerAt;
    }
    if (!answer.ok) failure ??= answer.problem ? `${w.name} (${path}): ${answer.problem}` : functionFailure(`${w.name} (${path})`, Number(answer.context.status_code), answer.context.parsed);
    return answer.ok ? 'success' : 'fail';
  }

  async function httpRequest(w: Widget): Promise<string> {
    const method = (typeof w.properties.method === 'string' ? w.properties.method : 'GET').toUpperCase();
    const contentType = typeof w.properties.content_type === 'string' ? w.properties.content_type : 'application/x-www-form-urlencoded;charset=utf-8';
    const form = params(w);
    let url = prop(w, 'url');
    if (method === 'GET' && form.length > 0) url += `${url.includes('?') ? '&' : '?'}${new URLSearchParams(form).toString()}`;
    const body = method === 'GET' ? undefined : /json/i.test(contentType) ? prop(w, 'body') : new URLSearchParams(form).toString();
    let answer: WidgetAnswer;
    if (!options.liveHttp) answer = stubbed(w, method, url);
    else {
      try {
        answer = await request(w, url, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': contentType } }) }, { what: `${w.name} (${shownUrl(url)})`, target: shownUrl(url) });
      } catch (error) {
        if (!(error instanceof FlowError)) throw error;
        note(`${error.message}: took "failed"`, w);
        answer = { ok: false, context: { status_code: 0, body: '' } };
      }
    }
    if (answer.problem) note(`${answer.problem}: took "failed"`, w);
    context.widgets[w.name] = answer.context;
    return answer.ok ? 'success' : 'failed';
  }

  async function runSubflow(w: Widget): Promise<string | undefined> {
    const sid = typeof w.properties.flow_sid === 'string' ? w.properties.flow_sid : '';
    const subflow = options.subflows?.get(w.name) ?? options.subflows?.get(sid);
    const parameters = Object.fromEntries(params(w));
    if (!subflow) {
      note(`offline: subflow ${sid || '(no flow_sid)'} stubbed as completed; --subflow ${w.name}=FILE runs it`, w);
      context.widgets[w.name] = {};
      return 'completed';
    }
    const sub = await runExecution({ ...options, flow: subflow, executionSid, trigger: { kind: 'parent', from: contactAddress, parameters } });
    steps.push(...sub.steps.map((s) => ({ ...s, widget: `${w.name} › ${s.widget}` })));
    context.widgets[w.name] = sub.variables;
    if (sub.stored) stored = true;
    if (sub.outcome === 'handed-off') {
      handedOff = true;
      return undefined;
    }
    if (sub.outcome === 'failed') failure ??= `${w.name} › ${sub.error ?? 'the subflow failed'}`;
    return sub.outcome === 'failed' ? 'failed' : 'completed';
  }

  /** What Twilio Voice posts with every request of this call (no answer among them). */
  let callSid: string | undefined;
  const callParams = (): Record<string, string> => {
    const call = (context.trigger as { call?: { CallSid?: string } }).call;
    callSid ??= call?.CallSid ?? newSid('CA');
    const inbound = options.trigger.kind === 'call';
    return {
      AccountSid: `AC${'0'.repeat(32)}`,
      CallSid: callSid,
      From: inbound ? contactAddress : options.flowAddress,
      To: inbound ? options.flowAddress : contactAddress,
      CallStatus: 'in-progress',
      Direction: inbound ? 'inbound' : 'outbound-api',
      ApiVersion: '2010-04-01',
    };
  };

  /** POSTs to one of our Functions as Twilio Voice does (signed, the query string part of the signed URL); its TwiML, or why there is none. */
  async function fetchTwiml(w: Widget, url: string, body: Record<string, string>): Promise<{ ok: true; xml: string } | { ok: false; why: string }> {
    const local = new URL(url);
    const target = `${options.functionsUrl.replace(/\/+$/, '')}${local.pathname}${local.search}`;
    const timeout = AbortSignal.timeout(STUDIO_TIMEOUT_MS);
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signForm(options.authToken, target, body) },
        body: new URLSearchParams(body),
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      const text = await res.text();
      if (res.ok) return { ok: true, xml: text };
      let code = '';
      try {
        code = String((JSON.parse(text) as { error?: { code?: unknown } }).error?.code ?? '');
      } catch {
        // not JSON: the status says enough
      }
      return { ok: false, why: `${local.pathname} answered HTTP ${res.status}${code ? ` ${code}` : ''}` };
    } catch (error) {
      options.signal?.throwIfAborted();
      if (timeout.aborted) return { ok: false, why: `${local.pathname} did not answer within ${STUDIO_TIMEOUT_MS / 1000} s` };
      throw new FlowError(`${w.name}: the Function at ${target} could not be reached: are the local Functions running?`);
    }
  }

  /** Add TwiML Redirect to one of our Functions: plays the TwiML it answers until the call returns to Studio. */
  async function twimlRedirect(w: Widget): Promise<string | undefined> {
    const url = prop(w, 'url').trim();
    if (!projectFunctionPaths().includes(urlPath(url))) {
      note(`redirected to TwiML (add-twiml-redirect): the simulated execution ends here (${shownUrl(url) || 'no url'} is not one of this project's Functions)`, w);
      handedOff = true;
      return undefined;
    }
    let next: string | undefined = url;
    let body = callParams();
    const ended = (why: string) => {
      note(`${why}: no return to Studio, so the widget's timeout fires`, w);
      context.widgets[w.name] = {};
      return 'timeout';
    };
    for (let hop = 0; next !== undefined; hop++) {
      if (hop >= MAX_TWIML_HOPS) throw new FlowError(`${w.name}: the TwiML redirected ${hop} times without returning to Studio: check the Functions for a loop`);
      const studio = STUDIO_RETURN.exec(next.split('?')[0] as string);
      if (studio) {
        const query = new URL(next).searchParams;
        if (studio[1] !== context.flow.flow_sid || query.get('FlowEvent') !== 'return') throw new FlowError(`${w.name}: the TwiML redirects to another flow's webhook, or without FlowEvent=return: Studio would not resume this execution`);
        context.widgets[w.name] = Object.fromEntries([...query].filter(([k]) => k !== 'FlowEvent'));
        return 'return';
      }
      if (!projectFunctionPaths().includes(urlPath(next))) throw new FlowError(`${w.name}: the TwiML redirects the call to ${shownUrl(next)}, which the runner cannot follow`);
      const fetched: string = next;
      const answer = await fetchTwiml(w, fetched, body);
      if (!answer.ok) {
        failure ??= `${w.name}: ${answer.why}`;
        context.widgets[w.name] = {};
        return 'fail';
      }
      next = undefined;
      body = callParams();
      for (const verb of parseTwiml(answer.xml)) {
        if (verb.name === 'Say') chat.send(verb.text, w.name);
        else if (verb.name === 'Pause') continue;
        else if (verb.name === 'Hangup') return ended('the TwiML hung up');
        else if (verb.name === 'Redirect') next = verb.text;
        else if (verb.name === 'Gather') {
          const heard = await ask(w, verb.children.filter((c) => c.name === 'Say').map((c) => c.text).join(' '));
          if (heard === HANGUP) return ended('the caller hung up');
          if (heard === TIMEOUT || heard === DELIVERY_FAILURE) continue;
          lastAnswerAt = performance.now();
          const keys = /^[0-9*#]+$/.test(heard.trim());
          body = { ...body, ...(keys ? { Digits: heard.trim() } : { SpeechResult: heard, Confidence: '0.9' }) };
          next = new URL(verb.attributes.action ?? '', fetched).toString();
        } else throw new FlowError(`${w.name}: the TwiML plays <${verb.name}>, which the runner does not simulate`);
        if (next !== undefined) break;
      }
      if (next === undefined) return ended('the TwiML ended');
    }
    return ended('the TwiML ended');
  }

  async function ask(w: Widget, question: string): Promise<string> {
    if (question) chat.send(question, w.name);
    return untilAborted(chat.reply(w, question), options.signal);
  }

  /** Runs one widget; returns the transition event it takes, or undefined at a hand-off. */
  async function step(w: Widget): Promise<string | undefined> {
    switch (w.type) {
      case 'trigger': {
        const event = TRIGGER_EVENTS[options.trigger.kind];
        if (!nextOf(w, event)) throw new FlowError(`${w.name}: the flow does not route ${event} (nothing is connected to it): connect it, or simulate with a trigger the flow routes`);
        return event;
      }
      case 'send-message': {
        const text = messageText(w);
        const to = prop(w, 'to').trim();
        if (to && to !== contactAddress) note(`sent to another address, not the respondent: ${text}`, w);
        else chat.send(text, w.name);
        return 'sent';
      }
      case 'send-and-wait-for-reply': {
        const answer = await ask(w, messageText(w));
        if (answer === TIMEOUT) return 'timeout';
        if (answer === DELIVERY_FAILURE) return 'deliveryFailure';
        lastAnswerAt = performance.now();
        context.widgets[w.name] = { inbound: { Body: answer, From: contactAddress, To: options.flowAddress, MessageSid: newSid('SM') } };
        return 'incomingMessage';
      }
      case 'split-based-on': {
        const input = prop(w, 'input');
        for (const [i, t] of w.transitions.entries()) {
          if (t.event === 'noMatch' || !t.conditions) continue;
          if (allHold(t.conditions, (s) => render(s, `${w.name} → conditions`), input, w.name)) return `match:${i}`;
        }
        return 'noMatch';
      }
      case 'set-variables':
        for (const { key, value } of keyValues(w.properties.variables)) variables[key] = variableValue(render(value, `${w.name} → variables.${key}`));
        return 'next';
      case 'run-function':
        return callFunction(w);
      case 'make-http-request':
        return httpRequest(w);
      case 'run-subflow':
        return runSubflow(w);
      case 'say-play':
        chat.send(prop(w, 'say') || `[audio ${prop(w, 'play')}]`, w.name);
        return 'audioComplete';
      case 'gather-input-on-call': {
        const answer = await ask(w, prop(w, 'say') || (prop(w, 'play') ? `[audio ${prop(w, 'play')}]` : ''));
        if (answer === HANGUP) {
          // Assumed: the widget has no hang-up transition, so nothing after it runs.
          note('the caller hung up: nothing after this widget runs', w);
          callEnded = true;
          return undefined;
        }
        if (answer === TIMEOUT || answer === DELIVERY_FAILURE) return 'timeout';
        lastAnswerAt = performance.now();
        // Scripted keys are digits, * and #; anything else was said.
        const keys = /^[0-9*#]+$/.test(answer.trim());
        context.widgets[w.name] = keys ? { Digits: answer.trim() } : { SpeechResult: answer, Confidence: '0.9' };
        return keys ? 'keypress' : 'speech';
      }
      case 'record-voicemail': {
        const answer = await ask(w, '');
        if (answer === TIMEOUT) return 'noAudio';
        if (answer === DELIVERY_FAILURE) return 'hangup';
        lastAnswerAt = performance.now();
        const recordingSid = newSid('RE');
        context.widgets[w.name] = { RecordingSid: recordingSid, RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/AC${'0'.repeat(32)}/Recordings/${recordingSid}`, RecordingDuration: '5', ...(w.properties.transcribe === true || w.properties.transcribe === 'true' ? { TranscriptionText: answer } : {}) };
        return 'recordingComplete';
      }
      case 'make-outgoing-call-v2': {
        const answer = await ask(w, '');
        const event = answer === TIMEOUT || answer === NO_ANSWER ? 'noAnswer' : answer === BUSY ? 'busy' : answer === DELIVERY_FAILURE || answer === HANGUP ? 'failed' : 'answered';
        context.widgets[w.name] = { CallSid: callParams().CallSid, CallStatus: event === 'answered' ? 'in-progress' : event };
        return event;
      }
      case 'add-twiml-redirect':
        return twimlRedirect(w);
      case 'connect-call-to':
        note('the call was connected (connect-call-to) and completed', w);
        context.widgets[w.name] = { DialCallStatus: 'completed' };
        return 'callCompleted';
      default: {
        const handOff = HAND_OFFS[w.type];
        if (handOff) {
          note(`${handOff} (${w.type}): the simulated execution ends here`, w);
          handedOff = true;
          return undefined;
        }
        throw new FlowError(`${w.name}: widget type "${w.type}" is not supported by the local runner (supported: ${SUPPORTED_WIDGETS.join(', ')}); nothing after it was run`);
      }
    }
  }

  let current: Widget | undefined = widgets.get(flow.initial_state);
  let endedAt: string | undefined;
  try {
    for (let n = 0; current; n++) {
      options.signal?.throwIfAborted();
      if (n >= (options.maxSteps ?? 1000)) throw new FlowError(`the execution ran ${n} widgets without ending: check the flow for a loop without an exit (last: ${current.name})`);
      endedAt = current.name;
      const event = await step(current);
      if (event === undefined) {
        steps.push({ widget: current.name, type: current.type, event: callEnded ? 'hangup' : 'handed-off' });
        break;
      }
      const next = event.startsWith('match:') ? current.transitions[Number(event.slice(6))]?.next : nextOf(current, event);
      steps.push({ widget: current.name, type: current.type, event: event.startsWith('match:') ? 'match' : event });
      if (next && !widgets.has(next)) throw new FlowError(`${current.name}: transition "${event}" leads to "${next}", which is not a widget of the flow`);
      current = next ? widgets.get(next) : undefined;
    }
  } catch (error) {
    if (!(error instanceof FlowError)) throw error;
    return { executionSid, outcome: 'failed', ...(endedAt ? { endedAt } : {}), stored, steps, error: error.message, variables };
  }
  const outcome: Outcome = failure ? 'failed' : handedOff ? 'handed-off' : 'completed';
  return {
    executionSid,
    outcome,
    ...(endedAt ? { endedAt } : {}),
    stored,
    steps,
    variables,
    ...(failure ? { error: failure } : {}),
    ...(lastAnswerToPublishMs === undefined ? {} : { lastAnswerToPublishMs }),
  };
}
