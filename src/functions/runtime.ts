// The boundary between Twilio's Functions runtime and our core: request
// checks every PII-handling Function shares (form encoding, flat UTF-8
// parameters, signature), configuration errors, and JSON answers. Handlers in
// functions/ are one line on top of this.

/// <reference types="@twilio-labs/serverless-runtime-types" />
import type { ServerlessCallback, TwilioResponse } from '@twilio-labs/serverless-runtime-types/types.js';
import { isValidTwilioSignature, type FormParams } from '../twilio/signature.js';
import { ConfigError, configVariableOf } from './config-error.js';

export { ConfigError } from './config-error.js';

export interface HttpResult {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  /** Answered instead of the JSON body, as text/xml: TwiML for a webhook Twilio calls. */
  readonly twiml?: string;
}

/** The Function's environment: every context value that is a string. */
export type Env = Readonly<Record<string, string | undefined>>;
/** Request parameters, the runtime's `request` object removed; after the guard each is a string, or a list of strings when a form key repeats. Values are untrusted. */
export type Params = Readonly<Record<string, unknown>>;
export type Core = (env: Env, params: Params) => HttpResult | Promise<HttpResult>;

export function errorResult(status: number, code: string, message: string): HttpResult {
  return { status, body: { error: { code, message } } };
}

type Headers = Readonly<Record<string, string | readonly string[]>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function envOf(context: Readonly<Record<string, unknown>>): Env {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) if (typeof v === 'string') env[k] = v;
  return env;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFormValue = (v: unknown): v is string | string[] => typeof v === 'string' || (Array.isArray(v) && v.every((e) => typeof e === 'string'));

/**
 * The headers of the runtime's own `event.request`. The runtime spreads the
 * parameters over that object, so a parameter named `request` replaces it:
 * anything not shaped like the runtime's (headers of strings) is such a
 * parameter. One that copies the shape cannot be told apart here, which is why
 * nothing read from these headers can widen what a signature is checked
 * against (see candidateUrls).
 */
function runtimeHeaders(request: unknown): Headers | undefined {
  if (!isObject(request) || !isObject(request.headers)) return undefined;
  return Object.values(request.headers).every(isFormValue) ? (request.headers as Headers) : undefined;
}

/** localhost, 127.x.y.z or [::1], with an optional port: this machine, never a host Twilio calls. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

/**
 * The URLs Twilio may have signed. On Twilio (and behind twilio-run --ngrok)
 * DOMAIN_NAME and PATH name the Function exactly and the scheme is https: that
 * URL alone. Locally twilio-run sets DOMAIN_NAME to localhost:<port> and serves
 * http; there the Host header is also tried, only when it names this machine
 * (127.0.0.1 for localhost), so a Host copied from another site's signed
 * request never makes its signature valid here. Behind another tunnel, set
 * DOMAIN_NAME in .env to the public host name.
 */
export function candidateUrls(env: Env, headers: Headers): string[] {
  const path = env.PATH ?? '/';
  const domain = env.DOMAIN_NAME?.trim();
  if (domain && !LOOPBACK_HOST.test(domain)) return [`https://${domain}${path}`];
  const hosts = new Set<string>();
  if (domain) hosts.add(domain);
  const host = header(headers, 'host');
  if (host && LOOPBACK_HOST.test(host)) hosts.add(host);
  return [...hosts].flatMap((h) => [`http://${h}${path}`, `https://${h}${path}`]);
}

/** Parameter names are echoed only when they are identifiers (a name could be anything a caller sent). */
function nameOf(name: string, index: number): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? `parameter "${name}"` : `parameter ${index + 1}`;
}

/**
 * Invalid UTF-8 reaches a Function already decoded: the runtime's body parser
 * puts U+FFFD for bytes that are not UTF-8 and keeps no raw body to check
 * against, so any U+FFFD is refused (a genuine one is not told apart). Lone
 * surrogates (possible in JSON, never in UTF-8) are refused alike.
 */
const NOT_UTF8 = /[\uFFFD\uD800-\uDFFF]/u;

function firstNotUtf8(params: Readonly<Record<string, string | string[]>>): string | undefined {
  for (const [index, [name, value]] of Object.entries(params).entries()) {
    if (NOT_UTF8.test(name)) return `the name of parameter ${index + 1}`;
    if ((Array.isArray(value) ? value : [value]).some((v) => NOT_UTF8.test(v))) return nameOf(name, index);
  }
  return undefined;
}

export type Checked = { readonly ok: true; readonly env: Env; readonly params: Params } | { readonly ok: false; readonly result: HttpResult };

export interface GuardOptions {
  /**
   * Parameters that arrive in the URL's query string, which Twilio signs as
   * part of the URL (a TwiML Redirect or <Gather> action URL). The runtime
   * merges them with the body, query first and in URL order; the guard puts
   * them back into the URL it checks. Their values must be unreserved URL
   * characters, so the URL is the same whatever encoder wrote it.
   */
  readonly query?: readonly string[];
}

/** Unreserved URL characters (RFC 3986) but "~": written as-is by every encoder. */
const QUERY_VALUE = /^[A-Za-z0-9._-]*$/;

