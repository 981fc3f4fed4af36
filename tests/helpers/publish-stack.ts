// Everything the publish Function talks to, started for real: the local
// Sheets server (real @googleapis/sheets client, real JWT flow), the Sync
// stand-in behind Prism (so every Sync request is checked against Twilio's
// OpenAPI spec), and twilio-run serving the built Functions.

import { expect } from 'vitest';
import type { sheets_v4 } from '@googleapis/sheets';
import type { RunningFunctions } from '../../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount, type FaultOptions, type RunningSheetsServer } from '../../src/dev/sheets-server.js';
import { startSyncServer, type RunningSyncServer } from '../../src/dev/sync-server.js';
import { sealResponse } from '../../src/envelope/index.js';
import { formatPublicKey, newSealedKeyPair, recipientOf, type SealedKeyPair } from '../../src/keys/keys.js';
import { newSid } from '../../src/flow/runner.js';
import { sheetsClient } from '../../src/sheets/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, signedPost, startTestFunctions } from './functions.js';
import { isUndeclaredErrorStatus, startPrismProxy, SYNC_SPEC, type PrismViolation, type RunningPrism } from './prism.js';

export const HEADER = ['received_at', 'execution_sid', 'respondent_id', 'name', 'phone', 'age', 'comment'];

/** A fresh execution SID. */
export const newExecutionSid = () => newSid('FN');

/** A sealed-mode survey key pair shared by the stacks of one test file. */
export const surveyKey: SealedKeyPair = newSealedKeyPair();

export function seal(fields: Record<string, string>, key: SealedKeyPair = surveyKey): Record<string, string> {
  return Object.fromEntries(sealResponse(Object.entries(fields), recipientOf(key)));
}

export interface Backends {
  readonly sheets: RunningSheetsServer;
  readonly sync: RunningSyncServer;
  readonly prism: RunningPrism;
  readonly account: Awaited<ReturnType<typeof testServiceAccount>>;
  readonly client: sheets_v4.Sheets;
  stop(): Promise<void>;
}

export async function startBackends(faults?: FaultOptions): Promise<Backends> {
  const sheets = await startSheetsServer(faults ? { faults } : {});
  const sync = await startSyncServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const prism = await startPrismProxy(SYNC_SPEC, sync.url);
  const account = await testServiceAccount(sheets);
  const client = sheetsClient({ account, rootUrl: sheets.url });
  return {
    sheets,
    sync,
    prism,
    account,
    client,
    async stop() {
      await Promise.all([sheets.stop(), sync.stop(), prism.stop()]);
    },
  };
}

/** What Prism found wrong in the Sync requests and responses, beyond Twilio's undeclared error statuses. */
export async function syncViolations(backends: Backends): Promise<PrismViolation[]> {
  await backends.prism.settled();
  return backends.prism.violations().filter((v) => !isUndeclaredErrorStatus(v));
}

/**
 * Stops everything and checks what it printed: no planted plaintext and no
 * key in any log, and no Sync request Twilio's API would refuse.
 */
export async function stopAndCheck(servers: readonly RunningFunctions[], backends: Backends | undefined, moreLogs: readonly string[], sentinel: string): Promise<void> {
  const logs = [...servers.map((s) => s.output()), ...moreLogs, backends?.prism.output() ?? ''].join('\n');
  await Promise.all(servers.map((s) => s.stop()));
  const violations = backends ? await syncViolations(backends) : [];
  await backends?.stop();
  expect(logs).not.toContain(sentinel);
  expect(logs).not.toContain('PRIVATE KEY');
  expect(violations).toEqual([]);
}

/** A new spreadsheet with `header` in row 1 of its first tab (none when empty). */
export async function newSheet(backends: Backends, header: readonly string[] = HEADER, tab = 'Responses'): Promise<string> {
  const created = await backends.client.spreadsheets.create({ requestBody: { properties: { title: 'survey' }, sheets: [{ properties: { title: tab } }] } });
  const id = created.data.spreadsheetId as string;
  if (header.length > 0) {
    await backends.client.spreadsheets.values.update({ spreadsheetId: id, range: `'${tab}'!A1`, valueInputOption: 'RAW', requestBody: { values: [[...header]] } });
  }
  return id;
}

/** The publish Function's environment for one sheet. */
export function publishEnv(backends: Backends, spreadsheetId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SHEET_ID: spreadsheetId,
    GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(backends.account),
    SHEETS_API_URL: backends.sheets.url,
    SYNC_API_URL: backends.prism.url,
    PII_COLUMNS: 'name,phone',
    SURVEY_PUBLIC_KEY: formatPublicKey(surveyKey.pair.publicRaw),
    ...extra,
  };
}

export async function startPublish(env: Record<string, string>): Promise<RunningFunctions> {
  return startTestFunctions(env);
}

export async function publish(server: RunningFunctions, params: Record<string, string>) {
  return signedPost(server, '/publish', params);
}

/** Sheet rows below the header, as stored. */
export function dataRows(backends: Backends, spreadsheetId: string, tab = 'Responses'): string[][] {
  return backends.sheets.rows(spreadsheetId, tab).slice(1);
}

/** Polls until `done()` holds; fails after a generous bound (a stuck condition, not a slow machine). */
export async function waitFor(done: () => boolean, what = 'the condition', boundMs = 120_000): Promise<void> {
  const giveUp = Date.now() + boundMs;
  while (!done()) {
    if (Date.now() > giveUp) throw new Error(`${what} did not hold within ${boundMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
