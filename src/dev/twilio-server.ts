// A local, stateful stand-in for the Twilio REST API endpoints that deploy,
// doctor and flow pull use, for tests and offline runs. Every product lives
// under its own path prefix, the layout TWILIO_API_URL gives the clients
// (src/twilio/client.ts): /serverless, /serverless-upload, /studio, /api, /accounts,
// /messaging and /sync. Bodies follow Twilio's OpenAPI documents
// (tests/contracts/twilio-oai/), errors Twilio's {code, message, more_info,
// status}, lists Twilio's paging; Basic auth with the account SID and auth
// token, or an API key and secret the stand-in was given.
//
// Faults (options.faults or setFaults) make a share of the requests, or the
// next `count` matching ones, fail before anything changes:
//   setFaults({ kinds: [429], count: 2, retryAfterSeconds: 1 })      the next two requests answer 429
//   setFaults({ kinds: [503], rate: 0.2, seed: 7, only: { product: 'studio' } })
//   setFaults({ kinds: ['reset'], count: 1, only: { product: 'serverless-upload' } })
// 'reset' drops the connection; 'bad-body' carries the request out and then
// answers a body no document allows (to prove a contract check sees it).

import { FaultPicker, type FaultPlan } from './fault-picker.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Product } from '../twilio/client.js';
import { type AccountState, type AccountStatus, createAccountStatus } from './twilio/account-status.js';
import { createAccounts, type PublicKeySnapshot } from './twilio/accounts.js';
import { createRecordings, type RecordingSeed, type RecordingSnapshot } from './twilio/recordings.js';
import { createApi2010, type MessageSeed, type MessageSnapshot, type MessageStatus, type PhoneNumberSeed, type PhoneNumberSnapshot } from './twilio/api2010.js';
import { type ApiRequest, counter, findRoute, type Reply, type Route, TwilioError } from './twilio/http.js';
import { createMessaging, type MessagingServiceSeed, type MessagingServiceSnapshot } from './twilio/messaging.js';
import { createServerless, type ServerlessServiceSnapshot } from './twilio/serverless.js';
import { createStudio, type ExecutionSeed, type FlowSnapshot, type FlowStatus } from './twilio/studio.js';
import { createSync, type SyncServiceSnapshot } from './twilio/sync.js';
import { createUsage, type UsageTriggerSnapshot } from './twilio/usage.js';
import type { RunningSyncServer } from './sync-server.js';

export type { ExecutionSeed, FlowSnapshot, MessageSeed, MessageSnapshot, MessageStatus, MessagingServiceSeed, MessagingServiceSnapshot, PhoneNumberSeed, PhoneNumberSnapshot, PublicKeySnapshot, RecordingSeed, RecordingSnapshot, ServerlessServiceSnapshot, SyncServiceSnapshot };

/** Uploads are up to 10 MB; anything else is a small form. */
const MAX_BODY_BYTES = 12 * 1024 * 1024;

export type TwilioFaultKind = 429 | 500 | 502 | 503 | 504 | 'reset' | 'bad-body';
export const TWILIO_FAULT_KINDS: readonly TwilioFaultKind[] = [429, 500, 502, 503, 504, 'reset', 'bad-body'];

/** Kinds chosen uniformly for each failing request (rate, count and seed: FaultPlan). */
export interface TwilioFaults extends FaultPlan<TwilioFaultKind> {
  /** Only requests with this method, to this product, and/or whose path (within the product) matches can fail. */
  readonly only?: { readonly method?: 'GET' | 'POST' | 'DELETE'; readonly product?: Product; readonly path?: RegExp };
  /** Retry-After (seconds) on 429 answers; none when unset (Twilio does not promise one). */
  readonly retryAfterSeconds?: number;
}