/** The query string Twilio signed, and the parameters that came in the body; a refusal when a query value cannot be told apart from its encoding. */
function splitQuery(params: Readonly<Record<string, string | string[]>>, names: readonly string[]): { query: string; body: Record<string, string | string[]> } | Checked {
  const parts: string[] = [];
  const body: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!names.includes(name)) {
      body[name] = value;
      continue;
    }
    if (typeof value !== 'string' || !QUERY_VALUE.test(value)) {
      return refuse(400, 'BAD_QUERY_PARAMETER', `parameter "${name}" of the URL must be one value of letters, digits, ".", "_" or "-": check the URL of the widget that calls this Function`);
    }
    parts.push(`${name}=${value}`);
  }
  return { query: parts.join('&'), body };
}

const refuse = (status: number, code: string, message: string): Checked => ({ ok: false, result: errorResult(status, code, message) });

/**
 * A form-encoded POST of flat parameters with a valid X-Twilio-Signature and
 * valid UTF-8; anything else is refused. Throws ConfigError without AUTH_TOKEN.
 */
export function checkSignedFormRequest(context: Readonly<Record<string, unknown>>, event: Readonly<Record<string, unknown>>, options: GuardOptions = {}): Checked {
  const env = envOf(context);
  const { request, ...params } = event;
  const headers = runtimeHeaders(request);
  if (!headers) {
    return refuse(400, 'REQUEST_PARAMETER', 'a parameter named "request" was sent, and the Functions runtime passes the request\'s own headers under that name: rename the parameter in the Run Function widget');
  }
  if (!/^application\/x-www-form-urlencoded\b/i.test(header(headers, 'content-type') ?? '')) {
    return refuse(415, 'FORM_ENCODING_REQUIRED', 'send the parameters form-encoded in a POST body, as Studio\'s Run Function widget does (values in a URL end up in access logs)');
  }
  const entries = Object.entries(params);
  const nested = entries.findIndex(([, value]) => !isFormValue(value));
  if (nested >= 0) {
    const [name] = entries[nested] as [string, unknown];
    return refuse(400, 'NOT_FORM_FIELD', `${nameOf(name, nested)} is a nested object or list (a name like a[b] in the URL, or a JSON body, makes one): send flat form fields, as Studio's Run Function widget does`);
  }
  const form = params as Record<string, string | string[]>;
  if (!env.AUTH_TOKEN) {
    throw new ConfigError('AUTH_TOKEN is not set, so request signatures cannot be checked: enable "Add my Twilio Credentials" for the service, or set AUTH_TOKEN in the .env file locally', 'AUTH_TOKEN');
  }
  const split = splitQuery(form, options.query ?? []);
  if ('ok' in split) return split;
  const urls = candidateUrls(env, headers).map((url) => (split.query ? `${url}?${split.query}` : url));
  const signed = isValidTwilioSignature(env.AUTH_TOKEN, header(headers, 'x-twilio-signature'), { kind: 'form', urls, params: split.body as FormParams });
  if (!signed) {
    return refuse(403, 'SIGNATURE_INVALID', 'missing or invalid X-Twilio-Signature: only Twilio, signing with this account\'s auth token, may call this Function');
  }
  const badUtf8 = firstNotUtf8(form);
  if (badUtf8) {
    return refuse(400, 'NOT_UTF8', `${badUtf8} is not valid UTF-8 (it holds U+FFFD, which a decoder puts where bytes are not UTF-8): send the text UTF-8 encoded; nothing was accepted`);
  }
  return { ok: true, env, params };
}

function respond(callback: ServerlessCallback, result: HttpResult): void {
  const response: TwilioResponse = new Twilio.Response();
  response.setStatusCode(result.status);
  response.appendHeader('Content-Type', result.twiml === undefined ? 'application/json' : 'text/xml; charset=utf-8');
  response.setBody(result.twiml ?? result.body);
  callback(null, response);
}

/** What a log line may say about a variable: its name, when it looks like one. */
const loggable = (variable: string) => (/^[\w./-]{1,100}$/.test(variable) ? variable : '(unnamed)');

/**
 * Wraps a core function as a Twilio Function handler that enforces the
 * signature everywhere (twilio-run does not check `.protected` locally),
 * answers configuration errors as 500 CONFIG_INVALID, and never hands an
 * Error to the runtime, which would print it.
 */
export function protectedFunction(name: string, core: Core, options: GuardOptions = {}) {
  return async (context: Readonly<Record<string, unknown>>, event: Readonly<Record<string, unknown>>, callback: ServerlessCallback): Promise<void> => {
    try {
      const checked = checkSignedFormRequest(context, event, options);
      respond(callback, checked.ok ? await core(checked.env, checked.params) : checked.result);
    } catch (error) {
      const variable = configVariableOf(error);
      if (variable !== undefined) {
        // The code and the variable only: a message could still quote more than it should.
        console.error(`${name}: CONFIG_INVALID ${loggable(variable)}`);
        const message = (error as Error).message;
        respond(callback, errorResult(500, 'CONFIG_INVALID', message.includes(variable) ? message : `${variable}: ${message}`));
        return;
      }
      // The name only: a message could quote configuration or input.
      console.error(`${name}: internal error (${error instanceof Error ? error.name : typeof error})`);
      respond(callback, errorResult(500, 'INTERNAL', `${name} failed unexpectedly; nothing was stored. Check the Function's configuration`));
    }
  };
}
