// The sheet, seen with the Functions' own service account before deploying:
// reachable, and its row 1 has every column the flow publishes (matched as
// publish matches them). With --init-sheet the missing columns are written.

import { readFileSync } from 'node:fs';
import { columnFinder } from '../publish/header.js';
import { parseServiceAccount, sheetsClient } from '../sheets/client.js';
import { classify } from '../sheets/retry.js';
import { parseSpreadsheetId, SheetTable } from '../sheets/table.js';
import type { Finding } from './preflight.js';

export interface SheetCheck {
  readonly findings: readonly Finding[];
  /** The columns row 1 lacks (written with --init-sheet). */
  readonly missing: readonly string[];
  readonly action: 'matches' | 'written' | 'would write' | 'not checked';
}

const TIMEOUT_MS = 20_000;

export async function checkSheet(
  header: readonly string[],
  variables: Readonly<Record<string, string>>,
  keyFile: string,
  options: { readonly init: boolean; readonly dryRun: boolean; readonly sheetsApiUrl?: string | undefined },
): Promise<SheetCheck> {
  const spreadsheetId = parseSpreadsheetId(variables.SHEET_ID ?? '');
  if (!spreadsheetId || header.length === 0) return { findings: [], missing: [], action: 'not checked' };
  let account;
  try {
    account = parseServiceAccount(readFileSync(keyFile, 'utf8'), keyFile);
  } catch {
    return { findings: [], missing: [], action: 'not checked' };
  }
  const table = new SheetTable(sheetsClient({ account, rootUrl: options.sheetsApiUrl }), { spreadsheetId, tab: variables.SHEET_TAB?.trim() || undefined });
  let row1: string[];
  try {
    row1 = await table.header(TIMEOUT_MS);
  } catch (error) {
    const outcome = classify(error);
    const status = outcome.retry ? undefined : outcome.status;
    const problem =
      status === 401 || status === 403
        ? { problem: `the service account ${account.client_email} may not open the sheet (HTTP ${status})`, fix: `share the sheet with ${account.client_email} as Editor` }
        : status === 404
          ? { problem: 'no spreadsheet has this SHEET_ID', fix: 'copy the sheet\'s URL from the browser into SHEET_ID' }
          : status === 400
            ? { problem: 'Google rejected the sheet request (HTTP 400)', fix: 'check that SHEET_TAB names an existing tab' }
            : { problem: `Google Sheets could not be reached (${outcome.reason})`, fix: 'check the network and try again' };
    return { findings: [problem], missing: [], action: 'not checked' };
  }
  const find = columnFinder(row1);
  const missing = header.filter((c) => find(c) === undefined);
  if (missing.length === 0) return { findings: [], missing, action: 'matches' };
  if (!options.init) {
    return {
      findings: [{ problem: `row 1 of the sheet lacks ${missing.map((c) => `"${c}"`).join(', ')}`, fix: 'add them to row 1, or deploy with --init-sheet to write them (at the right of what is there)' }],
      missing,
      action: 'not checked',
    };
  }
  if (options.dryRun) return { findings: [], missing, action: 'would write' };
  const blank = row1.every((c) => c.trim() === '');
  await table.writeHeader(blank ? [...header] : [...row1, ...missing], TIMEOUT_MS);
  return { findings: [], missing, action: 'written' };
}
