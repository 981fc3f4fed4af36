// The breaker Function's environment, checked before it acts: a missing or
// malformed variable is a ConfigError naming it (500 CONFIG_INVALID), never a
// silent half-trip. Values are never quoted in messages.

import { z } from 'zod';
import { ConfigError } from '../functions/config-error.js';
import { apiUrlOverride, type Env } from '../twilio/api-url.js';
import { senderNumber } from '../deploy/webhook.js';

export type Notify = { readonly kind: 'message'; readonly to: string; readonly from: string } | { readonly kind: 'webhook'; readonly url: string };

export interface BreakerConfig {
  readonly accountSid: string;
  readonly authToken: string;
  /** The survey's sender, E.164: held by the breaker at 100 % in a main account. */
  readonly sender: string;
  readonly notify: readonly Notify[];
  /** Flow SIDs or friendly names whose executions are ended; every flow of the account when undefined. */
  readonly flows: readonly string[] | undefined;
  /** An API key of the parent account: what suspends a subaccount (Twilio accepts only the parent's credentials for that). */
  readonly parent: { readonly keySid: string; readonly secret: string } | undefined;
  /** TWILIO_API_URL (development and tests only). */
  readonly apiUrl: string | undefined;
  /** This Function's own URL: where a held sender's incoming messages go. */
  readonly selfUrl: string;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;
const ADDRESS = /^(whatsapp:)?\+[1-9]\d{6,14}$/;

const fail = (variable: string, message: string): never => {
  throw new ConfigError(`${variable} ${message}`, variable);
};

const present = (env: Env, name: string) => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

const NotifyUrl = z.string().url().refine((u) => {
  const url = new URL(u);
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.host));
});

export function breakerConfig(env: Env): BreakerConfig {
  const accountSid = present(env, 'ACCOUNT_SID') ?? fail('ACCOUNT_SID', 'is not set: enable "Add my Twilio Credentials" for the service, or set it in .env locally');
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) fail('ACCOUNT_SID', 'is not an Account SID (AC followed by 32 hex digits)');
  const authToken = present(env, 'AUTH_TOKEN') ?? fail('AUTH_TOKEN', 'is not set: enable "Add my Twilio Credentials" for the service, or set it in .env locally');

  const senderText = present(env, 'BREAKER_SENDER') ?? fail('BREAKER_SENDER', 'is not set: set it in .env.<env> to the survey\'s sender (whatsapp:+… or +…, as given to deploy --number) and deploy again');
  const sender = senderNumber(senderText) ?? fail('BREAKER_SENDER', 'is not a sender in E.164 form: whatsapp:+2547… or +2547…');

  const notify: Notify[] = [];
  const to = present(env, 'BREAKER_NOTIFY_TO');
  if (to !== undefined) {
    if (!ADDRESS.test(to)) fail('BREAKER_NOTIFY_TO', 'is not a number in E.164 form (+2547…, or whatsapp:+2547…)');
    const fromText = present(env, 'BREAKER_NOTIFY_FROM');
    const from = fromText === undefined ? sender : (senderNumber(fromText) ?? fail('BREAKER_NOTIFY_FROM', 'is not a number in E.164 form (+…)'));
    notify.push({ kind: 'message', to, from: to.startsWith('whatsapp:') ? `whatsapp:${from}` : from });
  }
  const url = present(env, 'BREAKER_NOTIFY_URL');
  if (url !== undefined) {
    if (!NotifyUrl.safeParse(url).success) fail('BREAKER_NOTIFY_URL', 'must be an https URL (http only for this machine, in tests)');
    notify.push({ kind: 'webhook', url });
  }
  if (notify.length === 0) fail('BREAKER_NOTIFY_TO', 'and BREAKER_NOTIFY_URL are both unset: Twilio alerts no one when the breaker trips, so set one of them (an operator\'s number for an SMS, or a webhook URL) in .env.<env> and deploy again');

  const flowsText = present(env, 'BREAKER_FLOWS');
  const flows = flowsText === undefined ? undefined : flowsText.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (flows !== undefined && flows.length === 0) fail('BREAKER_FLOWS', 'names no flow: list flow SIDs (FW…) or names separated by commas, or remove it to stop every flow');

  const keySid = present(env, 'BREAKER_PARENT_API_KEY');
  const secret = present(env, 'BREAKER_PARENT_API_SECRET');
  if (keySid !== undefined && !/^SK[0-9a-fA-F]{32}$/.test(keySid)) fail('BREAKER_PARENT_API_KEY', 'is not an API key SID (SK followed by 32 hex digits) of the parent account');
  if ((keySid === undefined) !== (secret === undefined)) fail(keySid === undefined ? 'BREAKER_PARENT_API_KEY' : 'BREAKER_PARENT_API_SECRET', 'is not set, but its pair is: set both (an API key of the parent account and its secret) or neither');

  const domain = present(env, 'DOMAIN_NAME') ?? fail('DOMAIN_NAME', 'is not set: the Functions runtime sets it; locally twilio-run does');
  const selfUrl = `${LOOPBACK.test(domain) ? 'http' : 'https'}://${domain}${env.PATH ?? '/breaker'}`;

  return {
    accountSid,
    authToken,
    sender,
    notify,
    flows,
    parent: keySid !== undefined && secret !== undefined ? { keySid, secret } : undefined,
    apiUrl: apiUrlOverride(env),
    selfUrl,
  };
}
