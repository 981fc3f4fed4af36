// Studio "Add TwiML Redirect" target: answers <Gather> whose action is /voice-answer.
import { protectedFunction } from '../src/functions/runtime.js';
import { VOICE_QUERY } from '../src/functions/voice.js';
import { voiceGatherCore } from '../src/functions/voice-gather.js';

export const handler = protectedFunction('voice-gather', voiceGatherCore, { query: VOICE_QUERY });
