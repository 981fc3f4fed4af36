// The request guard every PII Function shares (src/functions/runtime.ts), under
// the real twilio-run server: the built encrypt and publish Functions, plus a
// probe Function built from the same runtime so a 200 and thrown
// configuration errors can be checked without depending on either core.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, SERVICE_DIR, startFunctions, type RunningFunctions } from '../src/dev/functions-server.js';
import { newSealedKeyPair } from '../src/keys/keys.js';
import { signForm } from '../src/twilio/signature.js';
import { ACCOUNT_SID, AUTH_TOKEN, SENTINEL } from './helpers/functions.js';

/** Planted in configuration error messages: answered to the caller, never logged. */
const MESSAGE_MARK = `MSG${SENTINEL.slice(8, 20)}`;
const TWILIO_DOMAIN = 'sealed-survey-1234-dev.twil.io';

const PROBE = `
import { ConfigError } from '../src/functions/config-error.js';
import { protectedFunction } from '../src/functions/runtime.js';
export const handler = protectedFunction('probe', (env, params) => {
  if (params.fail === 'config') throw new ConfigError('SYNC_SERVICE_SID is not a Sync service SID (IS…): copy it from the Console ${MESSAGE_MARK}', 'SYNC_SERVICE_SID');
  if (params.fail === 'property') throw Object.assign(new Error('the key is not valid ${MESSAGE_MARK}'), { configVariable: 'SURVEY_PUBLIC_KEY' });
  if (params.fail === 'plain') throw new Error('boom ${MESSAGE_MARK}');
  return { status: 200, body: { names: Object.keys(params).sort(), values: Object.values(params) } };
});
`;

let serviceDir: string;
let local: RunningFunctions;
let onTwilio: RunningFunctions;
let noAuthToken: RunningFunctions;
const env = { ACCOUNT_SID, AUTH_TOKEN, SURVEY_PUBLIC_KEY: newSealedKeyPair().publicKeyText };

