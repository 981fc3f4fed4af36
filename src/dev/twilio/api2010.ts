// API 2010-04-01 for the Twilio stand-in: the account (for credential checks),
// IncomingPhoneNumbers (list with PhoneNumber/FriendlyName filters, fetch,
// update of the webhooks) and Messages (list with To/From/DateSent filters,
// fetch; tests seed them with addMessage and move them on with
// updateMessage), with the 2010 API's own page shape, `.json` paths and
// RFC 2822 dates, as twilio_api_v2010.json has them.
//
// Messages can be redacted and deleted as Twilio allows: POST with an empty
// Body redacts (any other Body is error 30400; a message still in flight,
// accepted/scheduled/queued/sending/receiving, cannot be redacted yet), and
// DELETE removes one only in a final state: otherwise 400, error 20009
// "Cannot delete this resource before it is complete" (the message Twilio
// gives reads "Cannot delete message in state SENT").

import {
  type ApiRequest,
  type Entry,
  invalid,
  newSid,
  notFound,
  optionalBoolean,
  optionalMethod,
  optionalUrl,
  page2010,
  type Params,
  rfc2822,
  type Route,
  TwilioError,
} from './http.js';
import { dateFilters } from './date-filter.js';

export interface PhoneNumberSeed {
  /** E.164, e.g. +15005550006. */
  readonly phoneNumber: string;
  readonly friendlyName?: string;
  readonly smsUrl?: string;
  readonly smsMethod?: 'GET' | 'POST';
  readonly voiceUrl?: string;
}

export interface PhoneNumberSnapshot {
  readonly sid: string;
  readonly phoneNumber: string;
  readonly friendlyName: string;
  readonly smsUrl: string | null;
  readonly smsMethod: string;
  readonly smsFallbackUrl: string | null;
  readonly smsApplicationSid: string | null;
  readonly voiceUrl: string | null;
  readonly voiceMethod: string;
  readonly statusCallback: string | null;
}

interface PhoneNumber {
  readonly sid: string;
  readonly seq: number;
  readonly phoneNumber: string;
  readonly created: string;
  updated: string;
  /** The updatable properties, under their body names. */
  readonly fields: Record<string, string | boolean | null>;
}

export type MessageStatus = 'accepted' | 'scheduled' | 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed' | 'receiving' | 'received' | 'canceled';

/** Statuses in which a message may be deleted: nothing will change it any more. */
export const FINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ['delivered', 'read', 'undelivered', 'failed', 'received', 'canceled'];
/** Statuses of a message Twilio is still handling: its body cannot be redacted yet. */
const IN_FLIGHT: readonly MessageStatus[] = ['accepted', 'scheduled', 'queued', 'sending', 'receiving'];
export type MessageDirection = 'inbound' | 'outbound-api' | 'outbound-reply';

export interface MessageSeed {
  readonly direction: MessageDirection;
  /** E.164 or a channel address (whatsapp:+2547…). */
  readonly from: string;
  readonly to: string;
  /** 'delivered' for outbound and 'received' for inbound when unset. */
  readonly status?: MessageStatus;
  readonly errorCode?: number;
  readonly body?: string;
  /** Milliseconds since the epoch; the stand-in's clock when unset. */
  readonly dateSent?: number;
}

export interface MessageSnapshot {
  readonly sid: string;
  readonly direction: MessageDirection;
  readonly from: string;
  readonly to: string;
  readonly status: MessageStatus;
  readonly errorCode: number | null;
  readonly dateSent: number;
  /** '' once redacted. */
  readonly body: string;
}

interface Message extends MessageSnapshot {
  readonly seq: number;
  readonly created: number;
  updated: number;
}

export interface Api2010Options {
  readonly accountSid: string;
  readonly authToken: string;
  readonly friendlyName: string;
  readonly clock: () => number;
  readonly seq: () => number;
  readonly phoneNumbers: readonly PhoneNumberSeed[];
  /** The account's status and parent (account-status.ts); active and its own parent when unset. */
  readonly accountState?: () => { readonly status: string; readonly ownerAccountSid: string };
}

export interface Api2010 {
  readonly routes: readonly Route[];
  snapshot(): PhoneNumberSnapshot[];
  /** The SID of a phone number the stand-in has, by E.164. */
  sidOf(phoneNumber: string): string | undefined;
  /** A message as Twilio would log it (an opener sent, a reply received); returns its SID. */
  addMessage(seed: MessageSeed): string;
  /** A message's later status (delivered, read, failed…) and error code. */
  updateMessage(sid: string, change: { status: MessageStatus; errorCode?: number | null }): void;
  messages(): MessageSnapshot[];
}

