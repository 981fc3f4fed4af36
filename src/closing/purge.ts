// Removing the plaintext Twilio keeps of a closed round. For each ended
// execution whose row the sheet holds (not merely queued), ended at least
// `olderThanMs` ago: redact every message of its conversation (empty Body),
// delete each one in a final state, and delete the execution once none of its
// messages is left. A message still in flight (sent, queued…) cannot be
// deleted yet: it is counted and left for a later run. Twilio itself is the
// state, so a rerun (after Ctrl-C, a crash, or later for those messages)
// finds only what is left: nothing is deleted twice. Active and unconfirmed
// executions are never touched. Every request waits for the token bucket;
// 429s are retried by the client, then with a longer pause here.

import type TwilioSdk from 'twilio';
import type { TokenBucket } from '../launch/rate.js';
import { twilioFailure } from '../queue/sync-client.js';
import { conversationMessages, type ConversationMessage } from './conversation.js';
import type { RoundExecution } from './round.js';

/** Message statuses nothing will change any more: such a message can be deleted. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['delivered', 'read', 'undelivered', 'failed', 'received', 'canceled']);

/** Twilio is still handling these: neither redacted nor deleted yet. */
const IN_FLIGHT: ReadonlySet<string> = new Set(['accepted', 'scheduled', 'queued', 'sending', 'receiving']);
/** Twilio's "Cannot delete this resource before it is complete" (and for a redaction of a message in flight). */
const NOT_COMPLETE = 20009;
const THROTTLE_PAUSES_MS = [5_000, 15_000, 45_000];