beforeAll(async () => {
  // Inside the project, so twilio-run finds @twilio/runtime-handler as it does for build/.
  mkdirSync(join(PROJECT_ROOT, 'node_modules', '.cache'), { recursive: true });
  serviceDir = mkdtempSync(join(PROJECT_ROOT, 'node_modules', '.cache', 'sealed-survey-guard-'));
  cpSync(SERVICE_DIR, serviceDir, { recursive: true });
  await build({
    stdin: { contents: PROBE, loader: 'ts', resolveDir: join(PROJECT_ROOT, 'functions'), sourcefile: 'probe.protected.ts' },
    outfile: join(serviceDir, 'functions', 'probe.protected.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'warning',
  });
  [local, onTwilio, noAuthToken] = await Promise.all([
    startFunctions({ serviceDir, env }),
    // Deployed, DOMAIN_NAME is the service's host; a .env value overrides twilio-run's localhost:<port>.
    startFunctions({ serviceDir, env: { ...env, DOMAIN_NAME: TWILIO_DOMAIN } }),
    startFunctions({ serviceDir, env: { ACCOUNT_SID, SURVEY_PUBLIC_KEY: env.SURVEY_PUBLIC_KEY } }),
  ]);
});

afterAll(async () => {
  const servers = [local, onTwilio, noAuthToken].filter((s) => s !== undefined);
  const output = servers.map((s) => s.output()).join('\n');
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(serviceDir, { recursive: true, force: true });
  expect(output).not.toContain(SENTINEL);
  expect(output).not.toContain(MESSAGE_MARK);
  expect(output).not.toContain(AUTH_TOKEN);
});

interface Sent {
  readonly query?: string;
  readonly contentType?: string;
  readonly signature?: string;
  readonly host?: string;
  readonly body: string;
}

/** One POST exactly as given: the raw body, the raw query and the headers, nothing re-encoded. */
function post(server: RunningFunctions, path: string, sent: Sent): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { 'content-type': sent.contentType ?? 'application/x-www-form-urlencoded' };
  if (sent.signature !== undefined) headers['x-twilio-signature'] = sent.signature;
  if (sent.host !== undefined) headers.host = sent.host;
  return new Promise((ok, fail) => {
    const req = request(`${server.url}${path}${sent.query ?? ''}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        ok({ status: res.statusCode ?? 0, body, text });
      });
    });
    req.on('error', fail);
    req.end(sent.body);
  });
}

/** The server's stderr arrives on its own pipe, after or before the answer: wait for the line rather than for a time. */
async function logged(server: RunningFunctions, line: string): Promise<string> {
  while (!server.output().includes(line)) await new Promise((r) => setTimeout(r, 20));
  return server.output();
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const localUrl = (server: RunningFunctions, path: string) => `${server.url}${path}`;

describe('headers come only from the runtime\'s request, never from parameters', () => {
  const evil = 'https://evil.example/encrypt';
  const params = { full_name: SENTINEL };
  // A genuine signature (this account's auth token) that Twilio made for another site's URL.
  const evilSignature = () => signForm(AUTH_TOKEN, evil, params);

  it('a JSON body that brings its own request.headers (form type, another host, that host\'s signature) is refused', async () => {
    for (const server of [local, onTwilio]) {
      const body = JSON.stringify({ request: { headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'evil.example', 'x-twilio-signature': evilSignature() }, cookies: {} }, ...params });
      const res = await post(server, '/encrypt', { contentType: 'application/json', body });
      expect(res.status).toBe(403);
      expect(res.text).not.toMatch(/ss1\./);
    }
  });

  it('a qs-style query (request[headers][host]=…) cannot stand in for the request\'s headers', async () => {
    const query = `?${new URLSearchParams({ 'request[headers][host]': 'evil.example', 'request[headers][x-twilio-signature]': evilSignature(), 'request[headers][content-type]': 'application/x-www-form-urlencoded' })}`;
    for (const path of ['/encrypt', '/publish']) {
      const res = await post(local, path, { query, body: form(params) });
      expect(res.status, path).toBe(403);
      expect(res.text).not.toMatch(/ss1\./);
    }
  });

  it('refuses a parameter named request with 400 REQUEST_PARAMETER, even when signed', async () => {
    const signed = { request: 'x', a: 'b' };
    const res = await post(local, '/probe', { body: form(signed), signature: signForm(AUTH_TOKEN, localUrl(local, '/probe'), signed) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('REQUEST_PARAMETER');
    expect(res.body.error.message).toContain('rename the parameter');
    const json = await post(local, '/encrypt', { contentType: 'application/json', body: JSON.stringify({ request: 1, a: SENTINEL }) });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('REQUEST_PARAMETER');
  });

  it('refuses nested objects and lists of objects with 400 NOT_FORM_FIELD naming the parameter', async () => {
    const viaQuery = await post(local, '/encrypt', { query: '?answers[name]=x', body: form(params) });
    expect(viaQuery.status).toBe(400);
    expect(viaQuery.body.error.code).toBe('NOT_FORM_FIELD');
    expect(viaQuery.body.error.message).toContain('parameter "answers"');
    const forged = { headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const viaJson = await post(local, '/publish', { contentType: 'application/json', body: JSON.stringify({ request: forged, list: [{ a: SENTINEL }] }) });
    expect(viaJson.status).toBe(400);
    expect(viaJson.body.error.code).toBe('NOT_FORM_FIELD');
    expect(viaJson.text).not.toContain(SENTINEL);
  });

  it('still takes a repeated form key as a list of strings (the core decides about it)', async () => {
    const body = 'a=1&a=2';
    const res = await post(local, '/probe', { body, signature: signForm(AUTH_TOKEN, localUrl(local, '/probe'), { a: ['1', '2'] }) });
    expect(res.status).toBe(200);
    expect(res.body.values).toEqual([['1', '2']]);
  });
});

describe('the URL a signature must cover', () => {
  const params = { a: 'x' };
  const sign = (url: string) => signForm(AUTH_TOKEN, url, params);

  it('on Twilio (DOMAIN_NAME set) accepts only https://DOMAIN_NAME/PATH, whatever the Host header says', async () => {
    const ok = await post(onTwilio, '/probe', { body: form(params), signature: sign(`https://${TWILIO_DOMAIN}/probe`) });
    expect(ok.status).toBe(200);
    expect(ok.body.names).toEqual(['a']);
    const refused = [
      { signature: sign(localUrl(onTwilio, '/probe')) },
      { signature: sign(`http://${TWILIO_DOMAIN}/probe`) },
      { signature: sign(`https://${TWILIO_DOMAIN}/encrypt`) },
      { signature: sign('https://evil.example/probe'), host: 'evil.example' },
      { signature: sign(`http://127.0.0.1:${onTwilio.port}/probe`), host: `127.0.0.1:${onTwilio.port}` },
    ];
    for (const sent of refused) {
      const res = await post(onTwilio, '/probe', { body: form(params), ...sent });
      expect(res.status, JSON.stringify(sent.host)).toBe(403);
      expect(res.body.error.code).toBe('SIGNATURE_INVALID');
    }
  });

  it('locally trusts the Host header only when it names this machine', async () => {
    const alias = `127.0.0.1:${local.port}`;
    expect((await post(local, '/probe', { body: form(params), host: alias, signature: sign(`http://${alias}/probe`) })).status).toBe(200);
    expect((await post(local, '/probe', { body: form(params), signature: sign(`https://localhost:${local.port}/probe`) })).status).toBe(200);
    const elsewhere = await post(local, '/probe', { body: form(params), host: 'evil.example', signature: sign('http://evil.example/probe') });
    expect(elsewhere.status).toBe(403);
  });

  it('answers 403, not 500, when the Host header is malformed, signed or not', async () => {
    for (const host of ['[', 'bad host', 'a:99999', 'localhost:99999999']) {
      for (const signature of [undefined, sign(`http://${host}/encrypt`)]) {
        const res = await post(local, '/encrypt', { body: form(params), host, ...(signature ? { signature } : {}) });
        expect(res.status, `${host} ${signature ? 'signed' : 'unsigned'}`).toBe(403);
        expect(res.body.error.code).toBe('SIGNATURE_INVALID');
      }
    }
  });
});

