// --number: point a sender's incoming messages at the flow. A number in a
// Messaging Service takes its webhook from the service; otherwise from the
// phone number itself. The previous target is reported, so it can be undone.

import type TwilioSdk from 'twilio';

export interface WebhookChange {
  readonly owner: 'phone number' | 'messaging service';
  readonly sid: string;
  readonly previous: string | undefined;
  readonly target: string;
  readonly changed: boolean;
}

export class SenderNotFound extends Error {
  override readonly name = 'SenderNotFound';
}

/** Studio's webhook URL for a flow: what a sender's incoming-message handler calls. */
export function flowWebhook(accountSid: string, flowSid: string): string {
  return `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}`;
}

/** `whatsapp:+254…` or `+254…` → `+254…`; undefined when it is not an E.164 number. */
export function senderNumber(value: string): string | undefined {
  const number = value.trim().replace(/^whatsapp:/i, '');
  return /^\+[1-9][0-9]{6,14}$/.test(number) ? number : undefined;
}

/** Who owns a sender and where its incoming messages go: a Messaging Service (which then decides) or the phone number itself. */
export interface SenderOwner {
  readonly owner: 'phone number' | 'messaging service';
  readonly sid: string;
  /** The incoming-message webhook now; undefined when none is set. */
  readonly url: string | undefined;
}

/** The sender's owner in this account, or undefined when the account does not list it (a sender registered elsewhere). */
export async function senderOwner(twilio: TwilioSdk.Twilio, number: string): Promise<SenderOwner | undefined> {
  for (const service of await twilio.messaging.v1.services.list()) {
    const numbers = await twilio.messaging.v1.services(service.sid).phoneNumbers.list();
    if (numbers.some((n) => n.phoneNumber === number)) return { owner: 'messaging service', sid: service.sid, url: service.inboundRequestUrl ?? undefined };
  }
  const [owned] = await twilio.api.v2010.accounts(twilio.accountSid).incomingPhoneNumbers.list({ phoneNumber: number, limit: 1 });
  return owned ? { owner: 'phone number', sid: owned.sid, url: owned.smsUrl || undefined } : undefined;
}

export async function pointSender(twilio: TwilioSdk.Twilio, number: string, target: string, dryRun: boolean): Promise<WebhookChange> {
  const found = await senderOwner(twilio, number);
  if (!found) throw new SenderNotFound(`no phone number or Messaging Service of this account has …${number.slice(-4)}: check --number (a WhatsApp sender registered elsewhere is set in the Console: Messaging → Senders)`);
  const changed = found.url !== target;
  if (changed && !dryRun) {
    if (found.owner === 'messaging service') await twilio.messaging.v1.services(found.sid).update({ inboundRequestUrl: target, inboundMethod: 'POST' });
    else await twilio.api.v2010.accounts(twilio.accountSid).incomingPhoneNumbers(found.sid).update({ smsUrl: target, smsMethod: 'POST' });
  }
  return { owner: found.owner, sid: found.sid, previous: found.url, target, changed };
}
