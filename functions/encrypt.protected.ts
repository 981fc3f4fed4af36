// Studio Run Function target: seals every parameter; answers { "<field>": "ss1.…" }.
import { encryptCore } from '../src/functions/encrypt.js';
import { protectedFunction } from '../src/functions/runtime.js';

export const handler = protectedFunction('encrypt', encryptCore);
