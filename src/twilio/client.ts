// The one way this project talks to the Twilio REST API from the command line:
// credentials read as the Twilio CLI reads them, the official `twilio` client,
// and `@twilio-labs/serverless-api` for Functions and Assets.
//
// TWILIO_API_URL (development and tests only) sends every call to a local
// stand-in instead of Twilio: each product's base URL becomes
// `${TWILIO_API_URL}/${product}` for product ∈ PRODUCTS, and region/edge are
// cleared so nothing rewrites that host. The `twilio` client's domains take it
// through their assignable `baseUrl`. `@twilio-labs/serverless-api` has no URL
// option: its hosts come from `getApiUrl` (dist/api/utils/api-client.js),
// which client.js and the Function/Asset upload code call as a property of that
// module's exports at each use, so the export is wrapped once: for a client
// whose config carries the override it answers `${TWILIO_API_URL}/${product}/v1`
// (serverless and serverless-upload), for any other client it defers to the
// original. Whenever a client is made with the override, one line on stderr
// says where the calls go: a real deploy must never silently go elsewhere.

import { createRequire } from 'node:module';
import type { TwilioServerlessApiClient } from '@twilio-labs/serverless-api';
import type TwilioSdk from 'twilio';
import { z } from 'zod';
import { ConfigError } from '../functions/config-error.js';
import { API_URL_VARIABLE, apiUrlOverride, type Env } from './api-url.js';

export { API_URL_VARIABLE, apiUrlOverride, type Env } from './api-url.js';

export interface TwilioCredentials {
  readonly accountSid: string;
  /** An API key SID (SK…), or the account SID when authenticating with the auth token. */
  readonly username: string;
  /** The API key's secret, or the auth token. */
  readonly password: string;
}

/** Base URL prefixes under TWILIO_API_URL, one per Twilio API host this project calls. */
export const PRODUCTS = ['studio', 'serverless', 'serverless-upload', 'api', 'messaging', 'sync', 'accounts'] as const;
export type Product = (typeof PRODUCTS)[number];

/** An unset variable and an empty one are the same to the Twilio CLI. */
const optional = (schema: z.ZodString) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const secret = (name: string) => z.string().regex(/^\S+$/, `${name} has spaces or line breaks in it: copy it again without them`);

const CredentialVariables = z.object({
  TWILIO_ACCOUNT_SID: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'TWILIO_ACCOUNT_SID is not an Account SID (AC followed by 32 hex digits): copy it from the Twilio Console')),
  TWILIO_API_KEY: optional(z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'TWILIO_API_KEY is not an API key SID (SK followed by 32 hex digits): create a key in the Console (Account → API keys) and copy its SID')),
  TWILIO_API_SECRET: optional(secret('TWILIO_API_SECRET')),
  TWILIO_AUTH_TOKEN: optional(secret('TWILIO_AUTH_TOKEN')),
});

/**
 * The Twilio credentials in `env`: TWILIO_ACCOUNT_SID with TWILIO_API_KEY and
 * TWILIO_API_SECRET (preferred, as the Twilio CLI does) or TWILIO_AUTH_TOKEN.
 * Throws a ConfigError that lists every problem, naming variables and never
 * quoting their values.
 */
export function twilioCredentials(env: Env): TwilioCredentials {
  const parsed = CredentialVariables.safeParse({
    TWILIO_ACCOUNT_SID: env.TWILIO_ACCOUNT_SID,
    TWILIO_API_KEY: env.TWILIO_API_KEY,
    TWILIO_API_SECRET: env.TWILIO_API_SECRET,
    TWILIO_AUTH_TOKEN: env.TWILIO_AUTH_TOKEN,
  });
  const problems: Array<{ variable: string; message: string }> = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), message: issue.message }));
  const given = (name: string) => (env[name] ?? '') !== '';
  if (!given('TWILIO_ACCOUNT_SID')) problems.unshift({ variable: 'TWILIO_ACCOUNT_SID', message: 'TWILIO_ACCOUNT_SID is not set: set it to your Account SID (AC…, in the Twilio Console)' });
  if (given('TWILIO_API_KEY') && !given('TWILIO_API_SECRET')) problems.push({ variable: 'TWILIO_API_SECRET', message: "TWILIO_API_SECRET is not set: it is the secret shown once when TWILIO_API_KEY was created (make a new key if it is lost)" });
  if (given('TWILIO_API_SECRET') && !given('TWILIO_API_KEY')) problems.push({ variable: 'TWILIO_API_KEY', message: 'TWILIO_API_KEY is not set: set it to the SID (SK…) of the key TWILIO_API_SECRET belongs to' });
  if (!given('TWILIO_API_KEY') && !given('TWILIO_API_SECRET') && !given('TWILIO_AUTH_TOKEN')) {
    problems.push({ variable: 'TWILIO_API_KEY', message: 'no Twilio credentials: set TWILIO_API_KEY and TWILIO_API_SECRET (preferred) or TWILIO_AUTH_TOKEN' });
  }
  const first = problems[0];
  if (first) throw new ConfigError(problems.map((p) => p.message).join('\n'), first.variable);

  const v = (parsed as { data: z.infer<typeof CredentialVariables> }).data;
  const accountSid = v.TWILIO_ACCOUNT_SID as string;
  if (v.TWILIO_API_KEY !== undefined && v.TWILIO_API_SECRET !== undefined) return { accountSid, username: v.TWILIO_API_KEY, password: v.TWILIO_API_SECRET };
  return { accountSid, username: accountSid, password: v.TWILIO_AUTH_TOKEN as string };
}

