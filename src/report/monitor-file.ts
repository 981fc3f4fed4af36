// monitor's per-respondent file (<contacts>.monitor.csv): which caseids'
// openers Twilio reported delivered or read, for executions still running
// (their row, and so their outcome, is not in the sheet yet).

import { columnsOf, readTableFile } from '../monitor/table-file.js';

/** monitor's states in which the opener reached the phone (src/monitor/status.ts). */
const REACHED = new Set(['delivered', 'read', 'answered back']);

export async function readDeliveredCases(file: string): Promise<Set<string>> {
  const what = "monitor's per-respondent file";
  const table = await readTableFile(file, what);
  const at = columnsOf(table, ['caseid', 'state'] as const, file, what);
  return new Set(table.rows.filter((r) => REACHED.has(r.cells[at.state] ?? '')).map((r) => r.cells[at.caseid] ?? ''));
}
