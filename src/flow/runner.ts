// A local Studio: runs one execution of a flow definition widget by widget,
// with Studio's Liquid context, calling the real local Functions signed as
// Twilio signs them. Unknown widget types stop the run with a clear error; a
// failed execution says why, naming widgets and error codes, never an answer.

import { randomBytes } from 'node:crypto';
import { Liquid } from 'liquidjs';
import { signForm } from '../twilio/signature.js';
import { allHold } from './conditions.js';
import { FlowError, keyValues, nextOf, urlPath, widgetsByName, type FlowDefinition, type Widget } from './definition.js';

/** Replies that stand for what a respondent does other than typing. */
export const TIMEOUT = '<timeout>';
export const DELIVERY_FAILURE = '<delivery-failure>';

export interface Chat {
  /** A message the flow sends to the respondent. */
  send(body: string, widget: string): void;
  /** The respondent's answer to `widget`'s question, or TIMEOUT / DELIVERY_FAILURE. */
  reply(widget: Widget, question: string): Promise<string>;
}

export type Trigger =
  | { readonly kind: 'message'; readonly from: string; readonly body: string }
  | { readonly kind: 'rest'; readonly to: string; readonly data: Readonly<Record<string, unknown>> };

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
}

export interface Step {
  readonly widget: string;
  readonly type: string;
  readonly event: string;
}

export type Outcome = 'completed' | 'ended' | 'failed';

export interface ExecutionResult {
  readonly executionSid: string;
  /** completed: publish stored the response; ended: the flow ended before it (consent, time-out, …); failed: a Function failed or the runner stopped. */
  readonly outcome: Outcome;
  readonly steps: readonly Step[];
  /** Why it failed: the first Function's error (status, code, message), a time-out, an unsupported widget, … */
  readonly error?: string;
  /** From the respondent's last answer to publish's answer, in ms. */
  readonly lastAnswerToPublishMs?: number;
}

const liquid = new Liquid({ cache: true });
/** Studio's limit for a Run Function call or an HTTP request. */
const STUDIO_TIMEOUT_MS = 10_000;
export const SUPPORTED_WIDGETS = ['trigger', 'send-message', 'send-and-wait-for-reply', 'split-based-on', 'set-variables', 'run-function', 'make-http-request'] as const;