export interface ClientOptions {
  /** Where TWILIO_API_URL is read; process.env when unset. */
  readonly env?: Env;
  /** Where the override's warning goes; stderr when unset. */
  readonly warn?: (line: string) => void;
}

function overrideFor(options: ClientOptions): string | undefined {
  const url = apiUrlOverride(options.env ?? process.env);
  if (url !== undefined) {
    const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    warn(`sealed-survey: ${API_URL_VARIABLE} is set: Twilio API calls go to ${url}/<product>, not to Twilio (development and tests only)`);
  }
  return url;
}

/** 429s are retried with backoff (twilio-node's full jitter, at most 3 s apart), enough for a CLI's bursts. */
const MAX_RETRIES = 6;

/** The official `twilio` client for these credentials (loaded on first use), pointed at TWILIO_API_URL when set. */
export async function twilioClient(credentials: TwilioCredentials, options: ClientOptions = {}): Promise<TwilioSdk.Twilio> {
  const override = overrideFor(options);
  const { default: twilio } = await import('twilio');
  const client = twilio(credentials.username, credentials.password, {
    accountSid: credentials.accountSid,
    autoRetry: true,
    maxRetries: MAX_RETRIES,
    // TWILIO_REGION/TWILIO_EDGE would rewrite the override's host.
    ...(override !== undefined ? { region: '', edge: '' } : {}),
  });
  if (override !== undefined) {
    client.studio.baseUrl = `${override}/studio`;
    client.serverless.baseUrl = `${override}/serverless`;
    client.api.baseUrl = `${override}/api`;
    client.messaging.baseUrl = `${override}/messaging`;
    client.sync.baseUrl = `${override}/sync`;
    client.accounts.baseUrl = `${override}/accounts`;
  }
  return client;
}

/** Marks a serverless-api client config as overridden; read by the wrapped getApiUrl. */
const OVERRIDE = Symbol('sealed-survey TWILIO_API_URL');

type GetApiUrl = (config: object, product?: string, apiVersion?: string) => string;

let wrapped = false;

/** Wraps serverless-api's getApiUrl once, so clients whose config carries OVERRIDE reach the stand-in. */
function wrapServerlessHosts(): void {
  if (wrapped) return;
  const require = createRequire(import.meta.url);
  const apiClient = require('@twilio-labs/serverless-api/dist/api/utils/api-client.js') as { getApiUrl: GetApiUrl };
  const original = apiClient.getApiUrl;
  if (typeof original !== 'function') throw new Error('@twilio-labs/serverless-api no longer exports getApiUrl from dist/api/utils/api-client.js: update src/twilio/client.ts');
  apiClient.getApiUrl = (config, product = 'serverless', apiVersion = 'v1') => {
    const root = (config as { [OVERRIDE]?: string })[OVERRIDE];
    return root === undefined ? original(config, product, apiVersion) : `${root}/${product}/${apiVersion}`;
  };
  wrapped = true;
}

/** `@twilio-labs/serverless-api`'s client for these credentials (loaded on first use), pointed at TWILIO_API_URL when set. */
export async function serverlessClient(credentials: TwilioCredentials, options: ClientOptions = {}): Promise<TwilioServerlessApiClient> {
  const override = overrideFor(options);
  if (override !== undefined) wrapServerlessHosts();
  const { TwilioServerlessApiClient } = await import('@twilio-labs/serverless-api');
  const config = {
    username: credentials.username,
    password: credentials.password,
    ...(override !== undefined ? { [OVERRIDE]: override } : {}),
  };
  return new TwilioServerlessApiClient(config);
}
