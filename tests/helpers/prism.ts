// Stoplight Prism as a validating proxy between a client and a server, so a
// test also checks both sides against an OpenAPI document.
//
// With --errors, Prism answers a request that violates the document itself
// (422, or 401 without credentials) without forwarding it, and replaces a
// response whose error-severity violations it finds (body schema, an
// undeclared 2xx status) with a 500 application/problem+json of type
// VIOLATIONS; both are logged as "Request terminated with error". Warnings (an
// undeclared non-2xx status) pass through, marked by an sl-violations header
// and a "Violation:" log line. violations() collects both kinds from the log.
//
// Prism silently skips validation against any schema ajv cannot compile, so
// the proxy gets a copy of the document with that one known cause removed
// (see compilableSpec).
//
// Twilio's stand-in (src/dev/twilio-server.ts) is checked by one Prism for
// all its products: twilioDocument() merges Twilio's documents with each
// product's paths under its prefix (/studio/v2/Flows…), the layout
// TWILIO_API_URL gives the clients, and strictResponses() makes every
// response body list exactly its document's properties. startTwilioMocks()
// puts a small router in front, so one URL serves every product: the upload
// host (/serverless-upload), which no document describes, goes straight to the
// stand-in, which checks its multipart shape itself; everything else through
// Prism.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort, PROJECT_ROOT, stopper } from '../../src/dev/functions-server.js';
import { startTwilioServer, type RunningTwilioServer, type TwilioServerOptions } from '../../src/dev/twilio-server.js';
import type { Product, TwilioCredentials } from '../../src/twilio/client.js';

/** Twilio's OpenAPI documents (MIT), vendored from twilio/twilio-oai: see tests/contracts/twilio-oai/SOURCE. */
export const TWILIO_OAI_DIR = join(PROJECT_ROOT, 'tests', 'contracts', 'twilio-oai');
export const SYNC_SPEC = join(TWILIO_OAI_DIR, 'twilio_sync_v1.json');
/** Each product's document, by the prefix TWILIO_API_URL gives it (serverless-upload has none). */
export const TWILIO_SPECS: Readonly<Record<Exclude<Product, 'serverless-upload'>, string>> = {
  api: join(TWILIO_OAI_DIR, 'twilio_api_v2010.json'),
  messaging: join(TWILIO_OAI_DIR, 'twilio_messaging_v1.json'),
  serverless: join(TWILIO_OAI_DIR, 'twilio_serverless_v1.json'),
  studio: join(TWILIO_OAI_DIR, 'twilio_studio_v2.json'),
  sync: SYNC_SPEC,
  accounts: join(TWILIO_OAI_DIR, 'twilio_accounts_v1.json'),
};

