// What reconcile and purge talk to, started for real: the Twilio stand-in
// behind Prism (Studio, API 2010 and Sync, every request checked against
// Twilio's documents), the local Sheets server with a real service account,
// a published flow and a sheet with its execution_sid column. Tests seed
// executions (server.addExecution), messages, rows and queued rows.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type TwilioSdk from 'twilio';
import { PROJECT_ROOT } from '../../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount, type RunningSheetsServer } from '../../src/dev/sheets-server.js';
import { syncQueue } from '../../src/queue/sync-queue.js';
import { sheetsClient } from '../../src/sheets/client.js';
import { twilioClient } from '../../src/twilio/client.js';
import { startTwilioMocks, type TwilioMocks } from './prism.js';

export const SENDER = 'whatsapp:+14155238886';
export const HEADER = ['received_at', 'execution_sid', 'name', 'age'];
export const TAB = 'Responses';

export interface ClosingStack {
  readonly mocks: TwilioMocks;
  readonly sheets: RunningSheetsServer;
  readonly twilio: TwilioSdk.Twilio;
  readonly flowSid: string;
  readonly spreadsheetId: string;
  /** Everything a CLI run needs: Twilio credentials and URL, and the Functions' variables for the sheet and Sync. */
  readonly env: Readonly<Record<string, string>>;
  /** Appends rows (execution_sid, received_at) to the sheet. */
  addRows(rows: ReadonlyArray<{ executionSid: string; receivedAt?: number }>): Promise<void>;
  /** Queues a row in Sync, as publish does when the sheet is too slow. */
  queue(executionSid: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startClosingStack(flowName = 'whatsapp-survey'): Promise<ClosingStack> {
  const mocks = await startTwilioMocks();
  const sheets = await startSheetsServer();
  try {
    const twilio = await twilioClient(mocks.credentials, { env: mocks.env, warn: () => {} });
    const definition = JSON.parse(readFileSync(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'), 'utf8')) as object;
    const flow = await twilio.studio.v2.flows.create({ friendlyName: flowName, status: 'published', definition });
    const account = await testServiceAccount(sheets);
    const client = sheetsClient({ account, rootUrl: sheets.url });
    const created = await client.spreadsheets.create({ requestBody: { properties: { title: 'survey' }, sheets: [{ properties: { title: TAB } }] } });
    const spreadsheetId = created.data.spreadsheetId as string;
    await client.spreadsheets.values.update({ spreadsheetId, range: `'${TAB}'!A1`, valueInputOption: 'RAW', requestBody: { values: [HEADER] } });
    const sync = { accountSid: mocks.accountSid, authToken: mocks.authToken, apiUrl: `${mocks.url}/sync` };
    const env = {
      ...mocks.env,
      SHEET_ID: spreadsheetId,
      SHEET_TAB: TAB,
      GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(account),
      SHEETS_API_URL: sheets.url,
      PII_COLUMNS: '-',
      ACCOUNT_SID: mocks.accountSid,
      AUTH_TOKEN: mocks.authToken,
      SYNC_API_URL: sync.apiUrl,
    };
    return {
      mocks,
      sheets,
      twilio,
      flowSid: flow.sid,
      spreadsheetId,
      env,
      async addRows(rows) {
        const values = rows.map((r) => [new Date(r.receivedAt ?? Date.now()).toISOString(), r.executionSid, 'ss1.sealed', '']);
        await client.spreadsheets.values.append({ spreadsheetId, range: `'${TAB}'!A1`, valueInputOption: 'RAW', requestBody: { values } });
      },
      async queue(executionSid) {
        await syncQueue(sync).put({ executionSid, columns: { execution_sid: executionSid, name: 'ss1.sealed' }, queuedAt: new Date().toISOString() });
      },
      async stop() {
        await mocks.stop();
        await sheets.stop();
      },
    };
  } catch (error) {
    await mocks.stop();
    await sheets.stop();
    throw error;
  }
}
