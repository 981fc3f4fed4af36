// The voice Functions through the real twilio-run server, called as Twilio
// Voice calls them: POST with the call's parameters in the body, the question
// in the URL's query string, and X-Twilio-Signature over both.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFunctions } from '../src/dev/functions-server.js';
import { Opener, sealResponse } from '../src/envelope/index.js';
import { parseTwiml, type Verb } from '../src/flow/twiml.js';
import { xmlEscape } from '../src/functions/voice.js';
import { formatPublicKey, keyringOf, newSealedKeyPair, recipientOf } from '../src/keys/keys.js';
import { ACCOUNT_SID, AUTH_TOKEN, SENTINEL, signedPost, startTestFunctions } from './helpers/functions.js';
import { newExecutionSid } from './helpers/publish-stack.js';

const key = newSealedKeyPair();
const opener = new Opener(keyringOf(key));
const FLOW_SID = `FW${'ab'.repeat(16)}`;
/** Keys can only be digits: a random number that must never reach a log, a redirect or a URL. */
const SECRET_DIGITS = String(randomInt(10 ** 9, 10 ** 10));
const servers: RunningFunctions[] = [];
let fns: RunningFunctions;
let onTwilio: RunningFunctions;
let noKey: RunningFunctions;

const PUBLIC_DOMAIN = 'sealed-survey-4321-dev.twil.io';
const call = (extra: Record<string, string> = {}) => ({ AccountSid: ACCOUNT_SID, CallSid: `CA${'1'.repeat(32)}`, From: '+254700000999', To: '+254711000000', CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01', ...extra });
const question = (execution: string, extra = '') => `execution_sid=${execution}&flow_sid=${FLOW_SID}&field=national_id&input=dtmf&min_digits=6&max_digits=10${extra}`;

beforeAll(async () => {
  [fns, onTwilio, noKey] = await Promise.all([
    startTestFunctions({ SURVEY_PUBLIC_KEY: formatPublicKey(key.pair.publicRaw) }),
    // As on Twilio: DOMAIN_NAME is the service's public host, so only https://<it>/… is a signed URL.
    startTestFunctions({ SURVEY_PUBLIC_KEY: formatPublicKey(key.pair.publicRaw), DOMAIN_NAME: PUBLIC_DOMAIN }),
    startTestFunctions({}),
  ]);
  servers.push(fns, onTwilio, noKey);
});

afterAll(async () => {
  const output = servers.map((s) => s.output()).join('\n');
  await Promise.all(servers.map((s) => s.stop()));
  // Nothing the Functions printed holds what a caller keyed or said, or the auth token.
  expect(output).not.toContain(SENTINEL);
  expect(output).not.toContain(SECRET_DIGITS);
  expect(output).not.toContain(AUTH_TOKEN);
});

const only = (verbs: Verb[], name: string) => verbs.filter((v) => v.name === name);

/** The Studio return URL a TwiML answer redirects to, checked for shape; its parameters. */
function studioReturn(xml: string): URLSearchParams {
  const [redirect] = only(parseTwiml(xml), 'Redirect');
  expect(redirect?.attributes.method).toBe('POST');
  const url = new URL(redirect?.text ?? '');
  expect(`${url.origin}${url.pathname}`).toBe(`https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${FLOW_SID}`);
  expect(url.searchParams.get('FlowEvent')).toBe('return');
  return url.searchParams;
}

describe('voice-gather', () => {
  it('answers <Gather> posting to voice-answer with the question carried on, and a <Redirect> back to Studio when the caller is silent', async () => {
    const execution = newExecutionSid();
    const res = await signedPost(fns, `/voice-gather?${question(execution)}`, call());
    expect(res.status).toBe(200);
    const verbs = parseTwiml(res.text);
    expect(verbs.map((v) => v.name)).toEqual(['Gather', 'Redirect']);
    const gather = verbs[0]?.attributes ?? {};
    expect(gather).toMatchObject({ input: 'dtmf', method: 'POST', finishOnKey: '#', actionOnEmptyResult: 'false' });
    const action = new URL(gather.action ?? '');
    expect(action.pathname).toBe('/voice-answer');
    expect(action.search).toBe(`?${question(execution)}&language=en-US`);
    // Locally (DOMAIN_NAME is localhost:<port>) the action is http.
    expect(action.protocol).toBe('http:');
    // Every & in an attribute or text is escaped: the raw document has none bare.
    expect(res.text).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
    expect(Object.fromEntries(studioReturn(res.text))).toEqual({ FlowEvent: 'return', status: 'timeout' });
  });

  it('on Twilio the action is https://DOMAIN_NAME/voice-answer (a <Gather> under Voice PCI Mode refuses http: error 13337); speech gets speechTimeout and language', async () => {
    const execution = newExecutionSid();
    const path = `/voice-gather?${question(execution, '&language=sw-KE').replace('input=dtmf', 'input=dtmf_speech')}`;
    const res = await signedPost(onTwilio, path, call(), { signUrl: `https://${PUBLIC_DOMAIN}${path}` });
    expect(res.status).toBe(200);
    const [gather] = parseTwiml(res.text);
    expect(gather?.attributes).toMatchObject({ input: 'dtmf speech', speechTimeout: 'auto', language: 'sw-KE' });
    expect(gather?.attributes.action?.startsWith(`https://${PUBLIC_DOMAIN}/voice-answer?execution_sid=${execution}&`)).toBe(true);
    // The URL a local request used is not what Twilio signs there.
    expect((await signedPost(onTwilio, path, call())).status).toBe(403);
  });

  it('asks a fixed number of keys with numDigits, and refuses a URL without its question, naming the parameter', async () => {
    const fixed = await signedPost(fns, `/voice-gather?${question(newExecutionSid()).replace('min_digits=6', 'min_digits=10')}`, call());
    expect(parseTwiml(fixed.text)[0]?.attributes.numDigits).toBe('10');
    const missing = await signedPost(fns, `/voice-gather?execution_sid=${newExecutionSid()}&flow_sid=${FLOW_SID}`, call());
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'BAD_VOICE_QUESTION' });
    expect(missing.body.error.message).toMatch(/^field is missing/);
    const notFn = await signedPost(fns, `/voice-gather?${question('CA' + '0'.repeat(32))}`, call());
    expect(notFn.body.error.message).toMatch(/^execution_sid is not an execution SID/);
  });

  it('escapes what it interpolates into XML', () => {
    expect(xmlEscape(`a&b<c>"d"'e'`)).toBe('a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;');
  });
});

