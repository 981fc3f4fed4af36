// The publish Function's and flush's configuration, read from the
// environment once per warm instance. Every problem is reported by variable
// name with the fix; values are never quoted (some are secrets).

import { readFileSync } from 'node:fs';
import { ConfigError } from '../functions/config-error.js';
import { KeyError, parsePublicKey, parseSharedKey } from '../keys/keys.js';
import { parseServiceAccount, SheetsConfigError, type ServiceAccount } from '../sheets/client.js';
import { parseSpreadsheetId, type SheetTarget } from '../sheets/table.js';
import type { SyncQueueOptions } from '../queue/sync-queue.js';
import { isSid } from '../twilio/sid.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Answered by the Functions' guard as 500 CONFIG_INVALID; flush turns it into a usage error. */
export class PublishConfigError extends ConfigError {
  override readonly name = 'PublishConfigError';
}

export interface PiiGuard {
  /** Column names as PII_COLUMNS lists them (matched to the header by columnKey) whose values must be ss1 tokens for the key below. */
  readonly columns: readonly string[];
  readonly kid: string | undefined;
  readonly mode: 'sealed' | 'shared' | undefined;
}

export interface PublishConfig {
  readonly target: SheetTarget;
  readonly account: ServiceAccount;
  readonly sheetsApiUrl: string | undefined;
  readonly pii: PiiGuard;
  readonly missingValue: string;
  readonly autoHeaders: boolean;
  readonly deadlineMs: number;
  /** Twilio Sync: the row claims that make publishing exactly-once, and the queue for rows the sheet cannot take in time. */
  readonly sync: SyncQueueOptions;
}

export const DEFAULT_DEADLINE_MS = 8000;
const MIN_DEADLINE_MS = 1000;
// Studio's Run Function widget gives up after 10 s.
const MAX_DEADLINE_MS = 9500;

function fail(variable: string, message: string): never {
  throw new PublishConfigError(message, variable);
}

function trimmed(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function readAccount(env: Env, assetPath: string | undefined): ServiceAccount {
  const json = trimmed(env, 'GOOGLE_SERVICE_ACCOUNT_JSON');
  try {
    if (json) return parseServiceAccount(json, 'GOOGLE_SERVICE_ACCOUNT_JSON');
    if (assetPath) {
      let text: string;
      try {
        text = readFileSync(assetPath, 'utf8');
      } catch {
        fail('assets/google-service-account.private.json', 'the service-account key asset cannot be read: deploy assets/google-service-account.private.json with the Functions');
      }
      return parseServiceAccount(text, 'assets/google-service-account.private.json');
    }
  } catch (error) {
    if (error instanceof SheetsConfigError) fail(json ? 'GOOGLE_SERVICE_ACCOUNT_JSON' : 'assets/google-service-account.private.json', error.message);
    throw error;
  }
  return fail(
    'GOOGLE_SERVICE_ACCOUNT_JSON',
    'no Google service-account key: put the key JSON in assets/google-service-account.private.json (deployed as a private asset), or in GOOGLE_SERVICE_ACCOUNT_JSON for local runs',
  );
}

function readPii(env: Env): PiiGuard {
  const list = trimmed(env, 'PII_COLUMNS');
  if (!list) {
    fail('PII_COLUMNS', 'PII_COLUMNS is not set: list the columns that must hold encrypted answers (e.g. PII_COLUMNS=name,phone), or set PII_COLUMNS=- if this sheet holds no personal data');
  }
  if (list === '-') return { columns: [], kid: undefined, mode: undefined };
  const columns = list.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (columns.length === 0) fail('PII_COLUMNS', 'PII_COLUMNS lists no column: give comma-separated column names, or - for none');
  const pub = trimmed(env, 'SURVEY_PUBLIC_KEY');
  const secret = trimmed(env, 'SURVEY_SECRET_KEY');
  if (pub && secret) fail('SURVEY_SECRET_KEY', 'both SURVEY_PUBLIC_KEY and SURVEY_SECRET_KEY are set; set exactly one, the same as for the encrypt Function');
  if (!pub && !secret) {
    fail('SURVEY_PUBLIC_KEY', 'PII_COLUMNS is set but neither SURVEY_PUBLIC_KEY nor SURVEY_SECRET_KEY is: set the same key as for the encrypt Function, so publish can check that those columns hold answers encrypted for it');
  }
  try {
    const recipient = pub ? parsePublicKey(pub) : parseSharedKey(secret as string);
    return { columns, kid: recipient.kid, mode: recipient.mode };
  } catch (error) {
    if (error instanceof KeyError) fail(pub ? 'SURVEY_PUBLIC_KEY' : 'SURVEY_SECRET_KEY', `${pub ? 'SURVEY_PUBLIC_KEY' : 'SURVEY_SECRET_KEY'} is not valid: ${error.message}`);
    throw error;
  }
}

function readDeadline(env: Env): number {
  const text = trimmed(env, 'PUBLISH_DEADLINE_MS');
  if (!text) return DEFAULT_DEADLINE_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < MIN_DEADLINE_MS || ms > MAX_DEADLINE_MS) {
    fail('PUBLISH_DEADLINE_MS', `PUBLISH_DEADLINE_MS must be a whole number of milliseconds from ${MIN_DEADLINE_MS} to ${MAX_DEADLINE_MS} (Studio gives up after 10 s)`);
  }
  return ms;
}

