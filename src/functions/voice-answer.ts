// The voice-answer Function's core: the <Gather> action. Twilio posts the
// caller's Digits or SpeechResult here; they are sealed at once, bound to the
// execution, and the call goes back to Studio with the token and a status
// (answered, invalid, timeout), so Studio never holds the answer itself.

import { MAX_VALUE_BYTES, sealResponse, systemRandomness } from '../envelope/index.js';
import { loadEncryptConfig } from './encrypt.js';
import { readQuestion, redirectVerb, studioReturnUrl, twimlResult, type Question, type VoiceStatus } from './voice.js';
import type { Env, HttpResult, Params } from './runtime.js';

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** The answer to seal, or why there is none. Keys: digits only, within the question's length. */
function answerOf(q: Question, params: Params): { status: 'answered'; value: string; via: 'dtmf' | 'speech' } | { status: Exclude<VoiceStatus, 'answered'> } {
  const keys = q.input === 'speech' ? '' : text(params.Digits).replace(/#$/, '');
  const speech = q.input === 'dtmf' ? '' : text(params.SpeechResult);
  if (keys !== '') {
    const fits = /^[0-9]+$/.test(keys) && keys.length >= q.min_digits && keys.length <= q.max_digits;
    return fits ? { status: 'answered', value: keys, via: 'dtmf' } : { status: 'invalid' };
  }
  if (speech !== '') return Buffer.byteLength(speech, 'utf8') <= MAX_VALUE_BYTES ? { status: 'answered', value: speech, via: 'speech' } : { status: 'invalid' };
  return { status: 'timeout' };
}

export function voiceAnswerCore(env: Env, params: Params): HttpResult {
  // The key first: a misconfigured service fails before anything is read.
  const { recipient } = loadEncryptConfig(env);
  const q = readQuestion(params);
  if ('status' in q) return q;
  const answer = answerOf(q, params);
  if (answer.status !== 'answered') return twimlResult(redirectVerb(studioReturnUrl(env, q, { status: answer.status })));
  const token = sealResponse([[q.field, answer.value]], recipient, systemRandomness, q.execution_sid).get(q.field) as string;
  return twimlResult(redirectVerb(studioReturnUrl(env, q, { status: 'answered', via: answer.via, [q.field]: token })));
}
