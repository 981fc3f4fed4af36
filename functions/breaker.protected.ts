// Usage Trigger callback of the spending circuit breaker (`sealed-survey
// breaker set`): notifies at 50 and 80 %, stops the survey at 100 %;
// answers { "level", "action", "notified", … }.
import { breakerCore } from '../src/functions/breaker.js';
import { protectedFunction } from '../src/functions/runtime.js';

export const handler = protectedFunction('breaker', (env, params) => breakerCore(env, params));