const ADDRESS = /^(?:[a-z]+:)?\+[1-9]\d{6,14}$/;

/** Short texts for the error codes tests use; Twilio's own error_message wording varies and is not for programs. */
const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  11200: 'HTTP retrieval failure',
  21211: "Invalid 'To' Phone Number",
  21610: 'Attempt to send to unsubscribed recipient',
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  63016: 'Failed to send freeform message because you are outside the allowed window',
  63018: 'Rate limit exceeded for Channel',
  63024: 'Invalid message recipient',
};

const E164 = /^\+[1-9]\d{6,14}$/;

/** Update parameters and how each is checked, by the property they set. */
const UPDATABLE: ReadonlyArray<[param: string, field: string, kind: 'text' | 'url' | 'method' | 'boolean' | 'sid']> = [
  ['FriendlyName', 'friendly_name', 'text'],
  ['SmsUrl', 'sms_url', 'url'],
  ['SmsMethod', 'sms_method', 'method'],
  ['SmsFallbackUrl', 'sms_fallback_url', 'url'],
  ['SmsFallbackMethod', 'sms_fallback_method', 'method'],
  ['SmsApplicationSid', 'sms_application_sid', 'sid'],
  ['VoiceUrl', 'voice_url', 'url'],
  ['VoiceMethod', 'voice_method', 'method'],
  ['VoiceFallbackUrl', 'voice_fallback_url', 'url'],
  ['VoiceFallbackMethod', 'voice_fallback_method', 'method'],
  ['VoiceApplicationSid', 'voice_application_sid', 'sid'],
  ['VoiceCallerIdLookup', 'voice_caller_id_lookup', 'boolean'],
  ['StatusCallback', 'status_callback', 'url'],
  ['StatusCallbackMethod', 'status_callback_method', 'method'],
];

/** Twilio's display form of a North American number, e.g. (500) 555-0006; others as given. */
const displayName = (e164: string) => {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
};

