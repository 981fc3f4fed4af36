// launch's tracker, <contacts>.launch.csv: one row per contact with caseid,
// status, execution_sid, error, sent_at — never a number.

import { plural, UserError } from '../cli/common.js';
import { columnsOf, readTableFile } from './table-file.js';

export interface TrackerRow {
  readonly caseid: string;
  readonly status: string;
  /** The Studio Execution (FN…), empty when none was created. */
  readonly executionSid: string;
  readonly error: string;
  /** Milliseconds since the epoch, undefined when not sent. */
  readonly sentAt: number | undefined;
}

export const TRACKER_COLUMNS = ['caseid', 'status', 'execution_sid', 'error', 'sent_at'] as const;

export async function readTracker(file: string): Promise<TrackerRow[]> {
  const table = await readTableFile(file, 'the tracker');
  const at = columnsOf(table, TRACKER_COLUMNS, file, 'the tracker');
  const rows = new Map<string, TrackerRow>();
  const badDates: number[] = [];
  const blankIds: number[] = [];
  for (const { line, cells } of table.rows) {
    const caseid = cells[at.caseid] ?? '';
    if (caseid === '') {
      blankIds.push(line);
      continue;
    }
    const sent = cells[at.sent_at] ?? '';
    const sentAt = sent === '' ? undefined : Date.parse(sent);
    if (sentAt !== undefined && !Number.isFinite(sentAt)) badDates.push(line);
    // A resumed launch appends a later row for the same caseid: the last one counts.
    rows.delete(caseid);
    rows.set(caseid, { caseid, status: cells[at.status] ?? '', executionSid: cells[at.execution_sid] ?? '', error: cells[at.error] ?? '', sentAt });
  }
  const lines = (l: number[]) => `${plural(l.length, 'line')} ${l.slice(0, 10).join(', ')}${l.length > 10 ? ' …' : ''}`;
  if (blankIds.length > 0) throw new UserError(`the tracker ${file} has rows without a caseid (${lines(blankIds)}): it is written by sealed-survey launch; do not edit it by hand`);
  if (badDates.length > 0) throw new UserError(`the tracker ${file} has sent_at values that are not ISO 8601 dates (${lines(badDates)}): it is written by sealed-survey launch; do not edit it by hand`);
  if (rows.size === 0) throw new UserError(`the tracker ${file} has no rows: run sealed-survey launch first`);
  return [...rows.values()];
}
