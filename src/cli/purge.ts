import type { Command } from 'commander';
import { purgeRound, type PurgeSummary } from '../closing/purge.js';
import { retentionWarning } from '../closing/round.js';
import { senderNumber } from '../deploy/webhook.js';
import { launchProgress } from '../launch/progress.js';
import { parseRate, TokenBucket } from '../launch/rate.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, UserError } from './common.js';
import { openRound, parseDuration, roundOptions, type RoundCliOptions } from './round-options.js';
import { fmtInt, warn } from './terminal.js';

interface PurgeCliOptions extends RoundCliOptions {
  olderThan: string;
  dryRun?: boolean;
  keepExecutions?: boolean;
  from?: string;
  rate: string;
  concurrency: string;
}

/** Twilio answers 429 beyond an account's share of concurrent requests; this pace stays well under it. */
const DEFAULT_RATE = '20/s';
const LIST_LIMIT = 200;

export function addPurge(program: Command): void {
  roundOptions(program.command('purge'))
    .description("remove the plaintext Twilio keeps of a closed round: redact and delete each conversation's messages, then its Studio execution")
    .option('--older-than <duration>', 'only executions that ended at least this long ago (30m, 1h, 2d)', '1h')
    .option('--dry-run', 'list what would be redacted and deleted; change nothing')
    .option('--keep-executions', 'redact and delete the messages, keep the executions')
    .option('--from <sender>', "the flow's sender (whatsapp:+1415… or +1415…), when the executions' context does not name it")
    .option('--rate <n/s>', `Twilio requests a second, reads included (${DEFAULT_RATE}; Twilio answers 429 beyond an account's limits, and purge then slows down)`, DEFAULT_RATE)
    .option('--concurrency <n>', 'executions handled at once', '4')
    .addHelpText(
      'after',
      `
For each execution of the flow that has ended, whose row is in the sheet
(its execution_sid is in the execution_sid column: a row still in the Sync
queue does not count, run flush first) and that ended at least --older-than
ago, purge:
  1. redacts every message of its conversation (Body set to empty), inbound
     and outbound: the messages between the contact and the flow's sender
     from 1 minute before the execution started to 5 minutes after it ended;
  2. deletes each of those messages that is in a final state (delivered,
     read, undelivered, failed, received, canceled); one still sent, queued
     or sending is left and counted, for a later run;
  3. deletes the execution with its steps, once none of its messages is left
     (not with --keep-executions).
Active executions and executions without a row are never touched. Twilio is
the record of what is left, so purge can be stopped (Ctrl-C) and run again,
and run later for the messages that were not final: nothing is deleted twice.
Only SIDs, counts and dates are printed; never a body, number or answer.
What purge cannot remove (Twilio's backups, kept up to 30 days; the Debugger;
WhatsApp's and carriers' copies) is in docs/CLOSING.md.

Exit status: 0 every eligible execution purged, 1 messages left for a later
run, an execution that failed, or a service failed, 2 bad options or
configuration, 130 interrupted (run it again to continue).

Examples:
  $ sealed-survey purge --flow whatsapp-survey --env prod --env-file .env.prod --dry-run
  $ sealed-survey purge --flow whatsapp-survey --env prod --env-file .env.prod --older-than 2h
  $ sealed-survey purge --flow FW0123456789abcdef0123456789abcdef --keep-executions`,
    )
    .action(async (opts: PurgeCliOptions) => {
      const olderThanMs = parseDuration(opts.olderThan, '--older-than');
      const rate = parseRate(opts.rate);
      if (rate === undefined) throw new UserError(`--rate ${opts.rate} is not a rate: give requests a second, e.g. 20/s`, EXIT_USAGE);
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UserError('--concurrency must be a whole number from 1 to 64', EXIT_USAGE);
      const sender = opts.from === undefined ? undefined : senderNumber(opts.from);
      if (opts.from !== undefined && sender === undefined) throw new UserError('--from must be a sender in E.164 form: whatsapp:+1415… or +1415…', EXIT_USAGE);
      const { twilio, signal, flow, executions, sheet } = await openRound(opts, undefined);
      const retention = retentionWarning(executions);
      if (retention) warn(retention);
      let progress: ReturnType<typeof launchProgress> | undefined;
      const summary = await purgeRound(twilio, executions, (sid) => sheet.rows.has(sid), {
        flowSid: flow.sid,
        sender,
        olderThanMs,
        dryRun: opts.dryRun === true,
        keepExecutions: opts.keepExecutions === true,
        bucket: new TokenBucket(rate),
        signal,
        concurrency,
        onProgress: (done, total) => {
          progress ??= launchProgress(total, process.stderr, opts.dryRun ? 'purge (dry run)' : 'purge');
          progress.settled('done');
          if (done === total) progress.done();
        },
      });
      progress?.done();
      process.stdout.write(render(summary, `${flow.name} (${flow.sid})`, opts));
      if (summary.stopped) return;
      if (summary.failed.length > 0) throw new UserError(`${plural(summary.failed.length, 'execution')} could not be purged (reasons above): run purge again`, EXIT_FAILURE);
      if (!opts.dryRun && summary.retryLater > 0) throw new UserError(`${plural(summary.retryLater, 'message')} not in a final state yet: run purge again later`, EXIT_FAILURE);
    });
}