export const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A failed Function's answer in one line: status, and the code and message of
 * its JSON error (our Functions' messages name parameters, never values).
 */
function functionFailure(where: string, status: number, parsed: unknown): string {
  const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
  const code = typeof error?.code === 'string' ? ` ${error.code.slice(0, 64)}` : '';
  const message = typeof error?.message === 'string' ? `: ${error.message.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300)}` : ' (no JSON error in the answer)';
  return `${where} answered HTTP ${status}${code}${message}`;
}

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

/** The JSON answer of a Run Function or HTTP request widget, as Studio exposes it. */
async function widgetResponse(res: Response): Promise<Record<string, unknown>> {
  const body = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let parsed: unknown;
  if (/json/i.test(contentType)) {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  return { status_code: res.status, content_type: contentType, body, ...(parsed === undefined ? {} : { parsed }) };
}

export async function runExecution(options: ExecutionOptions): Promise<ExecutionResult> {
  const { flow, chat } = options;
  const widgets = widgetsByName(flow);
  const executionSid = options.executionSid ?? newSid('FN');
  const contactAddress = options.trigger.kind === 'message' ? options.trigger.from : options.trigger.to;
  const context = {
    flow: {
      sid: executionSid,
      flow_sid: options.flowSid ?? `FW${'0'.repeat(32)}`,
      channel: { address: options.flowAddress },
      data: options.trigger.kind === 'rest' ? options.trigger.data : {},
      variables: {} as Record<string, string>,
    },
    contact: { channel: { address: contactAddress } },
    trigger:
      options.trigger.kind === 'message'
        ? { message: { Body: options.trigger.body, From: options.trigger.from, To: options.flowAddress, MessageSid: newSid('SM'), ChannelAddress: options.trigger.from } }
        : { request: { from: options.flowAddress, to: options.trigger.to, parameters: options.trigger.data } },
    widgets: {} as Record<string, unknown>,
  };
  const steps: Step[] = [];
  let lastAnswerAt: number | undefined;
  let lastAnswerToPublishMs: number | undefined;
  let failure: string | undefined;
  let published = false;

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

  /** The body, or for a WhatsApp content template (the only first message WhatsApp allows) its SID. */
  const messageText = (w: Widget): string => {
    const body = prop(w, 'body');
    const template = typeof w.properties.content_sid === 'string' ? prop(w, 'content_sid') : '';
    return body || (template ? `[WhatsApp template ${template}]` : '');
  };

  async function callFunction(w: Widget): Promise<string> {
    const url = typeof w.properties.url === 'string' ? w.properties.url : '';
    if (!url) throw new FlowError(`${w.name}: the Run Function widget has no url`);
    const path = urlPath(url);
    const target = `${options.functionsUrl.replace(/\/+$/, '')}${path}`;
    const params: Record<string, string> = {};
    for (const { key, value } of keyValues(w.properties.parameters)) params[key] = render(value, `${w.name} → parameters.${key}`);
    const timeout = AbortSignal.timeout(STUDIO_TIMEOUT_MS);
    let res: Response;
    let answer: Record<string, unknown>;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signForm(options.authToken, target, params) },
        body: new URLSearchParams(params),
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      answer = await widgetResponse(res);
    } catch (error) {
      options.signal?.throwIfAborted();
      if (timeout.aborted) throw new FlowError(`${w.name} (${path}) did not answer within ${STUDIO_TIMEOUT_MS / 1000} s, Studio's limit for a Run Function call`);
      const cause = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new FlowError(`${w.name}: the Function at ${target} could not be reached (${typeof cause === 'string' ? cause : error instanceof Error ? error.name : 'error'}): are the local Functions running?`);
    }
    context.widgets[w.name] = answer;
    const ok = res.status >= 200 && res.status < 300;
    if (ok && path.endsWith('/publish')) {
      published = true;
      if (lastAnswerAt !== undefined) lastAnswerToPublishMs = performance.now() - lastAnswerAt;
    }
    if (!ok) failure ??= functionFailure(`${w.name} (${path})`, res.status, answer.parsed);
    return ok ? 'success' : 'fail';
  }

  async function httpRequest(w: Widget): Promise<string> {
    const method = (typeof w.properties.method === 'string' ? w.properties.method : 'GET').toUpperCase();
    const url = prop(w, 'url');
    const contentType = typeof w.properties.content_type === 'string' ? w.properties.content_type : 'application/x-www-form-urlencoded;charset=utf-8';
    const params = keyValues(w.properties.parameters).map(({ key, value }) => [key, render(value, `${w.name} → parameters.${key}`)] as [string, string]);
    const body = method === 'GET' ? undefined : /json/i.test(contentType) ? prop(w, 'body') : new URLSearchParams(params).toString();
    const timeout = AbortSignal.timeout(STUDIO_TIMEOUT_MS);
    try {
      const res = await fetch(url, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': contentType } }), signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      context.widgets[w.name] = await widgetResponse(res);
      return res.ok ? 'success' : 'failed';
    } catch {
      options.signal?.throwIfAborted();
      context.widgets[w.name] = { status_code: 0, body: '' };
      return 'failed';
    }
  }

  /** Runs one widget; returns the transition event it takes. */
  async function step(w: Widget): Promise<string> {
    switch (w.type) {
      case 'trigger':
        return options.trigger.kind === 'message' ? 'incomingMessage' : 'incomingRequest';
      case 'send-message':
        chat.send(messageText(w), w.name);
        return 'sent';
      case 'send-and-wait-for-reply': {
        const question = messageText(w);
        chat.send(question, w.name);
        const answer = await untilAborted(chat.reply(w, question), options.signal);
        if (answer === TIMEOUT) return 'timeout';
        if (answer === DELIVERY_FAILURE) return 'deliveryFailure';
        lastAnswerAt = performance.now();
        context.widgets[w.name] = { inbound: { Body: answer, From: contactAddress, To: options.flowAddress, MessageSid: newSid('SM') } };
        return 'incomingMessage';
      }
      case 'split-based-on': {
        const input = prop(w, 'input');
        for (const t of w.transitions) {
          if (t.event === 'noMatch' || !t.conditions) continue;
          if (allHold(t.conditions, (s) => render(s, `${w.name} → conditions`), input, w.name)) return `match:${w.transitions.indexOf(t)}`;
        }
        return 'noMatch';
      }
      case 'set-variables':
        for (const { key, value } of keyValues(w.properties.variables)) context.flow.variables[key] = render(value, `${w.name} → variables.${key}`);
        return 'next';
      case 'run-function':
        return callFunction(w);
      case 'make-http-request':
        return httpRequest(w);
      default:
        throw new FlowError(`${w.name}: widget type "${w.type}" is not supported by the local runner (supported: ${SUPPORTED_WIDGETS.join(', ')}); nothing after it was run`);
    }
  }

  let current: Widget | undefined = widgets.get(flow.initial_state);
  try {
    for (let n = 0; current; n++) {
      options.signal?.throwIfAborted();
      if (n >= (options.maxSteps ?? 1000)) throw new FlowError(`the execution ran ${n} widgets without ending: check the flow for a loop without an exit (last: ${current.name})`);
      const event = await step(current);
      let next: string | undefined;
      if (event.startsWith('match:')) next = current.transitions[Number(event.slice(6))]?.next;
      else next = nextOf(current, event);
      steps.push({ widget: current.name, type: current.type, event: event.startsWith('match:') ? 'match' : event });
      if (next && !widgets.has(next)) throw new FlowError(`${current.name}: transition "${event}" leads to "${next}", which is not a widget of the flow`);
      current = next ? widgets.get(next) : undefined;
    }
  } catch (error) {
    if (!(error instanceof FlowError)) throw error;
    return { executionSid, outcome: 'failed', steps, error: error.message };
  }
  const outcome: Outcome = failure ? 'failed' : published ? 'completed' : 'ended';
  return { executionSid, outcome, steps, ...(failure ? { error: failure } : {}), ...(lastAnswerToPublishMs === undefined ? {} : { lastAnswerToPublishMs }) };
}
