// The voice-gather Function's core: the TwiML a Studio "Add TwiML Redirect"
// widget hands the call to. It asks nothing itself (Studio's Say/Play before
// the redirect does, so the wording stays in the flow): it listens with
// <Gather>, whose action is voice-answer on this service, so the keys or the
// words go to a Function that seals them and never through Studio.

import { loadEncryptConfig } from './encrypt.js';
import { ANSWER_PATH, questionQuery, readQuestion, redirectVerb, serviceBase, studioReturnUrl, twimlResult, xmlEscape, type Question } from './voice.js';
import type { Env, HttpResult, Params } from './runtime.js';

/** Seconds of silence before Twilio gives up waiting for the first key or word. */
const TIMEOUT_SECONDS = 8;

function gatherAttributes(q: Question, action: string): string {
  const attrs: Array<[string, string]> = [
    ['input', q.input === 'dtmf_speech' ? 'dtmf speech' : q.input],
    ['action', action],
    ['method', 'POST'],
    ['timeout', String(TIMEOUT_SECONDS)],
    // An empty result falls through to the <Redirect> below: the caller said nothing.
    ['actionOnEmptyResult', 'false'],
  ];
  if (q.input !== 'speech') {
    // A fixed length ends by itself; otherwise the caller ends with #.
    if (q.min_digits === q.max_digits) attrs.push(['numDigits', String(q.max_digits)]);
    attrs.push(['finishOnKey', '#']);
  }
  if (q.input !== 'dtmf') attrs.push(['speechTimeout', 'auto'], ['language', q.language]);
  return attrs.map(([k, v]) => `${k}="${xmlEscape(v)}"`).join(' ');
}

export function voiceGatherCore(env: Env, params: Params): HttpResult {
  // Fail before the caller keys anything, not after: voice-answer needs the key.
  loadEncryptConfig(env);
  const q = readQuestion(params);
  if ('status' in q) return q;
  const action = `${serviceBase(env)}${ANSWER_PATH}?${questionQuery(q)}`;
  const silent = studioReturnUrl(env, q, { status: 'timeout' });
  return twimlResult(`<Gather ${gatherAttributes(q, action)}/>${redirectVerb(silent)}`);
}