export interface TwilioServerOptions {
  readonly port?: number;
  readonly accountSid: string;
  readonly authToken: string;
  /** API keys (SK…) and their secrets that authenticate for the account. */
  readonly apiKeys?: ReadonlyArray<{ readonly sid: string; readonly secret: string }>;
  /** The base every URL in a body starts with (a proxy in front); the server's own URL when unset. */
  readonly publicUrl?: string;
  readonly accountName?: string;
  readonly phoneNumbers?: readonly PhoneNumberSeed[];
  readonly messagingServices?: readonly MessagingServiceSeed[];
  /** Sync services that exist from the start, by friendly name. */
  readonly syncServices?: readonly string[];
  /** Fetches of a new build (or its status) that still see `building`; 1 when unset (serverless-api then waits 1 s once). */
  readonly buildingFetches?: number;
  readonly faults?: TwilioFaults;
  /** Makes the account a subaccount of this parent, whose credentials also authenticate (and alone change the subaccount's status). */
  readonly owner?: { readonly accountSid: string; readonly authToken: string; readonly apiKeys?: ReadonlyArray<{ readonly sid: string; readonly secret: string }> };
  /** ISO 4217 code of the account's prices (Usage Records); USD when unset. */
  readonly currency?: string;
  /** Milliseconds since the epoch for timestamps (and Sync item expiry); Date.now when unset. */
  readonly clock?: () => number;
}

export interface RequestRecord {
  readonly method: string;
  readonly product: string;
  /** The path within the product, e.g. /v1/Services. */
  readonly path: string;
  readonly query: string;
  /** The status answered; 0 for a dropped connection. */
  readonly status: number;
  readonly fault?: string;
}

export interface RunningTwilioServer {
  readonly url: string;
  readonly port: number;
  /** Serverless services with their environments, variables, deployments, builds and every uploaded version. */
  serverless(): ServerlessServiceSnapshot[];
  /** Studio flows with every revision. */
  flows(): FlowSnapshot[];
  /** Seeds a Studio execution as a round leaves it (contact, sender, status, steps, times); returns its SID. */
  addExecution(seed: ExecutionSeed): string;
  phoneNumbers(): PhoneNumberSnapshot[];
  /** Messages (API 2010): seed one as Twilio would log it, move it on (delivered, read, failed…), list them. */
  addMessage(seed: MessageSeed): string;
  updateMessage(sid: string, change: { status: MessageStatus; errorCode?: number | null }): void;
  messages(): MessageSnapshot[];
  /** Recordings (API 2010): seed one as a call would leave it, encrypted as Voice Recording Encryption does when given a public key. */
  addRecording(seed: RecordingSeed): string;
  recordings(): RecordingSnapshot[];
  /** Accounts v1 Credentials/PublicKeys, with the PEM each was created with. */
  publicKeys(): PublicKeySnapshot[];
  messagingServices(): MessagingServiceSnapshot[];
  syncServices(): SyncServiceSnapshot[];
  /** The Sync stand-in behind /sync (its maps, lists and own faults). */
  readonly sync: RunningSyncServer;
  /** A revision made by a person in the Console: a user as author and no commit message unless given. */
  consoleEdit(flowSid: string, change: { definition?: unknown; status?: FlowStatus; commitMessage?: string | null }): void;
  /** How builds created from now on end, and after how many fetches. */
  setBuildOutcome(outcome: 'completed' | 'failed', buildingFetches?: number): void;
  /** Usage Triggers, their spend (price triggers and the totalprice record) and firing them (the callback's URL and parameters). */
  usageTriggers(): UsageTriggerSnapshot[];
  setSpend(amount: number): void;
  fireUsageTrigger(sid: string): { url: string; method: string; params: Record<string, string> };
  /** The account's status and parent; setAccountStatus as the parent would change it. */
  account(): AccountState;
  setAccountStatus(status: AccountStatus): void;
  /** Requests received so far, in order (refused and faulted ones included). */
  requests(): RequestRecord[];
  /** Replaces the fault options (restarting the seeded sequence and the count); undefined turns faults off. */
  setFaults(faults: TwilioFaults | undefined): void;
  /** Faults injected since the start, by kind (setFaults does not reset it). */
  faultsInjected(): Record<string, number>;
  stop(): Promise<void>;
}

function checkFaults(f: TwilioFaults | undefined): void {
  if (!f) return;
  const bad = (what: string) => {
    throw new RangeError(`twilio-server faults: ${what}`);
  };
  if (f.kinds.length === 0) bad('kinds must name at least one fault');
  for (const k of f.kinds) if (!TWILIO_FAULT_KINDS.includes(k)) bad(`unknown fault kind ${String(k)}`);
  if (f.rate !== undefined && !(f.rate >= 0 && f.rate <= 1)) bad('rate must be from 0 to 1');
  if (f.count !== undefined && !(Number.isInteger(f.count) && f.count >= 0)) bad('count must be a whole number ≥ 0');
  if (f.retryAfterSeconds !== undefined && !(f.retryAfterSeconds >= 0)) bad('retryAfterSeconds must be ≥ 0');
}

function basicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new TwilioError(413, 20001, 'Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function startTwilioServer(options: TwilioServerOptions): Promise<RunningTwilioServer> {
  if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new RangeError('twilio-server: accountSid must be an Account SID (AC + 32 hex digits)');
  for (const key of options.apiKeys ?? []) if (!/^SK[0-9a-fA-F]{32}$/.test(key.sid)) throw new RangeError('twilio-server: API key SIDs are SK + 32 hex digits');
  const clock = options.clock ?? Date.now;
  const seq = counter();
  const { accountSid, authToken } = options;

  const serverless = createServerless({ accountSid, clock, seq, ...(options.buildingFetches !== undefined ? { buildingFetches: options.buildingFetches } : {}) });
  const studio = createStudio({ accountSid, clock, seq });
  // account-status decides what api2010's account route answers, and answers its updates with that route's body.
  const accountStatus = createAccountStatus({ accountSid, ...(options.owner ? { ownerAccountSid: options.owner.accountSid } : {}), api2010: () => api.routes, addMessage: (seed) => api.addMessage(seed) });
  const api = createApi2010({ accountSid, authToken, friendlyName: options.accountName ?? 'sealed-survey test account', clock, seq, phoneNumbers: options.phoneNumbers ?? [], accountState: accountStatus.state });
  const usage = createUsage({ accountSid, clock, seq, ...(options.currency !== undefined ? { currency: options.currency } : {}) });
  const messaging = createMessaging({ accountSid, clock, seq, services: options.messagingServices ?? [], phoneNumberSid: api.sidOf });
  const recordings = createRecordings({ accountSid, clock, seq });
  const accounts = createAccounts({ accountSid, clock, seq });
  const sync = await createSync({ accountSid, authToken, clock, seq, services: options.syncServices ?? [] });

  const routes: Record<Product, readonly Route[]> = {
    serverless: serverless.routes,
    'serverless-upload': serverless.uploadRoutes,
    studio: studio.routes,
    api: [...api.routes, ...accountStatus.routes, ...usage.routes, ...recordings.routes],
    accounts: accounts.routes,
    messaging: messaging.routes,
    sync: sync.routes,
  };

  const records: RequestRecord[] = [];
  const faults = new FaultPicker<TwilioFaultKind, TwilioFaults>();
  const setFaults = (f: TwilioFaults | undefined) => {
    checkFaults(f);
    faults.set(f);
  };
  setFaults(options.faults);

  const chooseFault = (method: string, product: string, path: string): TwilioFaultKind | undefined =>
    faults.pick(({ only = {} }) => (only.method === undefined || only.method === method) && (only.product === undefined || only.product === product) && (only.path === undefined || only.path.test(path)));

  const principal = (header: string | undefined): string | undefined => {
    const creds = basicAuth(header);
    if (!creds) return undefined;
    if (creds.user === accountSid && creds.password === authToken) return accountSid;
    const owner = options.owner;
    if (owner && ((creds.user === owner.accountSid && creds.password === owner.authToken) || owner.apiKeys?.some((k) => k.sid === creds.user && k.secret === creds.password))) return owner.accountSid;
    const key = options.apiKeys?.find((k) => k.sid === creds.user);
    return key && key.secret === creds.password ? key.sid : undefined;
  };

  const send = (res: ServerResponse, reply: Reply, headers: Record<string, string> = {}) => {
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    if (Buffer.isBuffer(reply.body)) {
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/octet-stream', 'content-length': String(reply.body.length), ...headers }).end(reply.body);
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
  };

  async function answer(req: IncomingMessage, method: string, url: URL, publicUrl: string, record: (status: number, fault?: string) => void, res: ServerResponse): Promise<void> {
    const [, product = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const productRoutes = (routes as Record<string, readonly Route[] | undefined>)[product];
    const fault = chooseFault(method, product, path);
    if (fault === 'reset') {
      record(0, 'reset');
      req.socket.resetAndDestroy();
      return;
    }
    if (typeof fault === 'number') {
      req.resume();
      const error = fault === 429 ? new TwilioError(429, 20429, 'Too Many Requests') : new TwilioError(fault, 20500, 'Internal Server Error');
      record(fault, String(fault));
      const retryAfter = fault === 429 && faults.current?.retryAfterSeconds !== undefined ? { 'retry-after': String(faults.current.retryAfterSeconds) } : undefined;
      send(res, { status: fault, body: error.body() }, retryAfter);
      return;
    }
    const who = principal(req.headers.authorization);
    if (!who) {
      // Drain the body so the client sees the answer rather than a reset.
      req.resume();
      record(401);
      send(res, { status: 401, body: new TwilioError(401, 20003, 'Authenticate').body() }, { 'www-authenticate': 'Basic realm="Twilio API"' });
      return;
    }
    const body = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    const request: ApiRequest = {
      method,
      path,
      query: url.searchParams,
      form: /^application\/x-www-form-urlencoded\b/i.test(contentType) ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams(),
      body,
      contentType,
      base: `${publicUrl}/${product}`,
      principal: who,
    };
    let reply: Reply;
    const found = productRoutes ? findRoute(productRoutes, method, path) : undefined;
    if (found === 'method') throw new TwilioError(405, 20004, 'Method not allowed');
    if (found) {
      reply = await found.route.handle(request, found.params);
    } else if (product === 'sync' && /^\/v1\/Services\/[^/]+\/(Maps|Lists)(\/|$)/.test(path)) {
      const forwarded = await sync.forward(request, method);
      if (forwarded === 'reset') {
        record(0, 'reset');
        req.socket.destroy();
        return;
      }
      reply = forwarded;
    } else {
      throw new TwilioError(404, 20404, `The requested resource ${url.pathname} was not found (the local Twilio stand-in serves ${Object.keys(routes).map((p) => `/${p}`).join(', ')})`);
    }
    if (fault === 'bad-body' && reply.body !== undefined) reply = { status: reply.status, body: { sid: 42, unexpected: 'a body no Twilio document allows' } };
    record(reply.status, fault);
    send(res, reply);
  }

  let publicUrl = options.publicUrl?.replace(/\/+$/, '');
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const [, product = ''] = url.pathname.split('/');
    let recorded = false;
    const record = (status: number, fault?: string) => {
      recorded = true;
      records.push({ method, product, path: url.pathname.slice(product.length + 1) || '/', query: url.search, status, ...(fault !== undefined ? { fault } : {}) });
    };
    answer(req, method, url, publicUrl as string, record, res).catch((error: unknown) => {
      const e = error instanceof TwilioError ? error : new TwilioError(500, 20500, `Internal Server Error (${error instanceof Error ? error.name : typeof error})`);
      if (!recorded) record(e.status);
      if (!res.headersSent) send(res, { status: e.status, body: e.body() });
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  publicUrl ??= url;

  return {
    url,
    port,
    serverless: () => serverless.snapshot(),
    flows: () => studio.snapshot(),
    addExecution: (seed) => studio.addExecution(seed),
    phoneNumbers: () => api.snapshot(),
    addMessage: (seed) => api.addMessage(seed),
    updateMessage: (sid, change) => api.updateMessage(sid, change),
    messages: () => api.messages(),
    addRecording: (seed) => recordings.addRecording(seed),
    recordings: () => recordings.recordings(),
    publicKeys: () => accounts.publicKeys(),
    messagingServices: () => messaging.snapshot(),
    syncServices: () => sync.snapshot(),
    sync: sync.server,
    consoleEdit: (flowSid, change) => studio.consoleEdit(flowSid, change),
    setBuildOutcome: (outcome, fetches) => serverless.setBuildOutcome(outcome, fetches),
    usageTriggers: () => usage.snapshot(),
    setSpend: (amount) => usage.setSpend(amount),
    fireUsageTrigger: (sid) => usage.fire(sid),
    account: () => accountStatus.state(),
    setAccountStatus: (status) => accountStatus.setStatus(status),
    requests: () => records.map((r) => ({ ...r })),
    setFaults,
    faultsInjected: () => faults.injected(),
    async stop() {
      await new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : ok()));
      });
      await sync.stop();
    },
  };
}
