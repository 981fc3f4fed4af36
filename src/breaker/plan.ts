// The spending circuit breaker's plan, shared by the CLI that sets it and the
// Function that acts on it: a limit in the account's currency, watched by
// three Usage Triggers on `totalprice` (50, 80 and 100 % of it), each named so
// that the name alone says it is ours, its level and the limit:
//   "sealed-survey breaker 100% of 50 USD daily"
// `breaker status` and `clear` find the triggers by that name, and the
// Function reads the level and the limit from it (it fetches the trigger the
// callback names), so nothing else has to agree with the triggers.

import { z } from 'zod';

export const LEVELS = [50, 80, 100] as const;
export type Level = (typeof LEVELS)[number];

/** Twilio's Recurring values: the period the spend is counted over (GMT), and the trigger fires at most once in it. */
export const PERIODS = ['daily', 'monthly', 'yearly', 'alltime'] as const;
export type Period = (typeof PERIODS)[number];

/** The usage category that totals every price in the account's currency, and the field compared. */
export const CATEGORY = 'totalprice';
export const TRIGGER_BY = 'price';

/** The Function's path, where every breaker trigger calls. */
export const BREAKER_PATH = '/breaker';

export interface Limit {
  readonly amount: number;
  /** ISO 4217, upper case. */
  readonly currency: string;
}

export interface BreakerTrigger {
  readonly level: Level;
  readonly limit: Limit;
  readonly period: Period;
}

const NAME_PREFIX = 'sealed-survey breaker ';
const NAME = /^sealed-survey breaker (50|80|100)% of (\d{1,7}(?:\.\d{1,2})?) ([A-Z]{3}) (daily|monthly|yearly|alltime)$/;

export class LimitError extends Error {
  override readonly name = 'LimitError';
}

const LimitText = z
  .string()
  .trim()
  .regex(/^(\d{1,7}(?:\.\d{1,2})?)\s*([A-Za-z]{3})$/, 'give an amount and its currency, e.g. 50USD or 120.50EUR')
  .transform((text) => {
    const [, amount, currency] = /^(\d+(?:\.\d+)?)\s*([A-Za-z]{3})$/.exec(text) as RegExpExecArray;
    return { amount: Number(amount), currency: (currency as string).toUpperCase() };
  })
  .refine((l) => l.amount >= 1, 'the limit must be at least 1 (in the account\'s currency)');

/** "50USD", "50 usd", "120.50EUR" → the limit; a LimitError saying what is wrong and how to write it. */
export function parseLimit(text: string): Limit {
  const parsed = LimitText.safeParse(text);
  if (!parsed.success) throw new LimitError(`--limit "${text.slice(0, 40)}": ${parsed.error.issues[0]?.message ?? 'not a limit'}`);
  return parsed.data;
}

export function parsePeriod(text: string): Period {
  if ((PERIODS as readonly string[]).includes(text)) return text as Period;
  throw new LimitError(`--period "${text.slice(0, 40)}": must be one of ${PERIODS.join(', ')} (Twilio counts the spend over that period, in GMT)`);
}

const amountText = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The spend at which a level fires: 25, 40 and 50 for a limit of 50. */
export function levelValue(limit: Limit, level: Level): string {
  return amountText(Math.round(limit.amount * level) / 100);
}

export function triggerName(t: BreakerTrigger): string {
  return `${NAME_PREFIX}${t.level}% of ${amountText(t.limit.amount)} ${t.limit.currency} ${t.period}`;
}

/** The breaker trigger a friendly name describes, or undefined when the trigger is not one of ours. */
export function parseTriggerName(name: string | null | undefined): BreakerTrigger | undefined {
  const m = NAME.exec(name ?? '');
  if (!m) return undefined;
  return { level: Number(m[1]) as Level, limit: { amount: Number(m[2]), currency: m[3] as string }, period: m[4] as Period };
}

/** Any trigger named by the breaker, even one whose name was edited into something unreadable. */
export const isBreakerName = (name: string | null | undefined): boolean => (name ?? '').startsWith(NAME_PREFIX);

