import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { startFunctions, type RunningFunctions } from '../../src/dev/functions-server.js';
import { signForm } from '../../src/twilio/signature.js';

/** A marker planted in every plaintext the tests send; it must never reach a log. */
export const SENTINEL = `SENTINEL${randomUUID().replaceAll('-', '')}`;

export const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
export const AUTH_TOKEN = randomBytes(16).toString('hex');

export async function startTestFunctions(env: Record<string, string>): Promise<RunningFunctions> {
  return startFunctions({ env: { ACCOUNT_SID, AUTH_TOKEN, ...env } });
}

export interface PostOptions {
  /** Token to sign with; null sends no signature. Defaults to the server's token. */
  readonly signWith?: string | null;
  /** URL to sign instead of the one requested (to test pitfalls and forgeries). */
  readonly signUrl?: string;
  readonly host?: string;
}

export async function signedPost(
  server: RunningFunctions,
  path: string,
  params: Record<string, string | string[]>,
  options: PostOptions = {},
): Promise<{ status: number; body: any; text: string }> {
  const url = `${server.url}${path}`;
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const token = options.signWith === undefined ? AUTH_TOKEN : options.signWith;
  if (token !== null) headers['x-twilio-signature'] = signForm(token, options.signUrl ?? url, params);
  if (options.host) headers.host = options.host;
  // node:http rather than fetch: fetch may not set the Host header.
  const { status, text } = await new Promise<{ status: number; text: string }>((ok, fail) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, text: data }));
    });
    req.on('error', fail);
    req.end(form.toString());
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, body, text };
}
