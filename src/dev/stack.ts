// The local stand-ins for everything a survey talks to, started together for
// `simulate`, the demo and the end-to-end tests: the Functions (twilio-run),
// the Sheets server with a sheet laid out for the flow, and the Sync stand-in.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowColumns } from '../flow/columns.js';
import type { FlowDefinition } from '../flow/definition.js';
import { KEY_FILE_NAMES, keygen } from '../keys/files.js';
import { sheetsClient } from '../sheets/client.js';
import { startFunctions, type RunningFunctions } from './functions-server.js';
import { startSheetsServer, testServiceAccount, type FaultOptions, type RunningSheetsServer } from './sheets-server.js';
import { startSyncServer, type RunningSyncServer } from './sync-server.js';

export interface LocalStackOptions {
  readonly flow: FlowDefinition;
  /** Demo keys: a sealed pair and a pseudonym key, created here if absent. */
  readonly keysDir: string;
  readonly faults?: FaultOptions;
  /** Extra or overriding Function variables (e.g. PUBLISH_DEADLINE_MS). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface LocalStack {
  readonly functions: RunningFunctions;
  readonly sheets: RunningSheetsServer;
  readonly sync: RunningSyncServer;
  readonly spreadsheetId: string;
  readonly tab: string;
  /** The Functions' environment (holds the auth token and the test service-account key: never print it). */
  readonly env: Readonly<Record<string, string>>;
  readonly authToken: string;
  readonly privateKeyFile: string;
  stop(): Promise<void>;
}

export function ensureDemoKeys(dir: string): { publicKey: string; pseudonymKey: string; privateKeyFile: string } {
  if (!existsSync(join(dir, KEY_FILE_NAMES.sealedPrivate))) keygen('sealed', dir);
  if (!existsSync(join(dir, KEY_FILE_NAMES.pseudonym))) keygen('pseudonym', dir);
  return {
    publicKey: readFileSync(join(dir, KEY_FILE_NAMES.sealedPublic), 'utf8').trim(),
    pseudonymKey: readFileSync(join(dir, KEY_FILE_NAMES.pseudonym), 'utf8').trim(),
    privateKeyFile: join(dir, KEY_FILE_NAMES.sealedPrivate),
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const keys = ensureDemoKeys(options.keysDir);
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    await Promise.allSettled(started.reverse().map((s) => s.stop()));
  };
  try {
    const sheets = await startSheetsServer();
    started.push(sheets);
    const sync = await startSyncServer({ accountSid, authToken });
    started.push(sync);
    const account = await testServiceAccount(sheets);
    const client = sheetsClient({ account, rootUrl: sheets.url });
    const tab = 'Responses';
    const created = await client.spreadsheets.create({ requestBody: { properties: { title: 'sealed-survey (local)' }, sheets: [{ properties: { title: tab } }] } });
    const spreadsheetId = created.data.spreadsheetId as string;
    const { header, piiColumns: pii } = flowColumns(options.flow);
    // A flow without publish writes no row: its sheet needs no header.
    if (header.length > 0) await client.spreadsheets.values.update({ spreadsheetId, range: `${tab}!A1`, valueInputOption: 'RAW', requestBody: { values: [[...header]] } });
    // Faults only after the set-up: a survey team makes its sheet once, by hand.
    sheets.setFaults(options.faults);
    const env = {
      ACCOUNT_SID: accountSid,
      AUTH_TOKEN: authToken,
      SURVEY_PUBLIC_KEY: keys.publicKey,
      SURVEY_PSEUDONYM_KEY: keys.pseudonymKey,
      SHEET_ID: spreadsheetId,
      SHEET_TAB: tab,
      GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(account),
      SHEETS_API_URL: sheets.url,
      SYNC_API_URL: sync.url,
      PII_COLUMNS: pii.length > 0 ? pii.join(',') : '-',
      ...options.env,
    };
    const functions = await startFunctions({ env });
    started.push(functions);
    return { functions, sheets, sync, spreadsheetId, tab, env, authToken, privateKeyFile: keys.privateKeyFile, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
