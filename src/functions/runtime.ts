// The boundary between Twilio's Functions runtime and our core: request
// checks every PII-handling Function shares (form encoding, signature), and
// JSON answers. Handlers in functions/ are one line on top of this.

/// <reference types="@twilio-labs/serverless-runtime-types" />
import type { ServerlessCallback, TwilioResponse } from '@twilio-labs/serverless-runtime-types/types.js';
import { isValidTwilioSignature, type FormParams } from '../twilio/signature.js';

export interface HttpResult {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The Function's environment: every context value that is a string. */
export type Env = Readonly<Record<string, string | undefined>>;
/** Request parameters, the runtime's `request` object removed. Values are untrusted. */
export type Params = Readonly<Record<string, unknown>>;
export type Core = (env: Env, params: Params) => HttpResult | Promise<HttpResult>;

export function errorResult(status: number, code: string, message: string): HttpResult {
  return { status, body: { error: { code, message } } };
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function envOf(context: Readonly<Record<string, unknown>>): Env {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) if (typeof v === 'string') env[k] = v;
  return env;
}

/**
 * The URLs Twilio may have signed. On Twilio, DOMAIN_NAME and PATH name the
 * Function exactly and the scheme is https; locally twilio-run serves http.
 * Trying both schemes and the Host header costs a few HMACs and cannot make a
 * forged signature pass: every candidate still needs the auth token.
 */
export function candidateUrls(env: Env, headers: Headers): string[] {
  const path = env.PATH ?? '/';
  const hosts = new Set<string>();
  if (env.DOMAIN_NAME) hosts.add(env.DOMAIN_NAME);
  const host = header(headers, 'host');
  if (host) hosts.add(host);
  // Most likely first, so a genuine request costs one validation: https on Twilio, http locally.
  return [...hosts].flatMap((h) =>
    /^(localhost|127\.|\[::1\])/.test(h) ? [`http://${h}${path}`, `https://${h}${path}`] : [`https://${h}${path}`, `http://${h}${path}`],
  );
}

export type Checked = { readonly ok: true; readonly env: Env; readonly params: Params } | { readonly ok: false; readonly result: HttpResult };

/** Form-encoded POST, configured auth token, valid X-Twilio-Signature; anything else is refused. */
export function checkSignedFormRequest(context: Readonly<Record<string, unknown>>, event: Readonly<Record<string, unknown>>): Checked {
  const env = envOf(context);
  const { request, ...params } = event;
  const headers: Headers = (typeof request === 'object' && request !== null && (request as { headers?: Headers }).headers) || {};
  const contentType = header(headers, 'content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    return {
      ok: false,
      result: errorResult(415, 'FORM_ENCODING_REQUIRED', 'send the parameters form-encoded in a POST body, as Studio\'s Run Function widget does (values in a URL end up in access logs)'),
    };
  }
  if (!env.AUTH_TOKEN) {
    return {
      ok: false,
      result: errorResult(500, 'AUTH_TOKEN_MISSING', 'AUTH_TOKEN is not set, so request signatures cannot be checked: enable "Add my Twilio Credentials" for the service, or set AUTH_TOKEN in the .env file locally'),
    };
  }
  const signed = isValidTwilioSignature(env.AUTH_TOKEN, header(headers, 'x-twilio-signature'), {
    kind: 'form',
    urls: candidateUrls(env, headers),
    params: params as FormParams,
  });
  if (!signed) {
    return { ok: false, result: errorResult(403, 'SIGNATURE_INVALID', 'missing or invalid X-Twilio-Signature: only Twilio, signing with this account\'s auth token, may call this Function') };
  }
  return { ok: true, env, params };
}

function respond(callback: ServerlessCallback, result: HttpResult): void {
  const response: TwilioResponse = new Twilio.Response();
  response.setStatusCode(result.status);
  response.appendHeader('Content-Type', 'application/json');
  response.setBody(result.body);
  callback(null, response);
}

/**
 * Wraps a core function as a Twilio Function handler that enforces the
 * signature everywhere (twilio-run does not check `.protected` locally) and
 * never hands an Error to the runtime, which would print it.
 */
export function protectedFunction(name: string, core: Core) {
  return async (context: Readonly<Record<string, unknown>>, event: Readonly<Record<string, unknown>>, callback: ServerlessCallback): Promise<void> => {
    try {
      const checked = checkSignedFormRequest(context, event);
      respond(callback, checked.ok ? await core(checked.env, checked.params) : checked.result);
    } catch (error) {
      // The name only: a message could quote configuration or input.
      console.error(`${name}: internal error (${error instanceof Error ? error.name : typeof error})`);
      respond(callback, errorResult(500, 'INTERNAL', `${name} failed unexpectedly; nothing was stored. Check the Function's configuration`));
    }
  };
}