export interface PurgeOptions {
  readonly flowSid: string;
  /** The sender's address; read from each execution's context (flow.channel.address) when unset. */
  readonly sender?: string | undefined;
  /** Only executions that ended at least this long ago. */
  readonly olderThanMs: number;
  readonly dryRun: boolean;
  readonly keepExecutions: boolean;
  readonly bucket: TokenBucket;
  readonly signal: AbortSignal;
  /** Executions handled at once. */
  readonly concurrency?: number;
  readonly now?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface PlannedExecution {
  readonly executionSid: string;
  readonly redact: number;
  readonly delete: number;
  /** Messages not yet in a final state: left for a later run. */
  readonly waiting: number;
  readonly deleteExecution: boolean;
}

export interface PurgeSummary {
  readonly eligible: number;
  readonly skipped: { readonly active: number; readonly unconfirmed: number; readonly recent: number };
  readonly redacted: number;
  readonly deleted: number;
  /** Messages left for a later run: not in a final state yet. */
  readonly retryLater: number;
  readonly executionsDeleted: number;
  /** Executions left because some of their messages remain (or --keep-executions). */
  readonly executionsKept: number;
  /** Executions that could not be finished, with why (no values): a rerun tries them again. */
  readonly failed: ReadonlyArray<{ readonly executionSid: string; readonly why: string }>;
  /** Dry run: what each eligible execution would get. */
  readonly plan: readonly PlannedExecution[];
  /** Stopped early (Ctrl-C): what is done is done, a rerun continues. */
  readonly stopped: boolean;
}

/** Which executions purge may touch: ended, with a row in the sheet, ended long enough ago. */
export function eligibleExecutions(executions: readonly RoundExecution[], confirmed: (sid: string) => boolean, olderThanMs: number, now: number) {
  const skipped = { active: 0, unconfirmed: 0, recent: 0 };
  const eligible: RoundExecution[] = [];
  for (const e of executions) {
    if (e.status !== 'ended') skipped.active++;
    else if (!confirmed(e.sid)) skipped.unconfirmed++;
    else if (now - (e.ended ?? e.created) < olderThanMs) skipped.recent++;
    else eligible.push(e);
  }
  return { eligible, skipped };
}

/** An execution purge cannot place: its message is written for the user. */
class NoSender extends Error {
  override readonly name = 'NoSender';
}

/** What went wrong, without Twilio's message (it may quote what was sent). */
function why(doing: string, error: unknown): string {
  const failure = twilioFailure(error);
  if (failure) return `${doing}: HTTP ${failure.status}${failure.code !== undefined ? `, Twilio error ${failure.code}` : ''}`;
  const code = (error as { code?: unknown } | null)?.code;
  return `${doing}: ${typeof code === 'string' ? code : error instanceof Error ? error.name : 'failed'}`;
}

/** The sender of an execution, from its context; the rest of the context (answers) is dropped at once. */
async function senderFromContext(twilio: TwilioSdk.Twilio, flowSid: string, executionSid: string): Promise<string | undefined> {
  const { context } = await twilio.studio.v2.flows(flowSid).executions(executionSid).executionContext().fetch();
  const address = (context as { flow?: { channel?: { address?: unknown } } } | null)?.flow?.channel?.address;
  return typeof address === 'string' && address !== '' ? address : undefined;
}

export async function purgeRound(twilio: TwilioSdk.Twilio, executions: readonly RoundExecution[], confirmed: (sid: string) => boolean, options: PurgeOptions): Promise<PurgeSummary> {
  const now = options.now ?? Date.now();
  const { eligible, skipped } = eligibleExecutions(executions, confirmed, options.olderThanMs, now);
  const { bucket, signal } = options;
  let redacted = 0;
  let deleted = 0;
  let retryLater = 0;
  let executionsDeleted = 0;
  let executionsKept = 0;
  const failed: Array<{ executionSid: string; why: string }> = [];
  const plan: PlannedExecution[] = [];

  /** One request, paced; a 429 that outlasted the client's own retries pauses everyone and is tried again. */
  async function call<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await bucket.take(signal);
      try {
        return await run();
      } catch (error) {
        const pause = THROTTLE_PAUSES_MS[attempt];
        if (twilioFailure(error)?.status !== 429 || pause === undefined) throw error;
        bucket.pauseFor(pause);
      }
    }
  }

  /** Redacts then deletes one message; 'waiting' when Twilio is not done with it yet. */
  async function messageStep(m: ConversationMessage, doing: { now: string }): Promise<'deleted' | 'waiting'> {
    const message = twilio.api.v2010.account.messages(m.sid);
    if (IN_FLIGHT.has(m.status)) return 'waiting';
    try {
      if (m.hasBody) {
        doing.now = 'redact a message';
        await call(() => message.update({ body: '' }));
        redacted++;
      }
      if (!FINAL_STATUSES.has(m.status)) return 'waiting';
      doing.now = 'delete a message';
      await call(() => message.remove());
      deleted++;
      return 'deleted';
    } catch (error) {
      const failure = twilioFailure(error);
      // Already gone (a run stopped after Twilio deleted it): never deleted again.
      if (failure?.status === 404) return 'deleted';
      if (failure?.code === NOT_COMPLETE) return 'waiting';
      throw error;
    }
  }

  async function purgeOne(e: RoundExecution, doing: { now: string }): Promise<void> {
    doing.now = "read the execution's sender";
    const sender = options.sender ?? (await call(() => senderFromContext(twilio, options.flowSid, e.sid)));
    if (sender === undefined) throw new NoSender("the execution's context names no sender (flow.channel.address): give --from");
    doing.now = "list the conversation's messages";
    const messages = await conversationMessages(twilio, e, sender, now, call);
    if (options.dryRun) {
      const waiting = messages.filter((m) => !FINAL_STATUSES.has(m.status)).length;
      plan.push({ executionSid: e.sid, redact: messages.filter((m) => m.hasBody && !IN_FLIGHT.has(m.status)).length, delete: messages.length - waiting, waiting, deleteExecution: waiting === 0 && !options.keepExecutions });
      return;
    }
    let left = 0;
    for (const m of messages) if ((await messageStep(m, doing)) === 'waiting') left++;
    retryLater += left;
    if (left > 0 || options.keepExecutions) {
      executionsKept++;
      return;
    }
    doing.now = 'delete the execution';
    try {
      await call(() => twilio.studio.v2.flows(options.flowSid).executions(e.sid).remove());
      executionsDeleted++;
    } catch (error) {
      if (twilioFailure(error)?.status !== 404) throw error;
    }
  }

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < eligible.length && !signal.aborted) {
      const e = eligible[next++] as RoundExecution;
      const doing = { now: '' };
      try {
        await purgeOne(e, doing);
      } catch (error) {
        if (signal.aborted) return;
        failed.push({ executionSid: e.sid, why: error instanceof NoSender ? error.message : why(doing.now, error) });
      }
      options.onProgress?.(++done, eligible.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, eligible.length)) }, worker));
  return { eligible: eligible.length, skipped, redacted, deleted, retryLater, executionsDeleted, executionsKept, failed, plan, stopped: signal.aborted };
}
