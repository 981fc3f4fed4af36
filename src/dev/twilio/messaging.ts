// Messaging v1 for the Twilio stand-in: Messaging Services (list, fetch,
// update of the inbound webhook), their PhoneNumbers and ChannelSenders (a
// WhatsApp sender is "whatsapp:+…"), as twilio_messaging_v1.json has them.
// Services and their senders come from the seed: nothing here creates them.

import {
  type ApiRequest,
  type Entry,
  invalid,
  iso,
  newSid,
  notFound,
  optionalBoolean,
  optionalMethod,
  optionalUrl,
  pageV1,
  type Route,
} from './http.js';

export interface MessagingServiceSeed {
  readonly friendlyName: string;
  readonly inboundRequestUrl?: string;
  readonly useInboundWebhookOnNumber?: boolean;
  /** E.164 numbers of the seeded phone numbers that belong to the service. */
  readonly phoneNumbers?: readonly string[];
  /** Channel senders, e.g. whatsapp:+15005550006. */
  readonly senders?: readonly string[];
}

export interface MessagingServiceSnapshot {
  readonly sid: string;
  readonly friendlyName: string;
  readonly inboundRequestUrl: string | null;
  readonly inboundMethod: string;
  readonly fallbackUrl: string | null;
  readonly useInboundWebhookOnNumber: boolean;
  readonly phoneNumbers: ReadonlyArray<{ readonly sid: string; readonly phoneNumber: string }>;
  readonly senders: ReadonlyArray<{ readonly sid: string; readonly sender: string }>;
}

interface Sender {
  readonly sid: string;
  readonly seq: number;
  readonly sender: string;
}

interface Service {
  readonly sid: string;
  readonly seq: number;
  readonly created: string;
  updated: string;
  friendlyName: string;
  inboundRequestUrl: string | null;
  inboundMethod: string;
  fallbackUrl: string | null;
  fallbackMethod: string;
  statusCallback: string | null;
  useInboundWebhookOnNumber: boolean;
  readonly phoneNumbers: Sender[];
  readonly senders: Sender[];
}

export interface MessagingOptions {
  readonly accountSid: string;
  readonly clock: () => number;
  readonly seq: () => number;
  readonly services: readonly MessagingServiceSeed[];
  /** The SID of a seeded phone number, by E.164. */
  readonly phoneNumberSid: (phoneNumber: string) => string | undefined;
}

export interface Messaging {
  readonly routes: readonly Route[];
  snapshot(): MessagingServiceSnapshot[];
}

const SENDER = /^(whatsapp|messenger|rcs):\S+$/;

