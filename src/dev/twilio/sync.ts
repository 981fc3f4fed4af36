// Sync v1 for the Twilio stand-in: Sync Services (list, create, fetch) here,
// and everything below a service (Maps, Lists and their Items) handed to the
// project's Sync stand-in (src/dev/sync-server.ts), whose absolute URLs are
// rewritten onto the public base. A service created here is added to the
// services the Sync stand-in knows (addService).

import { startSyncServer, type RunningSyncServer } from '../sync-server.js';
import { type ApiRequest, type Entry, iso, newSid, notFound, optionalBoolean, optionalUrl, pageV1, type Route, TwilioError } from './http.js';

interface Service {
  readonly sid: string;
  readonly seq: number;
  readonly friendlyName: string | null;
  readonly webhookUrl: string | null;
  readonly aclEnabled: boolean;
  readonly created: string;
}

export interface SyncServiceSnapshot {
  readonly sid: string;
  readonly friendlyName: string | null;
}

export interface SyncOptions {
  readonly accountSid: string;
  readonly authToken: string;
  readonly clock: () => number;
  readonly seq: () => number;
  /** Sync services that exist from the start, by friendly name. */
  readonly services: readonly string[];
}

export interface Sync {
  readonly routes: readonly Route[];
  /** Requests below a service (Maps, Lists, Items), for the Sync stand-in; 'reset' when it could not answer (the client's connection is then dropped). */
  forward(request: ApiRequest, method: string): Promise<{ status: number; body?: unknown } | 'reset'>;
  snapshot(): SyncServiceSnapshot[];
  readonly server: RunningSyncServer;
  stop(): Promise<void>;
}

export async function createSync(options: SyncOptions): Promise<Sync> {
  const { accountSid, clock, seq } = options;
  const services = new Map<string, Service>();
  const seeded: string[] = [];
  let server: RunningSyncServer | undefined;
  const add = (friendlyName: string | null, webhookUrl: string | null, aclEnabled: boolean) => {
    const service: Service = { sid: newSid('IS'), seq: seq(), friendlyName, webhookUrl, aclEnabled, created: iso(clock()) };
    services.set(service.sid, service);
    if (server) server.addService(service.sid);
    else seeded.push(service.sid);
    return service;
  };
  for (const name of options.services) add(name, null, false);
  server = await startSyncServer({ accountSid, authToken: options.authToken, serviceSids: seeded, clock });
  const auth = `Basic ${Buffer.from(`${accountSid}:${options.authToken}`).toString('base64')}`;

  const serviceBody = (r: ApiRequest, s: Service) => {
    const url = `${r.base}/v1/Services/${s.sid}`;
    return {
      sid: s.sid,
      unique_name: null,
      account_sid: accountSid,
      friendly_name: s.friendlyName,
      date_created: s.created,
      date_updated: s.created,
      url,
      webhook_url: s.webhookUrl,
      webhooks_from_rest_enabled: false,
      reachability_webhooks_enabled: false,
      acl_enabled: s.aclEnabled,
      reachability_debouncing_enabled: false,
      reachability_debouncing_window: 5000,
      links: { documents: `${url}/Documents`, lists: `${url}/Lists`, maps: `${url}/Maps`, streams: `${url}/Streams` },
    };
  };
  const findService = (r: ApiRequest, sid: string) => {
    const s = services.get(sid);
    if (!s) throw notFound(r.path);
    return s;
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/v1/Services',
      handle: (r) => ({ status: 200, body: pageV1('services', [...services.values()].map((s): Entry => ({ seq: s.seq, body: serviceBody(r, s) })), r) }),
    },
    {
      method: 'POST',
      pattern: '/v1/Services',
      handle: (r) => {
        const friendlyName = r.form.get('FriendlyName');
        if (friendlyName !== null && friendlyName.length > 255) throw new TwilioError(400, 20001, 'Invalid parameter FriendlyName: up to 255 characters');
        const webhookUrl = optionalUrl(r.form, 'WebhookUrl');
        const service = add(friendlyName, webhookUrl || null, optionalBoolean(r.form, 'AclEnabled') ?? false);
        return { status: 201, body: serviceBody(r, service) };
      },
    },
    { method: 'GET', pattern: '/v1/Services/:Sid', handle: (r, p) => ({ status: 200, body: serviceBody(r, findService(r, p.Sid as string)) }) },
  ];

  return {
    routes,
    async forward(r, method) {
      let answer: Response;
      try {
        answer = await fetch(`${server.url}${r.path}${r.query.size > 0 ? `?${r.query}` : ''}`, {
          method,
          headers: { authorization: auth, ...(r.body.length > 0 ? { 'content-type': r.contentType } : {}) },
          ...(r.body.length > 0 ? { body: new Uint8Array(r.body) } : {}),
        });
      } catch {
        return 'reset';
      }
      const text = await answer.text();
      if (text === '') return { status: answer.status };
      return { status: answer.status, body: JSON.parse(text.replaceAll(server.url, r.base)) };
    },
    snapshot: () => [...services.values()].map((s) => ({ sid: s.sid, friendlyName: s.friendlyName })),
    server,
    stop: () => server.stop(),
  };
}
