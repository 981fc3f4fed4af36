// The encrypt Function through the real twilio-run server and the real runtime
// handler, with requests signed exactly as Twilio signs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFunctions } from '../src/dev/functions-server.js';
import { Opener } from '../src/envelope/index.js';
import { formatSharedKey, keyringOf, newSealedKeyPair, newSharedKey, parseSharedKey } from '../src/keys/keys.js';
import { respondentId } from '../src/pseudonym.js';
import { AUTH_TOKEN, SENTINEL, signedPost, startTestFunctions } from './helpers/functions.js';

const sealedKey = newSealedKeyPair();
const sharedKey = parseSharedKey(formatSharedKey(newSharedKey()));
const pseudonymKey = newSharedKey();
const servers: RunningFunctions[] = [];
let sealed: RunningFunctions;
let shared: RunningFunctions;
let misconfigured: RunningFunctions;

const answers = {
  respondent: `whatsapp:+254700${SENTINEL}`,
  full_name: `María ${SENTINEL} Ñúñez`,
  national_id: `ID ${SENTINEL}`,
  notes: `مرحبا ${SENTINEL} 👩🏽‍🌾\u0000`,
  empty: '',
  long: `${SENTINEL}${'x'.repeat(4096 - SENTINEL.length)}`,
};

beforeAll(async () => {
  [sealed, shared, misconfigured] = await Promise.all([
    startTestFunctions({ SURVEY_PUBLIC_KEY: sealedKey.publicKeyText, SURVEY_PSEUDONYM_KEY: formatSharedKey(pseudonymKey) }),
    startTestFunctions({ SURVEY_SECRET_KEY: formatSharedKey(sharedKey.key) }),
    startTestFunctions({ SURVEY_PUBLIC_KEY: sealedKey.publicKeyText, SURVEY_SECRET_KEY: formatSharedKey(sharedKey.key) }),
  ]);
  servers.push(sealed, shared, misconfigured);
});

afterAll(async () => {
  const output = servers.map((s) => s.output()).join('\n');
  await Promise.all(servers.map((s) => s.stop()));
  // Nothing the Functions printed may contain a planted plaintext, a key or the auth token.
  expect(output).not.toContain(SENTINEL);
  expect(output).not.toContain(AUTH_TOKEN);
  expect(output).not.toContain(formatSharedKey(sharedKey.key));
  expect(output).not.toContain(formatSharedKey(pseudonymKey));
});