export interface PrismViolation {
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

export interface RunningPrism {
  readonly url: string;
  /** Everything Prism printed so far, stdout and stderr. */
  output(): string;
  /** Violations and refused requests Prism logged so far; call settled() first to include the latest requests. */
  violations(): PrismViolation[];
  /** Resolves once Prism has printed nothing for quietMs: its log then covers every answered request. */
  settled(quietMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Prism's warning for a non-2xx status the document does not declare. Twilio's
 * documents declare no error responses, so every Twilio error answer (401,
 * 404, 409) draws one; an undeclared 2xx is an error and is not matched here.
 */
export function isUndeclaredErrorStatus(violation: PrismViolation): boolean {
  return violation.severity === 'warning' && violation.message.startsWith('response Unable to match the returned status code');
}

const LOG_LINE = /\b(error|warning|info)\s+(?:Violation: (.*)|(Request terminated with error: .*))$/gm;

export function parseViolations(output: string): PrismViolation[] {
  return [...output.matchAll(LOG_LINE)].map((m) => ({
    severity: m[1] as PrismViolation['severity'],
    message: (m[2] ?? m[3] ?? '').trim(),
  }));
}

/**
 * OpenAPI 3.0 `nullable: true` on a schema without `type` (Twilio's Sync Map
 * Item `data`) makes ajv refuse to compile the whole schema, and Prism then
 * validates nothing in those responses. Such a `nullable` has no effect (a
 * schema without `type` already admits null), so dropping it changes no
 * meaning and lets Prism check the rest.
 */
export function compilableSpec(document: unknown): unknown {
  if (Array.isArray(document)) return document.map(compilableSpec);
  if (typeof document !== 'object' || document === null) return document;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    if (key === 'nullable' && value === true && !('type' in document)) continue;
    out[key] = key === 'example' || key === 'examples' ? value : compilableSpec(value);
  }
  return out;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Twilio's documents as one, each product's paths under /<product> (their
 * own `servers` dropped, so Prism matches the prefixed path alone), the
 * components merged: their names are product-qualified (studio.v2.flow) but
 * for the shared security scheme.
 */
export function twilioDocument(specs: Readonly<Record<string, string>> = TWILIO_SPECS): Json {
  const paths: Json = {};
  const components: Record<string, Json> = {};
  for (const [product, file] of Object.entries(specs)) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Json>; components: Record<string, Json> };
    for (const [path, item] of Object.entries(doc.paths)) {
      const { servers: _servers, ...rest } = item;
      paths[`/${product}${path}`] = rest;
    }
    for (const [kind, entries] of Object.entries(doc.components)) {
      components[kind] ??= {};
      for (const [name, value] of Object.entries(entries)) {
        const known = components[kind][name];
        if (known !== undefined && JSON.stringify(known) !== JSON.stringify(value)) throw new Error(`twilioDocument: ${product} redefines components.${kind}.${name}`);
        components[kind][name] = value;
      }
    }
  }
  relativeUris(paths);
  formArrays(paths);
  return {
    openapi: '3.0.1',
    info: { title: "Twilio's APIs under one prefix each (tests/helpers/prism.ts)", version: '1' },
    paths,
    components,
    security: [{ accountSid_authToken: [] }],
  };
}

/**
 * The 2010 API's `uri`, `first_page_uri`, `next_page_uri`… are relative
 * ("/2010-04-01/Accounts/…", as the document's own examples show, and as
 * twilio-node needs them: it prefixes its base URL), yet the document
 * declares them `format: uri`, which ajv reads as absolute. They are
 * declared `uri-reference` instead, in place.
 */
function relativeUris(node: unknown): void {
  if (Array.isArray(node)) node.forEach(relativeUris);
  if (!isObject(node)) return;
  if (isObject(node.properties)) {
    for (const [name, schema] of Object.entries(node.properties)) {
      if ((name === 'uri' || name.endsWith('_uri')) && isObject(schema) && schema.format === 'uri') schema.format = 'uri-reference';
    }
  }
  for (const value of Object.values(node)) relativeUris(value);
}

/**
 * A form body's list (Serverless' FunctionVersions=ZN…&FunctionVersions=ZN…)
 * is style form, explode true: OpenAPI's default, which Prism applies only
 * when the document spells it out, else it sees a single value as a string
 * and refuses it as not an array. It is spelled out here, in place. (Prism
 * still keeps only the last of repeated values; the stand-in checks each.)
 */
function formArrays(paths: Json): void {
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item as Json)) {
      const form = isObject(operation) && isObject(operation.requestBody) && isObject(operation.requestBody.content) ? operation.requestBody.content['application/x-www-form-urlencoded'] : undefined;
      if (!isObject(form) || !isObject(form.schema) || !isObject(form.schema.properties) || form.encoding !== undefined) continue;
      const lists = Object.entries(form.schema.properties).filter(([, schema]) => isObject(schema) && schema.type === 'array');
      if (lists.length > 0) form.encoding = Object.fromEntries(lists.map(([name]) => [name, { style: 'form', explode: true }]));
    }
  }
}

/**
 * A copy of `document` in which every object schema of a response body (and
 * every object schema inside it) requires all its properties and allows no
 * other. Twilio's documents list each resource's properties and the stand-in
 * answers exactly those (null when empty), so a body that misses one or adds
 * one is caught.
 */
export function strictResponses(document: Json): Json {
  const copy = structuredClone(document) as { paths: Record<string, Record<string, Json>>; components?: { schemas?: Record<string, Json> } };
  const done = new Set<Json>();
  const strict = (schema: unknown): void => {
    if (!isObject(schema) || done.has(schema)) return;
    done.add(schema);
    if (typeof schema.$ref === 'string') {
      const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
      if (name !== undefined) strict(copy.components?.schemas?.[name]);
      return;
    }
    if (isObject(schema.properties)) {
      schema.required = Object.keys(schema.properties);
      schema.additionalProperties = false;
      for (const property of Object.values(schema.properties)) strict(property);
    }
    strict(schema.items);
  };
  for (const item of Object.values(copy.paths)) {
    for (const operation of Object.values(item)) {
      if (!isObject(operation) || !isObject(operation.responses)) continue;
      for (const response of Object.values(operation.responses)) {
        if (isObject(response) && isObject(response.content)) for (const media of Object.values(response.content)) if (isObject(media)) strict(media.schema);
      }
    }
  }
  return copy;
}

const tail = (text: string) => text.split('\n').slice(-30).join('\n');

export interface PrismOptions {
  readonly timeoutMs?: number;
  /** Check response bodies with strictResponses(). */
  readonly strictResponses?: boolean;
}