describe('percent-encoded bytes that are not UTF-8', () => {
  // What the runtime's body parser hands the Function for %C3%28 (an invalid two-byte sequence).
  const decoded = '\uFFFD(';

  it('are refused with 400 NOT_UTF8 naming the parameter, not sealed, with the signature checked over what was signed', async () => {
    const res = await post(local, '/encrypt', {
      body: `full_name=%C3%28&city=Nairobi`,
      signature: signForm(AUTH_TOKEN, localUrl(local, '/encrypt'), { full_name: decoded, city: 'Nairobi' }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('NOT_UTF8');
    expect(res.body.error.message).toContain('parameter "full_name"');
    expect(res.text).not.toMatch(/ss1\./);
    const inName = await post(local, '/probe', { body: 'ok=1&na%FFme=x', signature: signForm(AUTH_TOKEN, localUrl(local, '/probe'), { ok: '1', 'na\uFFFDme': 'x' }) });
    expect(inName.status).toBe(400);
    expect(inName.body.error.message).toContain('the name of parameter 2');
  });

  it('get 403 like any request when unsigned', async () => {
    const res = await post(local, '/encrypt', { body: 'full_name=%C3%28' });
    expect(res.status).toBe(403);
  });

  it('leave valid UTF-8 alone', async () => {
    const value = 'Zoë 👩🏽\u200d🌾 \uFEFFmark';
    const res = await post(local, '/probe', { body: form({ v: value }), signature: signForm(AUTH_TOKEN, localUrl(local, '/probe'), { v: value }) });
    expect(res.status).toBe(200);
    expect(res.body.values).toEqual([value]);
  });
});

describe('configuration errors', () => {
  const signed = (server: RunningFunctions, path: string, params: Record<string, string>) => post(server, path, { body: form(params), signature: signForm(AUTH_TOKEN, localUrl(server, path), params) });

  it('a ConfigError, or any Error with configVariable, is answered 500 CONFIG_INVALID with its message; the log names only the code and the variable', async () => {
    const before = local.output().length;
    const thrown = await signed(local, '/probe', { fail: 'config' });
    expect(thrown.status).toBe(500);
    expect(thrown.body.error).toEqual({ code: 'CONFIG_INVALID', message: expect.stringContaining('SYNC_SERVICE_SID is not a Sync service SID') });
    const property = await signed(local, '/probe', { fail: 'property' });
    expect(property.status).toBe(500);
    expect(property.body.error.code).toBe('CONFIG_INVALID');
    // A message that does not name its variable gets the name in front.
    expect(property.body.error.message).toMatch(/^SURVEY_PUBLIC_KEY: the key is not valid/);
    await logged(local, 'probe: CONFIG_INVALID SYNC_SERVICE_SID');
    const log = (await logged(local, 'probe: CONFIG_INVALID SURVEY_PUBLIC_KEY')).slice(before);
    expect(log).not.toContain('is not a Sync service SID');
  });

  it('any other error stays 500 INTERNAL, its message neither answered nor logged', async () => {
    const res = await signed(local, '/probe', { fail: 'plain' });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
    expect(res.text).not.toContain(MESSAGE_MARK);
  });

  it('a missing AUTH_TOKEN is CONFIG_INVALID naming AUTH_TOKEN and the fix, for encrypt and publish', async () => {
    for (const path of ['/encrypt', '/publish']) {
      const res = await post(noAuthToken, path, { body: form({ full_name: SENTINEL }), signature: 'anything' });
      expect(res.status, path).toBe(500);
      expect(res.body.error.code).toBe('CONFIG_INVALID');
      expect(res.body.error.message).toContain('AUTH_TOKEN');
      expect(res.body.error.message).toContain('Add my Twilio Credentials');
    }
    await logged(noAuthToken, 'encrypt: CONFIG_INVALID AUTH_TOKEN');
    await logged(noAuthToken, 'publish: CONFIG_INVALID AUTH_TOKEN');
  });
});
