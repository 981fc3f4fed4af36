// What the breaker does to an account, through the real `twilio` client: tell
// someone (an SMS/WhatsApp message or a webhook, since Twilio alerts no one),
// suspend a subaccount (with the parent's API key: Twilio changes a
// subaccount's status only with its parent's credentials), or, in a main
// account (which cannot be suspended), hold the sender and end the survey's
// active executions. Every step is naturally idempotent: a held sender stays
// held, ended executions are not listed again, a suspended account is left as
// it is.

import type TwilioSdk from 'twilio';
import { pointSender } from '../deploy/webhook.js';
import type { BreakerConfig, Notify } from './config.js';

/** Executions ended by one callback at most: a Function has 10 s, each end is one API call. */
export const MAX_ENDED_PER_CALL = 100;
/** Ending stops this long after the callback arrived, so the notification still goes out in time. */
const ENDING_BUDGET_MS = 5_000;
const ENDING_CONCURRENCY = 5;
const WEBHOOK_TIMEOUT_MS = 3_000;

export type Client = TwilioSdk.Twilio;

/** A client for the Function: the account's own credentials (as context.getTwilioClient() has them), or the parent's API key; TWILIO_API_URL honoured. */
export async function breakerClient(config: BreakerConfig, as: 'account' | { readonly parentSid: string } = 'account'): Promise<Client> {
  const { default: twilio } = await import('twilio');
  const [username, password, accountSid] = as === 'account' ? [config.accountSid, config.authToken, config.accountSid] : [config.parent?.keySid ?? '', config.parent?.secret ?? '', as.parentSid];
  const client = twilio(username, password, { accountSid, autoRetry: true, maxRetries: 2, timeout: 4_000, ...(config.apiUrl !== undefined ? { region: '', edge: '' } : {}) });
  if (config.apiUrl !== undefined) {
    for (const product of ['api', 'studio', 'messaging'] as const) client[product].baseUrl = `${config.apiUrl}/${product}`;
  }
  return client;
}

export interface NotifyOutcome {
  readonly kind: Notify['kind'];
  readonly ok: boolean;
  /** The HTTP status or Twilio error code of a failure; never the destination. */
  readonly detail?: string;
}

/** Sends `text` (and, to a webhook, `event` as JSON) to every destination; a failure is reported, never thrown: the trip goes on. */
export async function notify(client: Client, config: BreakerConfig, text: string, event: Readonly<Record<string, unknown>>): Promise<NotifyOutcome[]> {
  return Promise.all(
    config.notify.map(async (n): Promise<NotifyOutcome> => {
      try {
        if (n.kind === 'message') {
          await client.api.v2010.accounts(config.accountSid).messages.create({ to: n.to, from: n.from, body: text });
          return { kind: n.kind, ok: true };
        }
        const res = await fetch(n.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...event, text }), signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
        return res.ok ? { kind: n.kind, ok: true } : { kind: n.kind, ok: false, detail: `HTTP ${res.status}` };
      } catch (error) {
        const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };
        const detail = typeof code === 'number' ? `Twilio error ${code}` : typeof status === 'number' ? `HTTP ${status}` : error instanceof Error ? error.name : 'failed';
        return { kind: n.kind, ok: false, detail };
      }
    }),
  );
}

export interface AccountFacts {
  readonly sid: string;
  readonly status: string;
  /** The parent's SID, for a subaccount. */
  readonly parentSid: string | undefined;
}

export async function accountFacts(client: Client, accountSid: string): Promise<AccountFacts> {
  const account = await client.api.v2010.accounts(accountSid).fetch();
  const owner = account.ownerAccountSid;
  return { sid: account.sid, status: account.status, parentSid: owner && owner !== account.sid ? owner : undefined };
}

/** Suspends the subaccount with the parent's client; true when it was active. */
export async function suspend(parent: Client, accountSid: string): Promise<boolean> {
  const account = await parent.api.v2010.accounts(accountSid).fetch();
  if (account.status !== 'active') return false;
  await parent.api.v2010.accounts(accountSid).update({ status: 'suspended' });
  return true;
}

/** Points the sender's incoming messages at the breaker itself (Twilio's documents allow no empty webhook); true when it changed. */
export async function holdSender(client: Client, config: BreakerConfig): Promise<boolean> {
  return (await pointSender(client, config.sender, config.selfUrl, false)).changed;
}

/** The account's flows the breaker stops: BREAKER_FLOWS (SIDs or friendly names), or every flow. */
export async function surveyFlows(client: Client, wanted: readonly string[] | undefined): Promise<string[]> {
  const flows = await client.studio.v2.flows.list({ pageSize: 50 });
  return flows.filter((f) => wanted === undefined || wanted.includes(f.sid) || wanted.includes(f.friendlyName)).map((f) => f.sid);
}

export async function activeExecutions(client: Client, flowSids: readonly string[]): Promise<Array<{ flowSid: string; sid: string }>> {
  const found: Array<{ flowSid: string; sid: string }> = [];
  for (const flowSid of flowSids) {
    for (const e of await client.studio.v2.flows(flowSid).executions.list({ status: 'active', pageSize: 1000 })) found.push({ flowSid, sid: e.sid });
  }
  return found;
}

export interface EndingLimits {
  /** At most this many; MAX_ENDED_PER_CALL when unset. */
  readonly max?: number;
  /** Stop starting new ones after this instant (ms since the epoch); no deadline when unset. */
  readonly until?: number;
  readonly now?: () => number;
}

/** The deadline for a callback that arrived at `startedAt`: the notification must still go out within Twilio's 10 s. */
export const callbackDeadline = (startedAt: number) => startedAt + ENDING_BUDGET_MS;

/** Ends active executions, a few at a time, within the limits; returns how many ended and how many are still active. */
export async function endExecutions(client: Client, flowSids: readonly string[], limits: EndingLimits = {}): Promise<{ ended: number; active: number }> {
  const { max = MAX_ENDED_PER_CALL, until, now = Date.now } = limits;
  const active = await activeExecutions(client, flowSids);
  const queue = active.slice(0, max);
  let ended = 0;
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (until !== undefined && now() > until) return;
      try {
        await client.studio.v2.flows(next.flowSid).executions(next.sid).update({ status: 'ended' });
        ended++;
      } catch (error) {
        // One that ended by itself meanwhile is fine; anything else stays active and is counted so.
        if ((error as { status?: unknown }).status === 404) ended++;
      }
    }
  };
  await Promise.all(Array.from({ length: ENDING_CONCURRENCY }, worker));
  return { ended, active: active.length - ended };
}
