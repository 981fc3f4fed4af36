// Which messages belong to an execution's conversation: those between the
// execution's contact and the flow's sender, sent from a minute before the
// execution started to a few minutes after it ended. One execution per
// contact can be active at a time, so within that window the messages are
// this execution's; what the rule cannot tell apart is written in
// docs/CLOSING.md (a reply sent within the margin after the end belongs to
// whichever execution it reaches, or none).

import type TwilioSdk from 'twilio';
import type { RoundExecution } from './round.js';

/** Clocks differ; the opener can be logged a little before Studio's date_created. */
export const BEFORE_START_MS = 60_000;
/** Delivery and read receipts, and the last message's status, settle after the execution ends. */
export const AFTER_END_MS = 5 * 60_000;

export interface ConversationMessage {
  readonly sid: string;
  readonly status: string;
  /** Whether the body is still there (not yet redacted). */
  readonly hasBody: boolean;
}

/** +2547…, whatsapp:+2547…, messenger:… → the address without its channel prefix. */
export const bareAddress = (address: string) => address.trim().replace(/^[a-z]+:/i, '');

export function conversationWindow(execution: RoundExecution, now: number): { from: number; to: number } {
  return { from: execution.created - BEFORE_START_MS, to: (execution.ended ?? now) + AFTER_END_MS };
}

/** Runs one request (the caller paces it). */
export type Call = <T>(run: () => Promise<T>) => Promise<T>;

/**
 * The execution's messages, inbound and outbound, listed by contact and date
 * (two list requests, each through `call`) and kept when the other side is
 * `sender`. Bodies are not kept: only whether one is still there.
 */
export async function conversationMessages(twilio: TwilioSdk.Twilio, execution: RoundExecution, sender: string, now: number, call: Call = (run) => run()): Promise<ConversationMessage[]> {
  const window = conversationWindow(execution, now);
  const dates = { dateSentAfter: new Date(window.from), dateSentBefore: new Date(window.to) };
  const messages = twilio.api.v2010.account.messages;
  const to = await call(() => messages.list({ to: execution.contact, ...dates, pageSize: 1000 }));
  const from = await call(() => messages.list({ from: execution.contact, ...dates, pageSize: 1000 }));
  const ours = bareAddress(sender);
  const found = new Map<string, ConversationMessage>();
  for (const m of [...to, ...from]) {
    const other = bareAddress(m.to) === bareAddress(execution.contact) ? m.from : m.to;
    const sent = m.dateSent instanceof Date ? m.dateSent.getTime() : Number.NaN;
    if (bareAddress(other) !== ours || !(sent >= window.from && sent <= window.to)) continue;
    found.set(m.sid, { sid: m.sid, status: m.status, hasBody: (m.body ?? '') !== '' });
  }
  return [...found.values()];
}