function render(s: PurgeSummary, flow: string, opts: PurgeCliOptions): string {
  const skipped = [
    s.skipped.active > 0 ? `${fmtInt(s.skipped.active)} active` : '',
    s.skipped.unconfirmed > 0 ? `${fmtInt(s.skipped.unconfirmed)} without a row in the sheet` : '',
    s.skipped.recent > 0 ? `${fmtInt(s.skipped.recent)} ended less than ${opts.olderThan} ago` : '',
  ].filter((x) => x !== '');
  const lines = [`flow ${flow}: ${plural(s.eligible, 'execution')} to purge (ended, row in the sheet, ended over ${opts.olderThan} ago)${skipped.length > 0 ? `; left alone: ${skipped.join(', ')}` : ''}`];
  if (opts.dryRun) {
    const total = (k: 'redact' | 'delete' | 'waiting') => s.plan.reduce((n, p) => n + p[k], 0);
    lines.push(`dry run, nothing changed: would redact ${plural(total('redact'), 'message')}, delete ${plural(total('delete'), 'message')} (${fmtInt(total('waiting'))} not final yet: left for a later run) and delete ${plural(s.plan.filter((p) => p.deleteExecution).length, 'execution')}`);
    for (const p of s.plan.slice(0, LIST_LIMIT)) lines.push(`  ${p.executionSid}  redact ${p.redact}, delete ${p.delete}${p.waiting > 0 ? `, ${p.waiting} not final` : ''}${p.deleteExecution ? ', delete the execution' : ''}`);
    if (s.plan.length > LIST_LIMIT) lines.push(`  … ${fmtInt(s.plan.length - LIST_LIMIT)} more`);
  } else {
    lines.push(
      `${s.stopped ? 'stopped (run purge again to continue): ' : ''}redacted ${plural(s.redacted, 'message')}, deleted ${plural(s.deleted, 'message')}, ${fmtInt(s.retryLater)} left for a later run (not in a final state yet); deleted ${plural(s.executionsDeleted, 'execution')}${s.executionsKept > 0 ? `, kept ${fmtInt(s.executionsKept)}${opts.keepExecutions ? ' (--keep-executions)' : ' (messages left)'}` : ''}`,
    );
  }
  for (const f of s.failed.slice(0, LIST_LIMIT)) lines.push(`  failed: ${f.executionSid}: ${f.why}`);
  if (s.eligible === 0 && s.skipped.unconfirmed > 0) lines.push('executions without a row are never purged: run reconcile, and flush if rows are queued');
  return `${lines.join('\n')}\n`;
}
