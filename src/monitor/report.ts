// monitor's output: the summary table for the terminal and the per-respondent
// file (caseids, states, codes: never a number, never a message body).

import { encodeCell } from '../csv/scan.js';
import { writeWhole } from '../write-whole.js';
import { fmtInt, paint } from '../cli/terminal.js';
import { explainError } from './error-codes.js';
import { STATES, type CaseState, type Summary } from './status.js';

const STATE_COLOR: Partial<Record<CaseState, number>> = { failed: 31, 'answered back': 32, unsolicited: 33 };

export function summaryTable(summary: Summary, context: { asOf: Date; stream: NodeJS.WriteStream }): string {
  const color = (code: number | undefined, text: string) => (code === undefined ? text : paint(code, text, context.stream));
  const lines: string[] = [];
  const total = summary.cases.length;
  lines.push(`${fmtInt(total)} respondents in the tracker, as of ${context.asOf.toISOString().replace(/\.\d{3}Z$/, 'Z')}`, '');
  const width = Math.max(...STATES.map((s) => s.length));
  lines.push(`${'state'.padEnd(width)}  ${'respondents'.padStart(11)}  share`);
  for (const state of STATES) {
    const n = summary.counts[state];
    const share = total === 0 ? 0 : (100 * n) / total;
    lines.push(`${color(n > 0 ? STATE_COLOR[state] : undefined, state.padEnd(width))}  ${fmtInt(n).padStart(11)}  ${share.toFixed(1).padStart(5)}%`);
  }
  lines.push('');
  const e = summary.executions;
  if (e.active + e.ended + e.unknown > 0) lines.push(`executions: ${fmtInt(e.active)} active, ${fmtInt(e.ended)} ended${e.unknown > 0 ? `, ${fmtInt(e.unknown)} not found in Studio` : ''}`);
  if (summary.lostReplies > 0) lines.push(color(31, `lost replies: ${fmtInt(summary.lostReplies)} (the respondent answered and Twilio could not hand the answer to the flow)`));
  if (summary.fromUnknownNumbers > 0) lines.push(`messages from numbers not in the contact list: ${fmtInt(summary.fromUnknownNumbers)}`);
  if (summary.errors.length > 0) {
    lines.push('', 'error  on        respondents  meaning');
    for (const err of summary.errors) {
      const meaning = err.inbound ? `a reply was lost: ${explainError(err.code)}` : explainError(err.code);
      lines.push(`${String(err.code).padEnd(5)}  ${(err.inbound ? 'reply' : 'opener').padEnd(8)}  ${fmtInt(err.cases).padStart(11)}  ${meaning}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const CASE_COLUMNS = ['caseid', 'state', 'message_status', 'error_code', 'error', 'replies', 'lost_replies', 'execution_status', 'last_activity'] as const;

/** The per-respondent file, written whole or not at all (a temporary file renamed over it), readable by its owner only. */
export function writeCaseFile(file: string, summary: Summary): void {
  const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const rows = summary.cases.map((c) => {
    const error = c.errorCode !== null ? `${c.errorCode}: ${explainError(c.errorCode)}` : c.launchError;
    return [c.caseid, c.state, c.messageStatus, c.errorCode === null ? '' : String(c.errorCode), error, String(c.replies), String(c.lostReplies), c.executionStatus, iso(c.lastActivity)];
  });
  const text = [CASE_COLUMNS, ...rows].map((r) => r.map((cell) => encodeCell(cell)).join(',')).join('\n') + '\n';
  writeWhole(file, text, 0o600);
}
