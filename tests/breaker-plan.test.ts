// The breaker's plan and the Function's configuration, without servers: how
// a limit is read, what the triggers are named and worth, and every way the
// Function's environment can be wrong, each naming its variable.

import { describe, expect, it } from 'vitest';
import { breakerConfig } from '../src/breaker/config.js';
import { LEVELS, levelValue, LimitError, parseLimit, parsePeriod, parseTriggerName, triggerName } from '../src/breaker/plan.js';
import { configVariableOf } from '../src/functions/config-error.js';

describe('limits and trigger names', () => {
  it('reads an amount with its currency, in any case and spacing, and refuses the rest', () => {
    expect(parseLimit('50USD')).toEqual({ amount: 50, currency: 'USD' });
    expect(parseLimit(' 120.50 eur ')).toEqual({ amount: 120.5, currency: 'EUR' });
    for (const bad of ['50', 'USD', '50 US', '-5USD', '5,00EUR', '0USD', '1e3USD', '50USDX']) expect(() => parseLimit(bad), bad).toThrow(LimitError);
    expect(parsePeriod('monthly')).toBe('monthly');
    expect(() => parsePeriod('weekly')).toThrow(/daily, monthly, yearly, alltime/);
  });

  it('names each level so the name alone gives it back, and values each level in cents', () => {
    const limit = parseLimit('33.33USD');
    expect(LEVELS.map((level) => levelValue(limit, level))).toEqual(['16.67', '26.66', '33.33']);
    expect(LEVELS.map((level) => levelValue(parseLimit('50USD'), level))).toEqual(['25', '40', '50']);
    for (const level of LEVELS) {
      const plan = { level, limit, period: 'yearly' as const };
      const name = triggerName(plan);
      expect(name.length).toBeLessThanOrEqual(64);
      expect(parseTriggerName(name)).toEqual(plan);
    }
    for (const foreign of ['', 'Suspend if over $50', 'sealed-survey breaker 90% of 50 USD daily', 'sealed-survey breaker 100% of 50 USD weekly']) expect(parseTriggerName(foreign)).toBeUndefined();
  });
});

describe('the Function\'s configuration', () => {
  const good = {
    ACCOUNT_SID: `AC${'a'.repeat(32)}`,
    AUTH_TOKEN: 'token',
    DOMAIN_NAME: 'sealed-survey-1234-prod.twil.io',
    PATH: '/breaker',
    BREAKER_SENDER: 'whatsapp:+14155238886',
    BREAKER_NOTIFY_TO: '+254711000111',
  };

  it('reads a good environment: SMS from the sender\'s number, its own https URL, every flow', () => {
    const config = breakerConfig(good);
    expect(config).toMatchObject({ sender: '+14155238886', notify: [{ kind: 'message', to: '+254711000111', from: '+14155238886' }], flows: undefined, parent: undefined, selfUrl: 'https://sealed-survey-1234-prod.twil.io/breaker' });
    expect(breakerConfig({ ...good, BREAKER_NOTIFY_TO: 'whatsapp:+254711000111', BREAKER_FLOWS: 'whatsapp-survey, FW' + '0'.repeat(32) }).notify[0]).toEqual({ kind: 'message', to: 'whatsapp:+254711000111', from: 'whatsapp:+14155238886' });
  });

  it('names the variable to fix, never quoting its value', () => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ BREAKER_SENDER: undefined }, 'BREAKER_SENDER'],
      [{ BREAKER_SENDER: '0711000111' }, 'BREAKER_SENDER'],
      [{ BREAKER_NOTIFY_TO: undefined }, 'BREAKER_NOTIFY_TO'],
      [{ BREAKER_NOTIFY_TO: '0711 000 111' }, 'BREAKER_NOTIFY_TO'],
      [{ BREAKER_NOTIFY_TO: undefined, BREAKER_NOTIFY_URL: 'http://ops.example.org/hook' }, 'BREAKER_NOTIFY_URL'],
      [{ BREAKER_FLOWS: ' , ' }, 'BREAKER_FLOWS'],
      [{ BREAKER_PARENT_API_KEY: `SK${'b'.repeat(32)}` }, 'BREAKER_PARENT_API_SECRET'],
      [{ BREAKER_PARENT_API_KEY: 'AC123', BREAKER_PARENT_API_SECRET: 's3cret-value' }, 'BREAKER_PARENT_API_KEY'],
      [{ AUTH_TOKEN: undefined }, 'AUTH_TOKEN'],
      [{ TWILIO_API_URL: 'ftp://x' }, 'TWILIO_API_URL'],
    ];
    for (const [change, variable] of cases) {
      let error: unknown;
      try {
        breakerConfig({ ...good, ...change });
      } catch (e) {
        error = e;
      }
      expect(configVariableOf(error), JSON.stringify(change)).toBe(variable);
      for (const value of Object.values(change)) if (value && value.length > 4) expect((error as Error).message).not.toContain(value);
    }
  });
});
