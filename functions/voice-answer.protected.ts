// <Gather> action: seals Digits / SpeechResult, answers <Redirect> back to Studio with the token.
import { protectedFunction } from '../src/functions/runtime.js';
import { VOICE_QUERY } from '../src/functions/voice.js';
import { voiceAnswerCore } from '../src/functions/voice-answer.js';

export const handler = protectedFunction('voice-answer', voiceAnswerCore, { query: VOICE_QUERY });