export function createMessaging(options: MessagingOptions): Messaging {
  const { accountSid, clock, seq } = options;
  const services = new Map<string, Service>();
  for (const s of options.services) {
    const now = iso(clock());
    const phoneNumbers = (s.phoneNumbers ?? []).map((e164) => {
      const sid = options.phoneNumberSid(e164);
      if (!sid) throw new RangeError(`twilio-server: messaging service "${s.friendlyName}" names ${e164}, which is not among the seeded phone numbers`);
      return { sid, seq: seq(), sender: e164 };
    });
    const senders = (s.senders ?? []).map((sender) => {
      if (!SENDER.test(sender)) throw new RangeError(`twilio-server: messaging service "${s.friendlyName}": sender ${sender} is not channel:address (e.g. whatsapp:+15005550006)`);
      return { sid: newSid('XE'), seq: seq(), sender };
    });
    const sid = newSid('MG');
    services.set(sid, {
      sid,
      seq: seq(),
      created: now,
      updated: now,
      friendlyName: s.friendlyName,
      inboundRequestUrl: s.inboundRequestUrl ?? null,
      inboundMethod: 'POST',
      fallbackUrl: null,
      fallbackMethod: 'POST',
      statusCallback: null,
      useInboundWebhookOnNumber: s.useInboundWebhookOnNumber ?? false,
      phoneNumbers,
      senders,
    });
  }

  const serviceUrl = (r: ApiRequest, s: Service) => `${r.base}/v1/Services/${s.sid}`;
  const serviceBody = (r: ApiRequest, s: Service) => {
    const url = serviceUrl(r, s);
    return {
      sid: s.sid,
      account_sid: accountSid,
      friendly_name: s.friendlyName,
      date_created: s.created,
      date_updated: s.updated,
      inbound_request_url: s.inboundRequestUrl,
      inbound_method: s.inboundMethod,
      fallback_url: s.fallbackUrl,
      fallback_method: s.fallbackMethod,
      status_callback: s.statusCallback,
      sticky_sender: true,
      mms_converter: true,
      smart_encoding: true,
      scan_message_content: 'inherit',
      fallback_to_long_code: true,
      area_code_geomatch: true,
      synchronous_validation: false,
      validity_period: 14400,
      url,
      links: {
        phone_numbers: `${url}/PhoneNumbers`,
        short_codes: `${url}/ShortCodes`,
        alpha_senders: `${url}/AlphaSenders`,
        messages: `${url}/Messages`,
        us_app_to_person: `${url}/Compliance/Usa2p`,
        us_app_to_person_usecases: `${url}/Compliance/Usa2p/Usecases`,
        channel_senders: `${url}/ChannelSenders`,
        destination_alpha_senders: `${url}/DestinationAlphaSenders`,
      },
      usecase: 'undeclared',
      us_app_to_person_registered: false,
      use_inbound_webhook_on_number: s.useInboundWebhookOnNumber,
    };
  };
  const phoneNumberBody = (r: ApiRequest, s: Service, n: Sender) => ({
    sid: n.sid,
    account_sid: accountSid,
    service_sid: s.sid,
    date_created: s.created,
    date_updated: s.created,
    phone_number: n.sender,
    country_code: n.sender.startsWith('+1') ? 'US' : null,
    capabilities: ['SMS', 'MMS', 'Voice'],
    url: `${serviceUrl(r, s)}/PhoneNumbers/${n.sid}`,
  });
  const senderBody = (r: ApiRequest, s: Service, x: Sender) => ({
    account_sid: accountSid,
    messaging_service_sid: s.sid,
    sid: x.sid,
    sender: x.sender,
    sender_type: ({ whatsapp: 'WhatsApp', messenger: 'Messenger', rcs: 'RCS' } as Record<string, string>)[x.sender.split(':')[0] as string] ?? null,
    country_code: x.sender.includes(':+1') ? 'US' : null,
    date_created: s.created,
    date_updated: s.created,
    url: `${serviceUrl(r, s)}/ChannelSenders/${x.sid}`,
  });
  const findService = (r: ApiRequest, sid: string) => {
    const s = services.get(sid);
    if (!s) throw notFound(r.path);
    return s;
  };
  const findIn = (r: ApiRequest, list: readonly Sender[], sid: string) => {
    const found = list.find((x) => x.sid === sid);
    if (!found) throw notFound(r.path);
    return found;
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/v1/Services',
      handle: (r) => ({ status: 200, body: pageV1('services', [...services.values()].map((s): Entry => ({ seq: s.seq, body: serviceBody(r, s) })), r) }),
    },
    { method: 'GET', pattern: '/v1/Services/:Sid', handle: (r, p) => ({ status: 200, body: serviceBody(r, findService(r, p.Sid as string)) }) },
    {
      method: 'POST',
      pattern: '/v1/Services/:Sid',
      handle: (r, p) => {
        const s = findService(r, p.Sid as string);
        const friendlyName = r.form.get('FriendlyName');
        if (friendlyName !== null && (friendlyName === '' || friendlyName.length > 64)) throw invalid('FriendlyName', '1 to 64 characters');
        const inbound = optionalUrl(r.form, 'InboundRequestUrl');
        const inboundMethod = optionalMethod(r.form, 'InboundMethod');
        const fallback = optionalUrl(r.form, 'FallbackUrl');
        const fallbackMethod = optionalMethod(r.form, 'FallbackMethod');
        const statusCallback = optionalUrl(r.form, 'StatusCallback');
        const onNumber = optionalBoolean(r.form, 'UseInboundWebhookOnNumber');
        if (friendlyName !== null) s.friendlyName = friendlyName;
        if (inbound !== undefined) s.inboundRequestUrl = inbound === '' ? null : inbound;
        if (inboundMethod !== undefined) s.inboundMethod = inboundMethod;
        if (fallback !== undefined) s.fallbackUrl = fallback === '' ? null : fallback;
        if (fallbackMethod !== undefined) s.fallbackMethod = fallbackMethod;
        if (statusCallback !== undefined) s.statusCallback = statusCallback === '' ? null : statusCallback;
        if (onNumber !== undefined) s.useInboundWebhookOnNumber = onNumber;
        s.updated = iso(clock());
        return { status: 200, body: serviceBody(r, s) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/PhoneNumbers',
      handle: (r, p) => {
        const s = findService(r, p.ServiceSid as string);
        return { status: 200, body: pageV1('phone_numbers', s.phoneNumbers.map((n): Entry => ({ seq: n.seq, body: phoneNumberBody(r, s, n) })), r) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/PhoneNumbers/:Sid',
      handle: (r, p) => {
        const s = findService(r, p.ServiceSid as string);
        return { status: 200, body: phoneNumberBody(r, s, findIn(r, s.phoneNumbers, p.Sid as string)) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:MessagingServiceSid/ChannelSenders',
      handle: (r, p) => {
        const s = findService(r, p.MessagingServiceSid as string);
        return { status: 200, body: pageV1('senders', s.senders.map((x): Entry => ({ seq: x.seq, body: senderBody(r, s, x) })), r) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:MessagingServiceSid/ChannelSenders/:Sid',
      handle: (r, p) => {
        const s = findService(r, p.MessagingServiceSid as string);
        return { status: 200, body: senderBody(r, s, findIn(r, s.senders, p.Sid as string)) };
      },
    },
  ];

  return {
    routes,
    snapshot: () =>
      [...services.values()].map((s) => ({
        sid: s.sid,
        friendlyName: s.friendlyName,
        inboundRequestUrl: s.inboundRequestUrl,
        inboundMethod: s.inboundMethod,
        fallbackUrl: s.fallbackUrl,
        useInboundWebhookOnNumber: s.useInboundWebhookOnNumber,
        phoneNumbers: s.phoneNumbers.map((n) => ({ sid: n.sid, phoneNumber: n.sender })),
        senders: s.senders.map((x) => ({ sid: x.sid, sender: x.sender })),
      })),
  };
}
