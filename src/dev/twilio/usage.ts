// Usage for the Twilio stand-in (API 2010): Usage Triggers (create, list with
// Recurring/TriggerBy/UsageCategory filters, fetch, update of the callback and
// name, delete) and the all-time `totalprice` Usage Record (its price_unit is
// the account's currency), as twilio_api_v2010.json has them.
//
// Nothing here spends money: tests set the amount spent (setSpend) and fire a
// trigger (fire), which records date_fired and returns the parameters Twilio
// posts to the trigger's callback, for the test to sign and send.

import { randomUUID } from 'node:crypto';
import { type ApiRequest, type Entry, invalid, missing, newSid, notFound, optionalMethod, optionalUrl, page2010, type Reply, rfc2822, type Route } from './http.js';

const RECURRING = ['daily', 'monthly', 'yearly', 'alltime'] as const;
const TRIGGER_BY = ['count', 'usage', 'price'] as const;
/** A usage category's shape (totalprice, sms-outbound, calls-inbound-local …). */
const CATEGORY = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Twilio's limit on Usage Triggers per account. */
const MAX_TRIGGERS = 1000;

export interface UsageTriggerSnapshot {
  readonly sid: string;
  readonly friendlyName: string;
  readonly usageCategory: string;
  readonly triggerBy: string;
  readonly triggerValue: string;
  readonly recurring: string;
  readonly callbackUrl: string;
  readonly callbackMethod: string;
  /** Milliseconds since the epoch of the last firing, or null. */
  readonly dateFired: number | null;
}

interface Trigger extends UsageTriggerSnapshot {
  readonly seq: number;
  readonly created: number;
  updated: number;
}

export interface UsageOptions {
  readonly accountSid: string;
  readonly clock: () => number;
  readonly seq: () => number;
  /** ISO 4217 code of the account's prices; USD when unset. */
  readonly currency?: string;
}

export interface Usage {
  readonly routes: readonly Route[];
  snapshot(): UsageTriggerSnapshot[];
  /** The account's spend, in its currency: every trigger's current_value (for price triggers) and the totalprice record. */
  setSpend(amount: number): void;
  /** Fires a trigger as Twilio does when its value is passed: date_fired is set, and the callback's URL, method and form parameters are returned. */
  fire(sid: string): { url: string; method: string; params: Record<string, string> };
}

const money = (n: number) => n.toFixed(2);

