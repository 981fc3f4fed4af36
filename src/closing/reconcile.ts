// Did every execution produce its row? The flow's executions, the sheet's
// execution_sid column, the Sync queue and (optionally) launch's tracker,
// compared: ended executions with no row (and the widget each ended at), rows
// with no execution, duplicated rows, rows still queued, launched contacts
// with no execution. Only SIDs, caseids, widget names, counts and dates come
// out; execution context is never kept.

import type { Duplicate } from '../publish/flush.js';
import type { TrackerRow } from '../monitor/tracker.js';
import type { RoundExecution, SheetRows } from './round.js';

export interface MissingRow {
  readonly executionSid: string;
  readonly created: number;
  /** The widget it ended at; undefined when Studio lists no steps. */
  readonly widget: string | undefined;
}

export interface ReconcileInput {
  readonly executions: readonly RoundExecution[];
  readonly sheet: SheetRows;
  readonly queued: ReadonlySet<string>;
  /** Launch's tracker, when given. */
  readonly tracker?: readonly TrackerRow[] | undefined;
  /** Only executions created since then were listed: rows received before it are not compared. */
  readonly since?: Date | undefined;
}

export interface ReconcileReport {
  readonly executions: { readonly total: number; readonly active: number; readonly ended: number };
  readonly sheetRows: number;
  /** Ended executions with no row in the sheet and none queued (widgets filled in by the caller). */
  readonly missing: ReadonlyArray<Omit<MissingRow, 'widget'>>;
  /** Active executions without a row yet: still running, not a gap. */
  readonly activeWithoutRow: number;
  /** This flow's rows in the Sync queue: not in the sheet until flush writes them. */
  readonly queued: readonly string[];
  /** Sheet rows whose execution Studio does not list (purged, past retention, another flow, or typed by hand). */
  readonly rowsWithoutExecution: ReadonlyArray<{ readonly executionSid: string; readonly rows: readonly number[] }>;
  /** This round's executions in more than one row (a duplicate of another's shows in rowsWithoutExecution). */
  readonly duplicates: readonly Duplicate[];
  /** Tracker rows launched with an execution Studio does not list, or with none at all. */
  readonly launchedWithoutExecution: ReadonlyArray<{ readonly caseid: string; readonly executionSid: string }>;
  /** Tracker rows left pending by an interrupted launch. */
  readonly pendingInTracker: readonly string[];
}

export function reconcile(input: ReconcileInput): ReconcileReport {
  const { executions, sheet, queued } = input;
  const listed = new Map(executions.map((e) => [e.sid, e]));
  const inSheet = (sid: string) => sheet.rows.has(sid);
  const missing = executions.filter((e) => e.status === 'ended' && !inSheet(e.sid) && !queued.has(e.sid)).map((e) => ({ executionSid: e.sid, created: e.created }));
  const activeWithoutRow = executions.filter((e) => e.status !== 'ended' && !inSheet(e.sid) && !queued.has(e.sid)).length;
  const since = input.since?.getTime();
  const rowsWithoutExecution = [...sheet.rows]
    .filter(([sid]) => !listed.has(sid))
    // A row received before --since belongs to an execution that was not listed.
    .filter(([sid]) => since === undefined || (sheet.receivedAt.get(sid) ?? Number.POSITIVE_INFINITY) >= since)
    .map(([executionSid, rows]) => ({ executionSid, rows }));
  const duplicates = [...sheet.rows].filter(([sid, rows]) => rows.length > 1 && listed.has(sid)).map(([executionSid, rows]) => ({ executionSid, rows }));
  const tracker = input.tracker ?? [];
  const launchedWithoutExecution = tracker
    .filter((r) => r.status === 'launched' && (since === undefined || r.sentAt === undefined || r.sentAt >= since))
    .filter((r) => r.executionSid === '' || !listed.has(r.executionSid))
    .map((r) => ({ caseid: r.caseid, executionSid: r.executionSid }));
  const pendingInTracker = tracker.filter((r) => r.status === 'pending').map((r) => r.caseid);
  const ended = executions.filter((e) => e.status === 'ended').length;
  return {
    executions: { total: executions.length, active: executions.length - ended, ended },
    sheetRows: sheet.rows.size,
    missing,
    activeWithoutRow,
    // The queue serves every flow publishing to the sheet: only this round's executions are its business.
    queued: [...queued].filter((sid) => listed.has(sid)).sort(),
    rowsWithoutExecution,
    duplicates,
    launchedWithoutExecution,
    pendingInTracker,
  };
}

/** Whether the round has a gap that must be closed before purging: exit 1. */
export function hasGaps(report: ReconcileReport): boolean {
  return report.missing.length > 0 || report.queued.length > 0 || report.duplicates.length > 0 || report.launchedWithoutExecution.length > 0 || report.pendingInTracker.length > 0;
}
