// The breaker Function's core: the callback of a Usage Trigger set by
// `sealed-survey breaker set` (signed by Twilio like any webhook; the guard in
// runtime.ts checks it). The trigger it names is fetched: only a trigger named
// by the breaker counts, and its name gives the level and the limit.
//
//   50 %, 80 %  notify only.
//   100 %       subaccount: notify FIRST, then suspend it with the parent's API
//               key (a suspended account can no longer send the message);
//               main account (never suspended): hold the sender (its incoming
//               messages come here and get an empty answer), end up to
//               MAX_ENDED_PER_CALL active executions of the survey's flows,
//               then notify with what is left. A subaccount without the
//               parent's key is stopped as a main account is.
//
// Repeated callbacks (Twilio's retries carry one IdempotencyToken) do no
// harm: every action is idempotent, and a 100 % callback that finds nothing
// left to stop notifies no one again. Incoming messages to a held sender
// (signed, with a MessageSid and no UsageTriggerSid) get an empty TwiML answer.

import { z } from 'zod';
import { accountFacts, breakerClient, callbackDeadline, type Client, endExecutions, holdSender, notify, type NotifyOutcome, suspend, surveyFlows } from '../breaker/actions.js';
import { type BreakerConfig, breakerConfig } from '../breaker/config.js';
import { type BreakerTrigger, CATEGORY, parseTriggerName } from '../breaker/plan.js';
import type { Env, HttpResult, Params } from './runtime.js';
import { errorResult } from './runtime.js';

const Amount = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/);

const Callback = z.object({
  AccountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/),
  UsageTriggerSid: z.string().regex(/^UT[0-9a-fA-F]{32}$/),
  CurrentValue: Amount,
  TriggerValue: Amount,
  UsageCategory: z.string().max(64),
  IdempotencyToken: z.string().max(200).optional(),
});

const InboundMessage = z.object({ MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/) });

const last4 = (sid: string) => `…${sid.slice(-4)}`;

type Outcome = { action: string; notified: NotifyOutcome[]; executionsEnded?: number; executionsActive?: number; senderHeld?: boolean };

function describe(trigger: BreakerTrigger, current: string): string {
  const { amount, currency } = trigger.limit;
  return `sealed-survey breaker: spending is ${current} ${currency}, ${trigger.level}% of the ${trigger.period} limit of ${amount} ${currency}`;
}

async function stopInAccount(client: Client, config: BreakerConfig, startedAt: number): Promise<{ held: boolean; ended: number; active: number }> {
  const held = await holdSender(client, config);
  const { ended, active } = await endExecutions(client, await surveyFlows(client, config.flows), { until: callbackDeadline(startedAt) });
  return { held, ended, active };
}

async function trip(client: Client, config: BreakerConfig, trigger: BreakerTrigger, current: string, event: Record<string, unknown>, startedAt: number): Promise<Outcome> {
  const head = describe(trigger, current);
  const account = await accountFacts(client, config.accountSid);
  if (account.parentSid !== undefined && config.parent !== undefined) {
    if (account.status !== 'active') return { action: 'already suspended', notified: [] };
    // Notify first: once suspended, the account cannot send the message.
    const text = `${head}. Subaccount ${last4(config.accountSid)} is being suspended now; Twilio sends no alert of its own. To resume: sealed-survey breaker clear --resume`;
    const notified = await notify(client, config, text, { ...event, action: 'suspended' });
    await suspend(await breakerClient(config, { parentSid: account.parentSid }), config.accountSid);
    return { action: 'suspended', notified };
  }
  const stop = await stopInAccount(client, config, startedAt);
  if (!stop.held && stop.ended === 0 && stop.active === 0) return { action: 'already stopped', notified: [], executionsEnded: 0, executionsActive: 0, senderHeld: true };
  const unsuspended = account.parentSid !== undefined ? ' (not suspended: BREAKER_PARENT_API_KEY is not set)' : '';
  const left = stop.active > 0 ? `, ${stop.active} still active (end them with \`sealed-survey breaker stop\`)` : '';
  const text = `${head}. The survey is stopped${unsuspended}: its sender now answers nothing, ${stop.ended} executions ended${left}. Launches from your machine are not stopped. To resume: sealed-survey breaker clear, then deploy --number`;
  const notified = await notify(client, config, text, { ...event, action: 'stopped', executionsEnded: stop.ended, executionsActive: stop.active });
  return { action: 'stopped', notified, executionsEnded: stop.ended, executionsActive: stop.active, senderHeld: true };
}

export async function breakerCore(env: Env, params: Params, now: () => number = Date.now): Promise<HttpResult> {
  const startedAt = now();
  const config = breakerConfig(env);
  const parsed = Callback.safeParse(params);
  if (!parsed.success) {
    if (InboundMessage.safeParse(params).success) return { status: 200, body: {}, twiml: '<Response/>' };
    const names = parsed.error.issues.map((i) => String(i.path[0])).filter((n, i, all) => all.indexOf(n) === i);
    return errorResult(400, 'NOT_A_USAGE_TRIGGER_CALLBACK', `this Function takes the callbacks of the Usage Triggers \`sealed-survey breaker set\` creates; ${names.join(', ')} missing or malformed`);
  }
  const callback = parsed.data;
  if (callback.AccountSid !== config.accountSid) return errorResult(400, 'OTHER_ACCOUNT', "the callback is for another account than this Function's");
  const client = await breakerClient(config);
  let name: string;
  try {
    name = (await client.api.v2010.accounts(config.accountSid).usage.triggers(callback.UsageTriggerSid).fetch()).friendlyName;
  } catch (error) {
    if ((error as { status?: unknown }).status !== 404) throw error;
    return { status: 200, body: { ignored: 'the trigger no longer exists (breaker clear removed it?)' } };
  }
  const trigger = parseTriggerName(name);
  if (!trigger || callback.UsageCategory !== CATEGORY) return { status: 200, body: { ignored: 'not a trigger of the breaker' } };
  const event = { event: 'sealed-survey.breaker', level: trigger.level, currentValue: callback.CurrentValue, limit: trigger.limit.amount, currency: trigger.limit.currency, period: trigger.period, account: config.accountSid };
  let outcome: Outcome;
  if (trigger.level < 100) {
    const text = `${describe(trigger, callback.CurrentValue)}. At 100% the survey is stopped.`;
    outcome = { action: 'notified', notified: await notify(client, config, text, { ...event, action: 'notified' }) };
  } else {
    outcome = await trip(client, config, trigger, callback.CurrentValue, event, startedAt);
  }
  // The level, the action and counts only: no number, no value from the callback.
  const failed = outcome.notified.filter((n) => !n.ok);
  console.log(`breaker: level ${trigger.level}%, ${outcome.action}${failed.length > 0 ? `; notification failed (${failed.map((f) => `${f.kind}: ${f.detail ?? 'failed'}`).join(', ')})` : ''}`);
  return { status: 200, body: { level: trigger.level, ...outcome } };
}