/** Prism in front of `upstreamUrl`, checking against an OpenAPI document: a file's path, or the document itself. */
export async function startPrismProxy(spec: string | Json, upstreamUrl: string, options: PrismOptions = {}): Promise<RunningPrism> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (typeof spec === 'string' && !existsSync(spec)) throw new Error(`the OpenAPI document ${spec} does not exist: it is vendored under tests/contracts/twilio-oai (see SOURCE there)`);
  const bin = join(PROJECT_ROOT, 'node_modules', '.bin', 'prism');
  if (!existsSync(bin)) throw new Error('node_modules/.bin/prism is missing: run `npm install` (@stoplight/prism-cli is a dev dependency)');
  const document = (typeof spec === 'string' ? JSON.parse(readFileSync(spec, 'utf8')) : spec) as Json;
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-prism-'));
  const specFile = join(dir, typeof spec === 'string' ? basename(spec) : 'openapi.json');
  writeFileSync(specFile, JSON.stringify(compilableSpec(options.strictResponses ? strictResponses(document) : document)));
  const port = await freePort();
  const child = spawn(bin, ['proxy', specFile, upstreamUrl, '--errors', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let lastOutputAt = Date.now();
  const append = (d: Buffer) => {
    output += d.toString();
    lastOutputAt = Date.now();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = stopper(child, exited, () => rmSync(dir, { recursive: true, force: true }));

  const deadline = Date.now() + timeoutMs;
  while (!output.includes('Prism is listening')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`Prism exited (${child.exitCode ?? child.signalCode}) before listening on port ${port}:\n${tail(output)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prism did not start listening on port ${port} within ${timeoutMs} ms:\n${tail(output)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    violations: () => parseViolations(output),
    async settled(quietMs = 250) {
      while (Date.now() - lastOutputAt < quietMs) await new Promise((r) => setTimeout(r, quietMs / 5));
    },
    stop,
  };
}

/** One of Prism's problem+json answers as a violation: the request, Prism's title and each failed check with its location. */
function problem(method: string, path: string, text: string): PrismViolation {
  let detail = text;
  try {
    const body = JSON.parse(text) as { title?: string; detail?: string; validation?: Array<{ location?: string[]; message?: string }> };
    const checks = (body.validation ?? []).map((v) => `${(v.location ?? []).join('.')}: ${v.message ?? ''}`);
    detail = [body.title ?? body.detail ?? 'problem', ...checks].join('; ');
  } catch {
    // not JSON: keep the text
  }
  return { severity: 'error', message: `${method} ${path}: ${detail}` };
}

export interface TwilioMocks {
  /** The TWILIO_API_URL to give the clients: every product under its prefix. */
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** The account's credentials, as twilioCredentials() returns them. */
  readonly credentials: TwilioCredentials;
  /** TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_API_URL for a command or a client under test. */
  readonly env: Readonly<Record<string, string>>;
  /** The stand-in: state, inspectors and faults. */
  readonly server: RunningTwilioServer;
  readonly prism: RunningPrism;
  /** What Prism found wrong so far, once its log has settled; Twilio's undeclared error statuses (401, 404, 409, 429…) left out. */
  violations(): Promise<PrismViolation[]>;
  stop(): Promise<void>;
}

/**
 * The Twilio stand-in behind one Prism (strict responses) and a router, so a
 * test points TWILIO_API_URL at `url` and every call but uploads is checked
 * against Twilio's documents. Account SID and auth token are random unless given.
 */
export async function startTwilioMocks(options: Partial<Omit<TwilioServerOptions, 'publicUrl' | 'port'>> = {}): Promise<TwilioMocks> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const targets: { prism?: string; standIn?: string } = {};
  const problems: PrismViolation[] = [];
  const router = createServer((req, res) => {
    // A recording's media (bytes, described by no document) goes straight to the stand-in too.
    const upload = req.url?.startsWith('/serverless-upload/') === true || /^\/api\/2010-04-01\/Accounts\/[^/]+\/Recordings\/RE[0-9a-fA-F]{32}(\.wav|\.mp3)?(\?|$)/.test(req.url ?? '');
    const target = new URL(req.url ?? '/', upload ? targets.standIn : targets.prism);
    const { host: _host, ...headers } = req.headers;
    const onward = httpRequest(target, { method: req.method ?? 'GET', headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // Prism's own answers (a refused request, a response that broke the document) say what was wrong.
      if (/problem\+json/.test(answer.headers['content-type'] ?? '')) {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => problems.push(problem(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8'))));
      }
    });
    // A connection the stand-in dropped (a 'reset' fault) is dropped here too.
    onward.on('error', () => res.destroy());
    req.pipe(onward);
  });
  await new Promise<void>((ok) => router.listen(0, '127.0.0.1', () => ok()));
  const url = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
  const closeRouter = () =>
    new Promise<void>((ok) => {
      router.closeAllConnections();
      router.close(() => ok());
    });
  let server: RunningTwilioServer | undefined;
  try {
    server = await startTwilioServer({ ...options, accountSid, authToken, publicUrl: url });
    const prism = await startPrismProxy(twilioDocument(), server.url, { strictResponses: true });
    targets.standIn = server.url;
    targets.prism = prism.url;
    const running = server;
    return {
      url,
      accountSid,
      authToken,
      credentials: { accountSid, username: accountSid, password: authToken },
      env: { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_API_URL: url },
      server: running,
      prism,
      async violations() {
        await prism.settled();
        // Prism's errors come with their details from the router; its log adds the warnings.
        const warnings = prism.violations().filter((v) => v.severity !== 'error' && !isUndeclaredErrorStatus(v));
        return [...problems, ...warnings];
      },
      async stop() {
        await closeRouter();
        await prism.stop();
        await running.stop();
      },
    };
  } catch (error) {
    await closeRouter();
    await server?.stop();
    throw error;
  }
}
