// TWILIO_API_URL, the development override that sends Twilio API calls to a
// local stand-in (src/twilio/client.ts explains the layout). A leaf module, so
// a Function can read the override without bundling the CLI's clients.

import { ConfigError } from '../functions/config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const API_URL_VARIABLE = 'TWILIO_API_URL';

/** TWILIO_API_URL without its trailing slashes, or undefined when unset; a ConfigError when it is not a plain http(s) URL. */
export function apiUrlOverride(env: Env = process.env): string | undefined {
  const value = env[API_URL_VARIABLE];
  if (value === undefined || value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`${API_URL_VARIABLE} must be an http(s) URL without credentials, query or fragment (e.g. http://127.0.0.1:4010), or unset to reach Twilio`, API_URL_VARIABLE);
  }
  return value.replace(/\/+$/, '');
}
