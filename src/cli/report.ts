import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { readFlow } from '../flow/definition.js';
import { questionOrder } from '../flow/order.js';
import { readTracker } from '../monitor/tracker.js';
import { renderPage } from '../report/html.js';
import { readDeliveredCases } from '../report/monitor-file.js';
import { readResponses } from '../report/responses.js';
import { computeRound } from '../report/round.js';
import { summaryJson, summaryLines } from '../report/summary.js';
import { refuseExisting, writeWhole } from '../write-whole.js';
import { EXIT_USAGE, UserError } from './common.js';
import { note } from './terminal.js';

const Options = z.object({
  tracker: z.string().min(1).optional(),
  monitor: z.string().min(1).optional(),
  flow: z.string().min(1).optional(),
  output: z.string().min(1).optional(),
  force: z.boolean().optional(),
  json: z.boolean().optional(),
});

/** responses.csv → responses.report.html, beside it. */
const defaultOutput = (responses: string) => join(dirname(responses), `${basename(responses).replace(/\.(csv|xlsx)$/i, '')}.report.html`);

export function addReport(program: Command): void {
  program
    .command('report')
    .description('a round in one page: funnel, outcomes and final status by day, time to complete, where people stopped, warnings')
    .argument('<responses>', "the survey sheet's export (CSV or XLSX), sealed or decrypted: only its system columns are read")
    .option('--tracker <file>', "launch's tracker, <contacts>.launch.csv: adds launched, the case ids and the time to complete")
    .option('--monitor <file>', "monitor's per-respondent file, <contacts>.monitor.csv (with --tracker): openers Twilio delivered to executions still running count as delivered")
    .option('--flow <file>', "the survey's flow (e.g. flows/whatsapp-survey.json): lists where people stopped in the order of its questions")
    .option('-o, --output <file>', 'the HTML page (default: <responses>.report.html beside the export)')
    .option('--force', 'replace the page if it exists')
    .option('--json', 'print the numbers as JSON instead of the table')
    .addHelpText(
      'after',
      `
Reads received_at, execution_sid, outcome, final_status and last_answered (and
caseid, if the sheet has one) and no other column, so a sealed export is enough. Writes one
self-contained HTML page (charts inlined, nothing fetched when it is opened,
nothing personal in it: counts, days, durations and row numbers) and prints a
short table. Definitions: docs/REPORT.md.

Exit status: 0 written (warnings included: they are part of the report),
1 a file cannot be read or lacks a column, 2 bad options or the page exists
(add --force), 130 stopped with Ctrl-C.

Examples:
  $ sealed-survey report responses.csv --tracker contacts.launch.csv
  $ sealed-survey report responses.csv --tracker contacts.launch.csv -o round-1.html --force
  $ sealed-survey report responses.csv --tracker contacts.launch.csv --monitor contacts.monitor.csv
  $ sealed-survey report responses.csv --flow flows/whatsapp-survey.json
  $ sealed-survey report responses-decrypted.csv --json`,
    )
    .action(async (responsesFile: string, raw: unknown) => {
      const parsed = Options.safeParse(raw);
      if (!parsed.success) throw new UserError(`bad options: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`, EXIT_USAGE);
      const opts = parsed.data;
      if (opts.monitor !== undefined && opts.tracker === undefined) throw new UserError('--monitor needs --tracker: the tracker says which execution each caseid of the monitor file has', EXIT_USAGE);
      const output = opts.output ?? defaultOutput(responsesFile);
      if (!/\.html?$/i.test(output)) throw new UserError(`-o ${output}: the page is HTML; give a name ending in .html`, EXIT_USAGE);
      refuseExisting(output, opts.force === true);
      // A flow that cannot be read is a FlowError naming the file: exit 1, as for the other files.
      const questions = opts.flow === undefined ? undefined : questionOrder(readFlow(opts.flow));
      const responses = await readResponses(responsesFile);
      const tracker = opts.tracker === undefined ? undefined : await readTracker(opts.tracker);
      const delivered = opts.monitor === undefined ? undefined : await readDeliveredCases(opts.monitor);
      const report = computeRound(responses, tracker, delivered, questions);
      const sources = [responsesFile, opts.tracker, opts.monitor, opts.flow].filter((f): f is string => f !== undefined).map((f) => basename(f));
      // 0644: the page holds counts and row numbers only, nothing personal.
      writeWhole(output, renderPage(report, { title: basename(responsesFile), sources, generatedAt: new Date() }), 0o644);
      process.stdout.write(opts.json === true ? summaryJson(report) : summaryLines(report));
      if (opts.json !== true) note(`report: ${output}`);
    });
}
