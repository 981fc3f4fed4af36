// The launch tracker, <contacts>.launch.csv: one line per change of a
// contact's state, appended and written through to the file before the
// launch goes on, so a Ctrl-C, a crash or kill -9 loses nothing. A contact
// is `pending` before its request leaves and `launched` or `failed` once it
// is answered; the last line of a caseid wins. It holds no phone number.

import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { readCsvRows, encodeCell } from '../csv/scan.js';

export const TRACKER_HEADER = ['caseid', 'status', 'execution_sid', 'error', 'sent_at'] as const;
export type LaunchStatus = 'pending' | 'launched' | 'failed';

export interface TrackerRow {
  readonly caseid: string;
  readonly status: LaunchStatus;
  readonly executionSid: string;
  readonly error: string;
  readonly sentAt: string;
}

const STATUSES: readonly string[] = ['pending', 'launched', 'failed'];

/** <dir>/<name>.<suffix> for <dir>/<name>.<csv|xlsx>. */
export function besideContacts(contactsPath: string, suffix: string): string {
  return `${contactsPath.replace(/\.(csv|xlsx|txt)$/i, '')}.${suffix}`;
}

/** Each caseid's latest row; a tracker that is not ours is an error naming the file. */
export function readTracker(path: string): Map<string, TrackerRow> {
  const [header, ...rows] = readCsvRows(readFileSync(path));
  if (header?.join(',') !== TRACKER_HEADER.join(',')) throw new Error(`${path} is not a launch tracker (its first line is not ${TRACKER_HEADER.join(',')}): move it away`);
  const latest = new Map<string, TrackerRow>();
  for (const [caseid = '', status = '', executionSid = '', error = '', sentAt = ''] of rows) {
    // A line cut short by a crash has fewer cells or an unknown status: it is ignored (its contact is checked again).
    if (caseid === '' || !STATUSES.includes(status)) continue;
    latest.set(caseid, { caseid, status: status as LaunchStatus, executionSid, error, sentAt });
  }
  return latest;
}

export class Tracker {
  private readonly fd: number;

  constructor(readonly path: string) {
    const fresh = !existsSync(path);
    this.fd = openSync(path, 'a', 0o600);
    chmodSync(path, 0o600);
    if (fresh) this.line(TRACKER_HEADER);
    else if (!readFileSync(path).subarray(-1).equals(Buffer.from('\n')) && readFileSync(path).length > 0) writeSync(this.fd, '\n');
  }

  private line(cells: readonly string[]): void {
    // One write(2) per line: it is in the file (the OS's cache) before anything else happens.
    writeSync(this.fd, `${cells.map((c) => encodeCell(c)).join(',')}\n`);
  }

  write(row: TrackerRow): void {
    this.line([row.caseid, row.status, row.executionSid, row.error, row.sentAt]);
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
