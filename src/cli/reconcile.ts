import type { Command } from 'commander';
import { endedAtWidget } from '../closing/ended-at.js';
import { hasGaps, reconcile, type MissingRow, type ReconcileReport } from '../closing/reconcile.js';
import { queuedSids, retentionWarning, twilioRead } from '../closing/round.js';
import { readTracker } from '../monitor/tracker.js';
import { QueueError, syncQueue } from '../queue/sync-queue.js';
import { EXIT_FAILURE, plural, UserError } from './common.js';
import { openRound, parseSince, roundOptions, type RoundCliOptions } from './round-options.js';
import { fmtInt, note, warn } from './terminal.js';

interface ReconcileCliOptions extends RoundCliOptions {
  since?: string;
  tracker?: string;
}

/** Steps are read for this many missing executions at once. */
const STEP_READS = 4;
/** Listed one per line up to this many; the rest are counted. */
const LIST_LIMIT = 200;

export function addReconcile(program: Command): void {
  roundOptions(program.command('reconcile'))
    .description("did every execution produce its row? Studio's executions against the sheet's execution_sid column, the Sync queue and launch's tracker")
    .option('--since <date>', 'only executions created since this day (2026-05-01) or date-time (default: all Twilio still keeps, about 30 days)')
    .option('--tracker <file>', "launch's tracker (<contacts>.launch.csv): also find contacts launched with no execution")
    .addHelpText(
      'after',
      `
Reads Studio's executions of the flow (status, dates; for each execution with
no row, its Steps, to name the widget it ended at), row 1 and the
execution_sid column of the sheet, and the Sync queue. Changes nothing. It
never reads, prints or writes an answer: only SIDs, caseids, widget names,
counts and dates.

Found and listed:
  missing rows          ended executions with no row in the sheet and none
                        queued (with the widget each ended at)
  queued rows           rows publish queued that are not in the sheet yet:
                        run \`sealed-survey flush\`
  duplicates            an execution_sid in more than one row
  launched, no execution  tracker rows whose execution Studio does not list
  rows with no execution  rows whose execution Studio does not list (purged,
                        past Twilio's ~30-day retention, or another flow)
Executions older than 25 days are warned about: Twilio drops execution data
about 30 days after an execution starts; reconcile and purge before then.

Exit status: 0 every ended execution has its row, 1 something is missing,
queued, duplicated or unlaunched (or a service failed), 2 bad options or
configuration, 130 interrupted.

Examples:
  $ sealed-survey reconcile --flow whatsapp-survey --env prod --env-file .env.prod
  $ sealed-survey reconcile --flow whatsapp-survey --since 2026-05-01 --tracker round1.launch.csv`,
    )
    .action(async (opts: ReconcileCliOptions) => {
      const since = parseSince(opts.since);
      const tracker = opts.tracker === undefined ? undefined : await readTracker(opts.tracker);
      const { config, twilio, signal, flow, executions, sheet } = await openRound(opts, since);
      let queued: Set<string>;
      try {
        queued = await queuedSids(syncQueue(config.sync));
      } catch (error) {
        if (error instanceof QueueError) throw new UserError(`the Sync queue could not be read: ${error.message}`);
        throw error;
      }
      const report = reconcile({ executions, sheet, queued, tracker, since });
      const missing = await widgetsOf(report, (sid) => twilioRead("read an execution's steps", () => endedAtWidget(twilio, flow.sid, sid)), signal);
      process.stdout.write(render(report, missing, `${flow.name} (${flow.sid})`, since));
      const retention = retentionWarning(executions);
      if (retention) warn(retention);
      if (hasGaps(report)) throw new UserError('the round is not complete: see the lists above', EXIT_FAILURE);
      note('every ended execution has its row in the sheet');
    });
}

async function widgetsOf(report: ReconcileReport, widget: (sid: string) => Promise<string | undefined>, signal: AbortSignal): Promise<MissingRow[]> {
  const out: MissingRow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < report.missing.length) {
      signal.throwIfAborted();
      const m = report.missing[next++] as ReconcileReport['missing'][number];
      out.push({ ...m, widget: await widget(m.executionSid) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(STEP_READS, report.missing.length) }, worker));
  return out.sort((a, b) => a.created - b.created);
}

const day = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function list<T>(items: readonly T[], line: (item: T) => string): string {
  const shown = items.slice(0, LIST_LIMIT).map((i) => `  ${line(i)}\n`).join('');
  return shown + (items.length > LIST_LIMIT ? `  … ${fmtInt(items.length - LIST_LIMIT)} more\n` : '');
}

function render(report: ReconcileReport, missing: readonly MissingRow[], flow: string, since: Date | undefined): string {
  const e = report.executions;
  const out = [
    `flow ${flow}${since ? `, executions since ${day(since.getTime())}` : ''}`,
    `executions: ${fmtInt(e.total)} (${fmtInt(e.ended)} ended, ${fmtInt(e.active)} active${report.activeWithoutRow > 0 ? `, ${fmtInt(report.activeWithoutRow)} of them with no row yet` : ''})`,
    `sheet: ${plural(report.sheetRows, 'execution')} with a row; Sync queue: ${plural(report.queued.length, 'row')}`,
    '',
  ].join('\n');
  const sections: string[] = [];
  if (missing.length > 0) sections.push(`missing rows: ${plural(missing.length, 'ended execution')} with no row and none queued\n${list(missing, (m) => `${m.executionSid}  started ${day(m.created)}  ended at ${m.widget ?? '(no steps listed)'}`)}`);
  if (report.queued.length > 0) sections.push(`queued rows: ${plural(report.queued.length, 'row')} in the Sync queue, not yet in the sheet: run \`sealed-survey flush\`\n${list(report.queued, (s) => s)}`);
  if (report.duplicates.length > 0) sections.push(`duplicates: ${plural(report.duplicates.length, 'execution')} in more than one row: keep one row each\n${list(report.duplicates, (d) => `${d.executionSid}  rows ${d.rows.join(', ')}`)}`);
  if (report.launchedWithoutExecution.length > 0) {
    sections.push(`launched, no execution: ${plural(report.launchedWithoutExecution.length, 'contact')} the tracker has as launched, whose execution Studio does not list\n${list(report.launchedWithoutExecution, (r) => `${r.caseid}  ${r.executionSid || '(no execution_sid)'}`)}`);
  }
  if (report.pendingInTracker.length > 0) sections.push(`pending in the tracker: ${plural(report.pendingInTracker.length, 'contact')} an interrupted launch left unsure: run launch with --resume\n${list(report.pendingInTracker, (c) => c)}`);
  if (report.rowsWithoutExecution.length > 0) {
    sections.push(`rows with no execution: ${plural(report.rowsWithoutExecution.reduce((n, r) => n + r.rows.length, 0), 'row')} whose execution Studio does not list (purged, past Twilio's retention, another flow, or typed by hand)\n${list(report.rowsWithoutExecution, (r) => `${r.executionSid}  row ${r.rows.join(', ')}`)}`);
  }
  return out + sections.join('\n') + (sections.length > 0 ? '\n' : '');
}