describe('encrypt Function (sealed mode)', () => {
  it('answers 200 with one ss1 token per parameter, which only the private key opens', async () => {
    const res = await signedPost(sealed, '/encrypt', answers);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(SENTINEL);
    const opener = new Opener(keyringOf(sealedKey));
    for (const [name, value] of Object.entries(answers)) {
      expect(res.body[name]).toMatch(new RegExp(`^ss1\\.pk\\.${sealedKey.kid}\\.${name}\\.`));
      expect(opener.openToken(res.body[name]).value).toBe(value);
    }
    const row = opener.openResponse(Object.keys(answers).map((column) => ({ column, token: res.body[column] })));
    expect(row.every((r) => r.ok)).toBe(true);
    expect(opener.derivations).toBe(1);
    expect(res.body.respondent_id).toBe(respondentId(pseudonymKey, answers.respondent));
    expect(Object.keys(res.body).sort()).toEqual([...Object.keys(answers), 'respondent_id'].sort());
  });

  it('binds every token to the execution_sid it is given ({{flow.sid}}), which is not sealed itself', async () => {
    const executionSid = `FN${'0123456789abcdef'.repeat(2)}`;
    const res = await signedPost(sealed, '/encrypt', { execution_sid: executionSid, ...answers });
    expect(res.status).toBe(200);
    expect(res.body.execution_sid).toBeUndefined();
    const opener = new Opener(keyringOf(sealedKey));
    for (const name of Object.keys(answers)) expect(res.body[name]).toMatch(new RegExp(`^ss1\\.pkx\\.${sealedKey.kid}\\.${name}\\.${executionSid}\\.`));
    const cells = Object.keys(answers).map((column) => ({ column, token: res.body[column] as string }));
    expect(opener.openResponse(cells, { executionSid }).map((r) => r.ok && r.value)).toEqual(Object.values(answers));
    expect(opener.openResponse(cells, { executionSid: `FN${'f'.repeat(32)}` }).every((r) => !r.ok && r.error.code === 'EXECUTION_MISMATCH')).toBe(true);
    for (const bad of ['', `${SENTINEL}`, 'FN123']) {
      const refused = await signedPost(sealed, '/encrypt', { execution_sid: bad, full_name: SENTINEL });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('BAD_EXECUTION_SID');
      expect(refused.text).not.toContain(SENTINEL);
    }
  });

  it('gives the same respondent_id for the same address however it is written', async () => {
    const a = await signedPost(sealed, '/encrypt', { respondent: 'whatsapp:+254 700-123 456' });
    const b = await signedPost(sealed, '/encrypt', { respondent: '+254700123456' });
    expect(a.body.respondent_id).toMatch(/^rid1_[0-9a-f]{24}$/);
    expect(a.body.respondent_id).toBe(b.body.respondent_id);
  });

  it('refuses unsigned and forged requests with 403', async () => {
    const unsigned = await signedPost(sealed, '/encrypt', answers, { signWith: null });
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.error.code).toBe('SIGNATURE_INVALID');
    expect((await signedPost(sealed, '/encrypt', answers, { signWith: 'not-the-auth-token' })).status).toBe(403);
    expect((await signedPost(sealed, '/encrypt', answers, { signUrl: 'https://evil.example/encrypt' })).status).toBe(403);
    // A real signature, made for other parameters, does not cover these.
    const res = await fetch(`${sealed.url}/encrypt`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'GvWf1cFY/Q7PnoempGyD5oXAezc=' },
      body: new URLSearchParams({ full_name: SENTINEL }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain(SENTINEL);
  });

  it('accepts a signature made over the https URL, a trailing slash or another host name, as Twilio and proxies produce', async () => {
    const path = '/encrypt';
    const hostPort = new URL(sealed.url).host;
    expect((await signedPost(sealed, path, { a: 'x' }, { signUrl: `https://${hostPort}${path}` })).status).toBe(200);
    expect((await signedPost(sealed, path, { a: 'x' }, { signUrl: `${sealed.url}${path}/` })).status).toBe(200);
    const alias = `127.0.0.1:${sealed.port}`;
    expect((await signedPost(sealed, path, { a: 'x' }, { host: alias, signUrl: `http://${alias}${path}` })).status).toBe(200);
  });

  it('answers malformed input with a clear 4xx that echoes no value', async () => {
    const cases: Array<[Record<string, string | string[]>, number, string]> = [
      [{}, 400, 'NO_FIELDS'],
      [{ [`bad-name${SENTINEL}`]: SENTINEL }, 400, 'BAD_FIELD_NAME'],
      [{ '9lives': SENTINEL }, 400, 'BAD_FIELD_NAME'],
      [{ phone: [SENTINEL, `${SENTINEL}2`] }, 400, 'NOT_TEXT'],
      [{ big: `${SENTINEL}${'é'.repeat(8200)}` }, 413, 'VALUE_TOO_LARGE'],
      [{ respondent_id: SENTINEL }, 400, 'RESERVED_FIELD'],
      [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, SENTINEL])), 400, 'TOO_MANY_FIELDS'],
    ];
    for (const [params, status, code] of cases) {
      const res = await signedPost(sealed, '/encrypt', params);
      expect(res.status, code).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.length).toBeGreaterThan(20);
      expect(res.text).not.toContain(SENTINEL);
    }
  });

  it('refuses JSON and query-string requests with 415', async () => {
    const json = await fetch(`${sealed.url}/encrypt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: SENTINEL }) });
    expect(json.status).toBe(415);
    const get = await fetch(`${sealed.url}/encrypt`);
    expect(get.status).toBe(415);
  });
});

describe('encrypt Function (shared mode)', () => {
  it('seals with the shared key; no respondent_id without a pseudonym key', async () => {
    const res = await signedPost(shared, '/encrypt', answers);
    expect(res.status).toBe(200);
    const opener = new Opener(keyringOf(sharedKey));
    for (const [name, value] of Object.entries(answers)) {
      expect(res.body[name]).toMatch(/^ss1\.sk\./);
      expect(opener.openToken(res.body[name]).value).toBe(value);
    }
    expect(res.body.respondent_id).toBeUndefined();
  });
});

describe('encrypt Function (bad configuration)', () => {
  it('answers 500 naming the variables, with no key value, and seals nothing', async () => {
    const res = await signedPost(misconfigured, '/encrypt', answers);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('CONFIG_INVALID');
    expect(res.body.error.message).toContain('SURVEY_PUBLIC_KEY');
    expect(res.body.error.message).toContain('SURVEY_SECRET_KEY');
    expect(res.text).not.toContain(sealedKey.publicKeyText.slice(6));
    expect(res.text).not.toContain(formatSharedKey(sharedKey.key));
    expect(res.text).not.toMatch(/ss1\./);
  });
});
