// What the two voice Functions share: the question a Studio TwiML Redirect
// asks them (in its URL's query string, which Twilio signs), the URLs they
// answer with, and TwiML written by hand with every interpolation escaped.
//
//   Studio "Add TwiML Redirect" → voice-gather  (answers <Gather action=voice-answer>)
//   caller keys or speaks       → voice-answer  (seals it, answers <Redirect> to Studio)
//   Studio's webhook ?FlowEvent=return&status=…&<field>=<token> → widgets.<redirect>.*

import { z } from 'zod';
import { FIELD_NAME } from '../envelope/index.js';
import { EXECUTION_SID } from '../publish/row.js';
import { isSid } from '../twilio/sid.js';
import { ConfigError } from './config-error.js';
import { errorResult, type Env, type HttpResult, type Params } from './runtime.js';

export const GATHER_PATH = '/voice-gather';
export const ANSWER_PATH = '/voice-answer';

/** The query parameters of both Functions, in the order the action URL carries them. */
export const VOICE_QUERY = [EXECUTION_SID, 'flow_sid', 'field', 'input', 'min_digits', 'max_digits', 'language'] as const;

/** What Studio hands back as widgets.<redirect>.status: never an answer. */
export const VOICE_STATUSES = ['answered', 'timeout', 'invalid'] as const;
export type VoiceStatus = (typeof VOICE_STATUSES)[number];

const digits = z.coerce.number().int().min(1).max(30);

const Question = z
  .object({
    [EXECUTION_SID]: z.string().refine((v) => isSid(v, 'FN'), 'is not an execution SID: set it to {{flow.sid}}'),
    flow_sid: z.string().regex(/^FW[0-9a-f]{32}$/, 'is not a Flow SID: set it to {{flow.flow_sid}}'),
    field: z.string().regex(FIELD_NAME, 'is not a field name (letters, digits and _, not starting with a digit)'),
    input: z.enum(['dtmf', 'speech', 'dtmf_speech']).default('dtmf'),
    min_digits: digits.default(1),
    max_digits: digits.default(30),
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'is not a language tag such as en-US').default('en-US'),
  })
  .refine((q) => q.min_digits <= q.max_digits, { message: 'is more than max_digits', path: ['min_digits'] });

export type Question = z.infer<typeof Question>;

/** The question from the URL's query; a 400 naming the parameter (never its value) when the widget's URL is wrong. */
export function readQuestion(params: Params): Question | HttpResult {
  const parsed = Question.safeParse(Object.fromEntries(VOICE_QUERY.filter((k) => params[k] !== undefined).map((k) => [k, params[k]])));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? 'the query');
  const why = params[name] === undefined ? 'is missing' : (issue?.message ?? 'is not valid');
  return errorResult(400, 'BAD_VOICE_QUESTION', `${name} ${why}: the TwiML Redirect URL is <service>${GATHER_PATH}?${EXECUTION_SID}={{flow.sid}}&flow_sid={{flow.flow_sid}}&field=<column>&input=dtmf|speech|dtmf_speech[&min_digits=&max_digits=&language=]`);
}

/** Where Twilio may reach this service: https on Twilio (a <Gather> under Voice PCI Mode needs it, error 13337), http only on this machine. */
export function serviceBase(env: Env): string {
  const domain = env.DOMAIN_NAME?.trim();
  if (!domain) throw new ConfigError('DOMAIN_NAME is not set: Twilio sets it to the service\'s domain; locally twilio-run does', 'DOMAIN_NAME');
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(domain)) throw new ConfigError('DOMAIN_NAME is not a host name', 'DOMAIN_NAME');
  const local = /^(localhost|127(\.\d{1,3}){3})(:\d{1,5})?$/i.test(domain);
  return `${local ? 'http' : 'https'}://${domain}`;
}

function accountSid(env: Env): string {
  const sid = env.ACCOUNT_SID?.trim() ?? '';
  if (!/^AC[0-9a-f]{32}$/.test(sid)) throw new ConfigError('ACCOUNT_SID is not set to the account\'s SID (Twilio sets it for every Function)', 'ACCOUNT_SID');
  return sid;
}

/** The query string carrying the question on, in VOICE_QUERY order (values are unreserved characters already). */
export function questionQuery(q: Question): string {
  return VOICE_QUERY.map((k) => `${k}=${String(q[k])}`).join('&');
}

/**
 * Studio's webhook with FlowEvent=return: the TwiML Redirect widget takes its
 * `return` transition and every other parameter becomes
 * widgets.<redirect widget>.<name>.
 */
export function studioReturnUrl(env: Env, q: Question, extra: Readonly<Record<string, string>>): string {
  const params = new URLSearchParams({ FlowEvent: 'return', ...extra });
  return `https://webhooks.twilio.com/v1/Accounts/${accountSid(env)}/Flows/${q.flow_sid}?${params.toString()}`;
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const xmlEscape = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);

/** A TwiML answer: the document, and a JSON body the tests and logs can ignore. */
export const twimlResult = (verbs: string): HttpResult => ({ status: 200, body: {}, twiml: `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs}</Response>` });

export const redirectVerb = (url: string) => `<Redirect method="POST">${xmlEscape(url)}</Redirect>`;
