// The breaker's Usage Triggers as the CLI manages them: set (create, keep or
// replace, so running it again adds nothing), read, and clear. Twilio lets a
// trigger's callback and name change, not its value, period or category: a
// trigger whose value or period differs is deleted and created again.

import type TwilioSdk from 'twilio';
import { type BreakerTrigger, CATEGORY, isBreakerName, type Level, LEVELS, levelValue, type Limit, parseTriggerName, type Period, TRIGGER_BY, triggerName } from './plan.js';

type TriggerInstance = Awaited<ReturnType<ReturnType<TwilioSdk.Twilio['api']['v2010']['accounts']>['usage']['triggers']['list']>>[number];

export interface ListedTrigger {
  readonly sid: string;
  /** What the name says; undefined for a trigger named by the breaker whose name was edited since. */
  readonly plan: BreakerTrigger | undefined;
  readonly triggerValue: string;
  readonly currentValue: string;
  readonly recurring: string;
  readonly callbackUrl: string;
  readonly dateFired: Date | null;
}

const usage = (twilio: TwilioSdk.Twilio, accountSid: string) => twilio.api.v2010.accounts(accountSid).usage;

const listed = (t: TriggerInstance): ListedTrigger => ({
  sid: t.sid,
  plan: parseTriggerName(t.friendlyName),
  triggerValue: t.triggerValue,
  currentValue: t.currentValue,
  recurring: t.recurring,
  callbackUrl: t.callbackUrl,
  dateFired: t.dateFired ?? null,
});

/** The account's breaker triggers, by level (unreadable ones last). */
export async function breakerTriggers(twilio: TwilioSdk.Twilio, accountSid: string): Promise<ListedTrigger[]> {
  const all: TriggerInstance[] = await usage(twilio, accountSid).triggers.list({ usageCategory: CATEGORY, pageSize: 1000 });
  return all
    .filter((t) => isBreakerName(t.friendlyName))
    .map(listed)
    .sort((a, b) => (a.plan?.level ?? 1000) - (b.plan?.level ?? 1000));
}

export interface SetChange {
  readonly level: Level;
  readonly value: string;
  readonly sid: string;
  readonly action: 'created' | 'unchanged' | 'updated' | 'replaced';
}

/** Makes the account's breaker triggers exactly the three of this plan; returns what was done per level, and how many strays were deleted. */
export async function setBreaker(twilio: TwilioSdk.Twilio, accountSid: string, limit: Limit, period: Period, callbackUrl: string): Promise<{ changes: SetChange[]; removed: number }> {
  const existing = await breakerTriggers(twilio, accountSid);
  const triggers = usage(twilio, accountSid).triggers;
  const kept = new Set<string>();
  const changes: SetChange[] = [];
  for (const level of LEVELS) {
    const name = triggerName({ level, limit, period });
    const value = levelValue(limit, level);
    const same = existing.find((t) => !kept.has(t.sid) && t.plan?.level === level && Number(t.triggerValue) === Number(value) && t.recurring === period);
    if (same) {
      kept.add(same.sid);
      const current = await triggers(same.sid).fetch();
      if (current.friendlyName === name && current.callbackUrl === callbackUrl && current.callbackMethod === 'POST') {
        changes.push({ level, value, sid: same.sid, action: 'unchanged' });
      } else {
        await triggers(same.sid).update({ friendlyName: name, callbackUrl, callbackMethod: 'POST' });
        changes.push({ level, value, sid: same.sid, action: 'updated' });
      }
      continue;
    }
    const replaced = existing.some((t) => t.plan?.level === level);
    const created = await triggers.create({ usageCategory: CATEGORY, triggerBy: TRIGGER_BY, triggerValue: value, recurring: period, callbackUrl, callbackMethod: 'POST', friendlyName: name });
    kept.add(created.sid);
    changes.push({ level, value, sid: created.sid, action: replaced ? 'replaced' : 'created' });
  }
  const strays = existing.filter((t) => !kept.has(t.sid));
  for (const t of strays) await removeTrigger(twilio, accountSid, t.sid);
  return { changes, removed: strays.length };
}

async function removeTrigger(twilio: TwilioSdk.Twilio, accountSid: string, sid: string): Promise<void> {
  try {
    await usage(twilio, accountSid).triggers(sid).remove();
  } catch (error) {
    // Gone already: what clear wants.
    if ((error as { status?: unknown }).status !== 404) throw error;
  }
}

/** Deletes every breaker trigger; returns how many there were. */
export async function clearBreaker(twilio: TwilioSdk.Twilio, accountSid: string): Promise<number> {
  const existing = await breakerTriggers(twilio, accountSid);
  for (const t of existing) await removeTrigger(twilio, accountSid, t.sid);
  return existing.length;
}

/** The currency of the account's prices (its totalprice record's price_unit, upper case), or undefined when Twilio does not say. */
export async function accountCurrency(twilio: TwilioSdk.Twilio, accountSid: string): Promise<string | undefined> {
  const [record] = await usage(twilio, accountSid).records.list({ category: CATEGORY, limit: 1 });
  return record?.priceUnit ? record.priceUnit.toUpperCase() : undefined;
}