function readUrl(env: Env, name: string): string | undefined {
  const text = trimmed(env, name);
  if (!text) return undefined;
  if (!/^https?:\/\/[^\s/]+/.test(text)) fail(name, `${name} must be an http(s) URL, e.g. http://127.0.0.1:8787 for a local sealed-survey sheets-server; leave it unset to use Google`);
  return text;
}

function readSync(env: Env): SyncQueueOptions {
  const accountSid = trimmed(env, 'ACCOUNT_SID');
  const authToken = trimmed(env, 'AUTH_TOKEN');
  const missing = [accountSid ? undefined : 'ACCOUNT_SID', authToken ? undefined : 'AUTH_TOKEN'].filter((v) => v !== undefined);
  if (missing.length > 0) {
    fail(
      missing[0] as string,
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: publish keeps one row per response through Twilio Sync; on Twilio tick "Add my Twilio Credentials (ACCOUNT_SID) and (AUTH_TOKEN) to ENV" in the service's environment variables, locally put them in .env`,
    );
  }
  if (!isSid(accountSid as string, 'AC')) fail('ACCOUNT_SID', 'ACCOUNT_SID is not an Account SID (AC followed by 32 hex digits): copy it from the Twilio Console, or tick "Add my Twilio Credentials" on Twilio');
  const serviceSid = trimmed(env, 'SYNC_SERVICE_SID') ?? 'default';
  if (serviceSid !== 'default' && !isSid(serviceSid, 'IS')) fail('SYNC_SERVICE_SID', 'SYNC_SERVICE_SID must be a Sync service SID (IS followed by 32 hex digits) or "default"');
  const apiUrl = readUrl(env, 'SYNC_API_URL');
  return { accountSid: accountSid as string, authToken: authToken as string, serviceSid, ...(apiUrl ? { apiUrl } : {}) };
}

export function readPublishConfig(env: Env, assetPath?: string): PublishConfig {
  const sheet = trimmed(env, 'SHEET_ID');
  if (!sheet) fail('SHEET_ID', 'SHEET_ID is not set: set it to the spreadsheet\'s ID or its URL (https://docs.google.com/spreadsheets/d/…)');
  const spreadsheetId = parseSpreadsheetId(sheet);
  if (!spreadsheetId) fail('SHEET_ID', 'SHEET_ID is neither a spreadsheet ID nor a Google Sheets URL: copy the URL from the browser\'s address bar');
  const tab = trimmed(env, 'SHEET_TAB');
  return {
    target: { spreadsheetId, tab },
    account: readAccount(env, assetPath),
    sheetsApiUrl: readUrl(env, 'SHEETS_API_URL'),
    pii: readPii(env),
    missingValue: env.SHEET_MISSING_VALUE ?? '',
    autoHeaders: /^(1|true|yes)$/i.test(trimmed(env, 'SHEET_AUTO_HEADERS') ?? ''),
    deadlineMs: readDeadline(env),
    sync: readSync(env),
  };
}

const CONFIG_VARS = [
  'SHEET_ID', 'SHEET_TAB', 'GOOGLE_SERVICE_ACCOUNT_JSON', 'SHEETS_API_URL', 'PII_COLUMNS', 'SURVEY_PUBLIC_KEY', 'SURVEY_SECRET_KEY',
  'SHEET_MISSING_VALUE', 'SHEET_AUTO_HEADERS', 'PUBLISH_DEADLINE_MS', 'ACCOUNT_SID', 'AUTH_TOKEN', 'SYNC_SERVICE_SID', 'SYNC_API_URL',
] as const;

let cached: { readonly fingerprint: string; readonly config: PublishConfig } | undefined;

/** readPublishConfig, parsed again only when the variables change. */
export function publishConfig(env: Env, assetPath?: string): PublishConfig {
  const fingerprint = JSON.stringify([assetPath, ...CONFIG_VARS.map((k) => env[k])]);
  if (cached?.fingerprint !== fingerprint) cached = { fingerprint, config: readPublishConfig(env, assetPath) };
  return cached.config;
}