export function createUsage(options: UsageOptions): Usage {
  const { accountSid, clock, seq } = options;
  const currency = (options.currency ?? 'USD').toLowerCase();
  const triggers = new Map<string, Trigger>();
  let spend = 0;
  const accountPath = `/2010-04-01/Accounts/${accountSid}`;
  const recordUri = (category: string) => `${accountPath}/Usage/Records.json?Category=${category}`;
  const currentValue = (t: Trigger) => (t.triggerBy === 'price' ? money(spend) : '0');

  const body = (t: Trigger) => ({
    account_sid: accountSid,
    api_version: '2010-04-01',
    callback_method: t.callbackMethod,
    callback_url: t.callbackUrl,
    current_value: currentValue(t),
    date_created: rfc2822(t.created),
    date_fired: t.dateFired === null ? null : rfc2822(t.dateFired),
    date_updated: rfc2822(t.updated),
    friendly_name: t.friendlyName,
    recurring: t.recurring,
    sid: t.sid,
    trigger_by: t.triggerBy,
    trigger_value: t.triggerValue,
    uri: `${accountPath}/Usage/Triggers/${t.sid}.json`,
    usage_category: t.usageCategory,
    usage_record_uri: recordUri(t.usageCategory),
  });

  const ownAccount = (r: ApiRequest, sid: string) => {
    if (sid !== accountSid) throw notFound(r.path);
  };
  const find = (r: ApiRequest, sid: string) => {
    const t = triggers.get(sid);
    if (!t) throw notFound(r.path);
    return t;
  };
  const friendlyName = (form: URLSearchParams): string | undefined => {
    const name = form.get('FriendlyName');
    if (name !== null && name.length > 64) throw invalid('FriendlyName', 'can be up to 64 characters long');
    return name ?? undefined;
  };
  const oneOf = <T extends string>(form: URLSearchParams, name: string, values: readonly T[]): T | undefined => {
    const value = form.get(name);
    if (value === null) return undefined;
    if (!(values as readonly string[]).includes(value)) throw invalid(name, `must be one of ${values.join(', ')}`);
    return value as T;
  };

  /** A route under the account's path, refusing any other account's. */
  const at = (method: Route['method'], path: string, handle: (r: ApiRequest, p: Readonly<Record<string, string>>) => Reply): Route => ({
    method,
    pattern: `/2010-04-01/Accounts/:AccountSid${path}`,
    handle: (r, p) => {
      ownAccount(r, p.AccountSid as string);
      return handle(r, p);
    },
  });

  const routes: Route[] = [
    at('POST', '/Usage/Triggers.json', (r, p) => {
      const callbackUrl = optionalUrl(r.form, 'CallbackUrl');
      if (!callbackUrl) throw missing('CallbackUrl');
      const usageCategory = r.form.get('UsageCategory');
      if (!usageCategory) throw missing('UsageCategory');
      if (!CATEGORY.test(usageCategory)) throw invalid('UsageCategory', 'must be a usage category, e.g. totalprice');
      const value = r.form.get('TriggerValue');
      if (!value) throw missing('TriggerValue');
      const triggerBy = oneOf(r.form, 'TriggerBy', TRIGGER_BY) ?? 'usage';
      // "+30" is 30 more than the current value.
      const offset = value.startsWith('+');
      const number = Number(offset ? value.slice(1) : value);
      if (!/^\+?\d+(\.\d+)?$/.test(value) || !(number > 0)) throw invalid('TriggerValue', 'must be a positive number, or +N for N more than the current value');
      if (triggers.size >= MAX_TRIGGERS) throw invalid('UsageCategory', `an account can have at most ${MAX_TRIGGERS} usage triggers`);
      const now = clock();
      const trigger: Trigger = {
        sid: newSid('UT'),
        seq: seq(),
        created: now,
        updated: now,
        friendlyName: friendlyName(r.form) ?? '',
        usageCategory,
        triggerBy,
        triggerValue: offset ? String((triggerBy === 'price' ? spend : 0) + number) : value,
        recurring: oneOf(r.form, 'Recurring', RECURRING) ?? 'alltime',
        callbackUrl,
        callbackMethod: optionalMethod(r.form, 'CallbackMethod') ?? 'POST',
        dateFired: null,
      };
      triggers.set(trigger.sid, trigger);
      return { status: 201, body: body(trigger) };
    }),
    at('GET', '/Usage/Triggers.json', (r, p) => {
      const filters = (['Recurring', 'TriggerBy', 'UsageCategory'] as const).map((name) => [name, r.query.get(name)] as const);
      const field = { Recurring: 'recurring', TriggerBy: 'triggerBy', UsageCategory: 'usageCategory' } as const;
      const listed = [...triggers.values()].filter((t) => filters.every(([name, wanted]) => wanted === null || t[field[name]] === wanted));
      return { status: 200, body: page2010('usage_triggers', listed.map((t): Entry => ({ seq: t.seq, body: body(t) })), r) };
    }),
    at('GET', '/Usage/Triggers/:Sid.json', (r, p) => {
      return { status: 200, body: body(find(r, p.Sid as string)) };
    }),
    at('POST', '/Usage/Triggers/:Sid.json', (r, p) => {
      const t = find(r, p.Sid as string);
      // Only the callback and the name can change; checked before anything is.
      const url = optionalUrl(r.form, 'CallbackUrl');
      const method = optionalMethod(r.form, 'CallbackMethod');
      const name = friendlyName(r.form);
      if (url === '') throw invalid('CallbackUrl', 'must be an http or https URL');
      const changed: Trigger = { ...t, ...(url !== undefined ? { callbackUrl: url } : {}), ...(method !== undefined ? { callbackMethod: method } : {}), ...(name !== undefined ? { friendlyName: name } : {}), updated: clock() };
      triggers.set(t.sid, changed);
      return { status: 200, body: body(changed) };
    }),
    at('DELETE', '/Usage/Triggers/:Sid.json', (r, p) => {
      triggers.delete(find(r, p.Sid as string).sid);
      return { status: 204 };
    }),
    at('GET', '/Usage/Records.json', (r, p) => {
      const category = r.query.get('Category');
      // Only the total is kept: any other category is listed with nothing spent.
      const listed = category === null ? ['totalprice'] : [category];
      const today = new Date(clock()).toISOString().slice(0, 10);
      const records = listed.map((c, i): Entry => ({
        seq: i,
        body: {
          account_sid: accountSid,
          api_version: '2010-04-01',
          as_of: new Date(clock()).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
          category: c,
          count: '0',
          count_unit: '',
          description: c === 'totalprice' ? 'Total Price' : c,
          end_date: today,
          price: c === 'totalprice' ? Number(money(spend)) : 0,
          price_unit: currency,
          start_date: '2010-01-01',
          subresource_uris: {},
          uri: recordUri(c),
          usage: c === 'totalprice' ? money(spend) : '0',
          usage_unit: c === 'totalprice' ? currency : '',
        },
      }));
      return { status: 200, body: page2010('usage_records', records, r) };
    }),
  ];

  return {
    routes,
    snapshot: () => [...triggers.values()].map(({ seq: _seq, created: _created, updated: _updated, ...t }) => ({ ...t })),
    setSpend(amount) {
      if (!(amount >= 0)) throw new RangeError('setSpend: amount must be ≥ 0');
      spend = amount;
    },
    fire(sid) {
      const t = triggers.get(sid);
      if (!t) throw new RangeError(`twilio-server: no usage trigger ${sid}`);
      const fired = clock();
      triggers.set(sid, { ...t, dateFired: fired });
      return {
        url: t.callbackUrl,
        method: t.callbackMethod,
        params: {
          AccountSid: accountSid,
          UsageTriggerSid: t.sid,
          DateFired: rfc2822(fired),
          Recurring: t.recurring,
          UsageCategory: t.usageCategory,
          TriggerBy: t.triggerBy,
          TriggerValue: t.triggerValue,
          CurrentValue: currentValue(t),
          UsageRecordUri: recordUri(t.usageCategory),
          IdempotencyToken: `${accountSid}-FIRES-${t.sid}-${randomUUID()}`,
        },
      };
    },
  };
}