describe('voice-answer', () => {
  it('seals the keyed digits into a token bound to the execution, which the analyst key opens to exactly those digits; Studio gets only the token', async () => {
    const execution = newExecutionSid();
    const res = await signedPost(fns, `/voice-answer?${question(execution)}`, call({ Digits: SECRET_DIGITS }));
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(SECRET_DIGITS);
    const back = studioReturn(res.text);
    expect([...back.keys()].sort()).toEqual(['FlowEvent', 'national_id', 'status', 'via']);
    expect(back.get('status')).toBe('answered');
    expect(back.get('via')).toBe('dtmf');
    const token = back.get('national_id') as string;
    expect(token).toMatch(new RegExp(`^ss1\\.pkx\\.${key.kid}\\.national_id\\.${execution}\\.`));
    expect(opener.openToken(token).value).toBe(SECRET_DIGITS);
    const [bound] = opener.openResponse([{ column: 'national_id', token }], { executionSid: execution });
    expect(bound?.ok).toBe(true);
    const [moved] = opener.openResponse([{ column: 'national_id', token }], { executionSid: newExecutionSid() });
    expect(moved?.ok === false && moved.error.code).toBe('EXECUTION_MISMATCH');
  });

  it('seals SpeechResult the same way', async () => {
    const execution = newExecutionSid();
    const said = `I walk two hours ${SENTINEL}`;
    const q = `execution_sid=${execution}&flow_sid=${FLOW_SID}&field=comment&input=dtmf_speech`;
    const res = await signedPost(fns, `/voice-answer?${q}`, call({ SpeechResult: said, Confidence: '0.91' }));
    expect(res.text).not.toContain(SENTINEL);
    const back = studioReturn(res.text);
    expect(back.get('status')).toBe('answered');
    expect(back.get('via')).toBe('speech');
    expect(opener.openToken(back.get('comment') as string)).toMatchObject({ field: 'comment', value: said, execution });
  });

  it('returns invalid for keys that do not fit (too few, * or #) and timeout for none, without a token', async () => {
    const execution = newExecutionSid();
    for (const [digits, status] of [['12', 'invalid'], ['12*456', 'invalid'], ['12345678901', 'invalid'], ['', 'timeout']] as const) {
      const res = await signedPost(fns, `/voice-answer?${question(execution)}`, call({ Digits: digits }));
      expect(res.status).toBe(200);
      expect(Object.fromEntries(studioReturn(res.text))).toEqual({ FlowEvent: 'return', status });
    }
    // A trailing # (finishOnKey) is not part of the answer.
    const hash = studioReturn((await signedPost(fns, `/voice-answer?${question(execution)}`, call({ Digits: `${SECRET_DIGITS}#` }))).text);
    expect(opener.openToken(hash.get('national_id') as string).value).toBe(SECRET_DIGITS);
  });

  it('refuses unsigned requests, a signature over another question, and the question sent in the body', async () => {
    const execution = newExecutionSid();
    const path = `/voice-answer?${question(execution)}`;
    for (const res of [
      await signedPost(fns, path, call({ Digits: SECRET_DIGITS }), { signWith: null }),
      await signedPost(fns, path, call({ Digits: SECRET_DIGITS }), { signUrl: `${fns.url}${path.replace('national_id', 'comment')}` }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('SIGNATURE_INVALID');
    }
    // Signed as a plain form post: the guard puts the question back into the URL it checks, so this signature is wrong.
    const params = Object.fromEntries(new URLSearchParams(question(execution)));
    expect((await signedPost(fns, '/voice-answer', { ...call({ Digits: SECRET_DIGITS }), ...params })).status).toBe(403);
    // A query value that is not plain URL characters cannot be compared with what Twilio signed.
    const odd = await signedPost(fns, `/voice-answer?${question(execution).replace('field=national_id', 'field=na%20me')}`, call({ Digits: SECRET_DIGITS }));
    expect(odd.status).toBe(400);
    expect(odd.body.error.code).toBe('BAD_QUERY_PARAMETER');
  });

  it('fails closed with 500 CONFIG_INVALID naming SURVEY_PUBLIC_KEY when the service has no key, already before the caller is asked', async () => {
    for (const path of ['/voice-gather', '/voice-answer']) {
      const res = await signedPost(noKey, `${path}?${question(newExecutionSid())}`, call({ Digits: SECRET_DIGITS }));
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('CONFIG_INVALID');
      expect(res.body.error.message).toContain('SURVEY_PUBLIC_KEY');
      expect(res.text).not.toContain(SECRET_DIGITS);
    }
  });
});

describe('a row of answers sealed one at a time', () => {
  it('opens when every token is bound to the row\'s execution, and is still a mismatch when not', () => {
    const execution = newExecutionSid();
    const sealOne = (field: string, value: string, exec?: string) => sealResponse([[field, value]], recipientOf(key), undefined, exec).get(field) as string;
    const row = [
      { column: 'national_id', token: sealOne('national_id', '12345678', execution) },
      { column: 'comment', token: sealOne('comment', 'fine', execution) },
    ];
    expect(opener.openResponse(row, { executionSid: execution }).map((r) => r.ok && r.value)).toEqual(['12345678', 'fine']);
    // Without the row's execution_sid, or with an unbound token among them, the one-response check stands.
    expect(opener.openResponse(row).some((r) => !r.ok && r.error.code === 'RESPONSE_MISMATCH')).toBe(true);
    const mixed = [row[0] as (typeof row)[number], { column: 'comment', token: sealOne('comment', 'fine') }];
    expect(opener.openResponse(mixed, { executionSid: execution }).some((r) => !r.ok && r.error.code === 'RESPONSE_MISMATCH')).toBe(true);
  });
});