export function createApi2010(options: Api2010Options): Api2010 {
  const { accountSid, clock, seq } = options;
  const numbers = new Map<string, PhoneNumber>();
  const created = rfc2822(clock());

  for (const s of options.phoneNumbers) {
    if (!E164.test(s.phoneNumber)) throw new RangeError(`twilio-server: seed phone number ${s.phoneNumber} is not in E.164 form (+ and up to 15 digits)`);
    const now = rfc2822(clock());
    const sid = newSid('PN');
    numbers.set(sid, {
      sid,
      seq: seq(),
      phoneNumber: s.phoneNumber,
      created: now,
      updated: now,
      fields: {
        friendly_name: s.friendlyName ?? displayName(s.phoneNumber),
        sms_url: s.smsUrl ?? null,
        sms_method: s.smsMethod ?? 'POST',
        sms_fallback_url: null,
        sms_fallback_method: 'POST',
        sms_application_sid: null,
        voice_url: s.voiceUrl ?? null,
        voice_method: 'POST',
        voice_fallback_url: null,
        voice_fallback_method: 'POST',
        voice_application_sid: null,
        voice_caller_id_lookup: false,
        status_callback: null,
        status_callback_method: 'POST',
      },
    });
  }

  const messages = new Map<string, Message>();
  const accountPath = `/2010-04-01/Accounts/${accountSid}`;
  const messageBody = (m: Message) => {
    const uri = `${accountPath}/Messages/${m.sid}.json`;
    return {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: rfc2822(m.created),
      date_sent: rfc2822(m.dateSent),
      date_updated: rfc2822(m.updated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: m.errorCode === null ? null : (ERROR_MESSAGES[m.errorCode] ?? 'Error'),
      from: m.from,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `${accountPath}/Messages/${m.sid}/Media.json`, feedback: `${accountPath}/Messages/${m.sid}/Feedback.json` },
      to: m.to,
      uri,
    };
  };
  const numberBody = (n: PhoneNumber) => ({
    account_sid: accountSid,
    address_sid: null,
    address_requirements: 'none',
    api_version: '2010-04-01',
    beta: false,
    capabilities: { mms: true, sms: true, voice: true, fax: false },
    date_created: n.created,
    date_updated: n.updated,
    friendly_name: n.fields.friendly_name,
    identity_sid: null,
    phone_number: n.phoneNumber,
    origin: 'twilio',
    sid: n.sid,
    sms_application_sid: n.fields.sms_application_sid,
    sms_fallback_method: n.fields.sms_fallback_method,
    sms_fallback_url: n.fields.sms_fallback_url,
    sms_method: n.fields.sms_method,
    sms_url: n.fields.sms_url,
    status_callback: n.fields.status_callback,
    status_callback_method: n.fields.status_callback_method,
    trunk_sid: null,
    uri: `${accountPath}/IncomingPhoneNumbers/${n.sid}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: n.fields.voice_application_sid,
    voice_caller_id_lookup: n.fields.voice_caller_id_lookup,
    voice_fallback_method: n.fields.voice_fallback_method,
    voice_fallback_url: n.fields.voice_fallback_url,
    voice_method: n.fields.voice_method,
    voice_url: n.fields.voice_url,
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    bundle_sid: null,
    status: 'in-use',
    type: 'local',
  });

  /** The path's account must be the one that authenticated. */
  const ownAccount = (r: ApiRequest, sid: string) => {
    if (sid !== accountSid) throw notFound(r.path);
  };
  /** The message a path names, in the account that authenticated. */
  const findMessage = (r: ApiRequest, p: Params) => {
    ownAccount(r, p.AccountSid as string);
    const m = messages.get(p.Sid as string);
    if (!m) throw notFound(r.path);
    return m;
  };
  const findNumber = (r: ApiRequest, sid: string) => {
    const n = numbers.get(sid);
    if (!n) throw notFound(r.path);
    return n;
  };

  const SUBRESOURCES = ['available_phone_numbers', 'calls', 'conferences', 'incoming_phone_numbers', 'notifications', 'outgoing_caller_ids', 'recordings', 'transcriptions', 'addresses', 'signing_keys', 'connect_apps', 'sip', 'authorized_connect_apps', 'usage', 'keys', 'applications', 'short_codes', 'queues', 'messages', 'balance'];
  const camel = (snake: string) => snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:Sid.json',
      handle: (r, p) => {
        ownAccount(r, p.Sid as string);
        const state = options.accountState?.() ?? { status: 'active', ownerAccountSid: accountSid };
        return {
          status: 200,
          body: {
            auth_token: options.authToken,
            date_created: created,
            date_updated: created,
            friendly_name: options.friendlyName,
            owner_account_sid: state.ownerAccountSid,
            sid: accountSid,
            status: state.status,
            subresource_uris: Object.fromEntries(
              SUBRESOURCES.map((s) => [s, `${accountPath}/${s === 'short_codes' ? 'SMS/ShortCodes' : s === 'sip' ? 'SIP' : camel(s)}.json`]),
            ),
            type: 'Full',
            uri: `${accountPath}.json`,
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:AccountSid/IncomingPhoneNumbers.json',
      handle: (r, p) => {
        ownAccount(r, p.AccountSid as string);
        const wanted = r.query.get('PhoneNumber');
        const friendly = r.query.get('FriendlyName');
        // Twilio matches partial numbers, '*' standing for any digit.
        const pattern = wanted === null ? undefined : new RegExp(wanted.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '\\d'));
        const listed = [...numbers.values()].filter((n) => (!pattern || pattern.test(n.phoneNumber)) && (friendly === null || n.fields.friendly_name === friendly));
        return { status: 200, body: page2010('incoming_phone_numbers', listed.map((n): Entry => ({ seq: n.seq, body: numberBody(n) })), r) };
      },
    },
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json',
      handle: (r, p) => {
        ownAccount(r, p.AccountSid as string);
        return { status: 200, body: numberBody(findNumber(r, p.Sid as string)) };
      },
    },
    {
      method: 'POST',
      pattern: '/2010-04-01/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json',
      handle: (r, p) => {
        ownAccount(r, p.AccountSid as string);
        const n = findNumber(r, p.Sid as string);
        // Check every parameter before changing anything.
        const changes: Array<[string, string | boolean | null]> = [];
        for (const [param, field, kind] of UPDATABLE) {
          if (!r.form.has(param)) continue;
          const value =
            kind === 'url' ? optionalUrl(r.form, param) : kind === 'method' ? optionalMethod(r.form, param) : kind === 'boolean' ? optionalBoolean(r.form, param) : r.form.get(param);
          if (kind === 'sid' && value !== '' && !/^AP[0-9a-fA-F]{32}$/.test(String(value))) throw invalid(param, 'must be an Application SID (AP…) or empty');
          changes.push([field, value === '' && kind !== 'text' ? null : (value as string | boolean)]);
        }
        for (const [field, value] of changes) n.fields[field] = value;
        n.updated = rfc2822(clock());
        return { status: 200, body: numberBody(n) };
      },
    },
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:AccountSid/Messages.json',
      handle: (r, p) => {
        ownAccount(r, p.AccountSid as string);
        const to = r.query.get('To');
        const from = r.query.get('From');
        const tests = dateFilters<Message>(r.query, 'DateSent', (m) => m.dateSent);
        if (to !== null) tests.push((m) => m.to === to);
        if (from !== null) tests.push((m) => m.from === from);
        const listed = [...messages.values()].filter((m) => tests.every((t) => t(m)));
        return { status: 200, body: page2010('messages', listed.map((m): Entry => ({ seq: m.seq, body: messageBody(m) })), r) };
      },
    },
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:AccountSid/Messages/:Sid.json',
      handle: (r, p) => {
        const m = findMessage(r, p);
        return { status: 200, body: messageBody(m) };
      },
    },
    {
      method: 'POST',
      pattern: '/2010-04-01/Accounts/:AccountSid/Messages/:Sid.json',
      handle: (r, p) => {
        const m = findMessage(r, p);
        const body = r.form.get('Body');
        const status = r.form.get('Status');
        if ((body === null) === (status === null)) throw new TwilioError(400, 30400, 'Parameters are not valid: give either an empty Body (to redact) or Status=canceled');
        if (status !== null) {
          if (status !== 'canceled' || m.status !== 'scheduled') throw new TwilioError(400, 30409, 'This message cannot be canceled');
          messages.set(m.sid, { ...m, status: 'canceled', updated: clock() });
        } else {
          if (body !== '') throw new TwilioError(400, 30400, 'Parameters are not valid: a redaction must have an empty Body');
          if (IN_FLIGHT.includes(m.status)) throw new TwilioError(400, 20009, `Cannot redact message in state ${m.status.toUpperCase()}: wait until it is sent or received`);
          messages.set(m.sid, { ...m, body: '', updated: clock() });
        }
        return { status: 200, body: messageBody(messages.get(m.sid) as Message) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/2010-04-01/Accounts/:AccountSid/Messages/:Sid.json',
      handle: (r, p) => {
        const m = findMessage(r, p);
        if (!FINAL_MESSAGE_STATUSES.includes(m.status)) throw new TwilioError(400, 20009, `Cannot delete message in state ${m.status.toUpperCase()}`);
        messages.delete(m.sid);
        return { status: 204 };
      },
    },
  ];

  const snapshotOf = (m: Message): MessageSnapshot => ({ sid: m.sid, direction: m.direction, from: m.from, to: m.to, status: m.status, errorCode: m.errorCode, dateSent: m.dateSent, body: m.body });

  return {
    routes,
    addMessage(seed) {
      for (const address of [seed.from, seed.to]) if (!ADDRESS.test(address)) throw new RangeError(`twilio-server: message address ${address} is not E.164 or a channel address (whatsapp:+…)`);
      const now = clock();
      const sid = newSid('SM');
      messages.set(sid, {
        sid,
        seq: seq(),
        direction: seed.direction,
        from: seed.from,
        to: seed.to,
        status: seed.status ?? (seed.direction === 'inbound' ? 'received' : 'delivered'),
        errorCode: seed.errorCode ?? null,
        body: seed.body ?? '',
        dateSent: seed.dateSent ?? now,
        created: seed.dateSent ?? now,
        updated: now,
      });
      return sid;
    },
    updateMessage(sid, change) {
      const m = messages.get(sid);
      if (!m) throw new RangeError(`twilio-server: no message ${sid}`);
      messages.set(sid, { ...m, status: change.status, errorCode: change.errorCode === undefined ? m.errorCode : change.errorCode, updated: clock() });
    },
    messages: () => [...messages.values()].map(snapshotOf),
    snapshot: () =>
      [...numbers.values()].map((n) => ({
        sid: n.sid,
        phoneNumber: n.phoneNumber,
        friendlyName: n.fields.friendly_name as string,
        smsUrl: n.fields.sms_url as string | null,
        smsMethod: n.fields.sms_method as string,
        smsFallbackUrl: n.fields.sms_fallback_url as string | null,
        smsApplicationSid: n.fields.sms_application_sid as string | null,
        voiceUrl: n.fields.voice_url as string | null,
        voiceMethod: n.fields.voice_method as string,
        statusCallback: n.fields.status_callback as string | null,
      })),
    sidOf: (phoneNumber) => [...numbers.values()].find((n) => n.phoneNumber === phoneNumber)?.sid,
  };
}
