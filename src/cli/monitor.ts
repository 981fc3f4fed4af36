import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { countryCode, readContacts } from '../monitor/contacts.js';
import { summaryTable, writeCaseFile } from '../monitor/report.js';
import { summarize } from '../monitor/status.js';
import { readTracker } from '../monitor/tracker.js';
import { executionStates, listMessages } from '../monitor/twilio-reads.js';
import { EXIT_USAGE, plural, stopSignal, UserError } from './common.js';
import { note, warn } from './terminal.js';
import { twilioFor } from './twilio-session.js';

interface MonitorCliOptions {
  tracker: string;
  contacts: string;
  watch?: string;
  env: string;
  numberColumn?: string;
  defaultCountry?: string;
  out?: string;
}

/** Messages are looked for from this long before the first launch (clocks differ; early replies are unsolicited). */
const LOOK_BACK_MS = 60 * 60_000;
const MIN_WATCH_MINUTES = 0.05;

/** contacts.launch.csv → contacts.monitor.csv, beside the tracker. */
const defaultOut = (tracker: string) => join(dirname(tracker), `${basename(tracker).replace(/(\.launch)?\.csv$/i, '')}.monitor.csv`);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(ok, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      fail(signal.reason);
    }, { once: true });
  });
}

export function addMonitor(program: Command): void {
  program
    .command('monitor')
    .description("where each respondent of a launched round stands: failed, sent, delivered, read, answered back or unsolicited, with Twilio's error codes explained")
    .requiredOption('--tracker <file>', "launch's tracker, <contacts>.launch.csv")
    .requiredOption('--contacts <file>', 'the contact list given to launch (CSV or XLSX), to match messages to caseids in memory')
    .option('--watch <minutes>', 'refresh every so many minutes until Ctrl-C')
    .option('--env <name>', 'the environment whose credentials to use (.env.<name>)', 'dev')
    .option('--number-column <name>', 'the contact list\'s number column (default: phone, phone_number, number, mobile, msisdn, whatsapp…)')
    .option('--default-country <code>', 'the country of numbers written without +, as given to launch, e.g. KE')
    .option('--out <file>', 'the per-respondent file (default: <contacts>.monitor.csv beside the tracker)')
    .addHelpText(
      'after',
      `
Reads the tracker, the contact list and, from Twilio, the round's messages
(outbound and inbound) and its Studio executions; changes nothing on Twilio.
Prints a summary on the terminal and writes one row per caseid (state, the
opener's status, error code and its meaning, replies, lost replies, the
execution's state) to the per-respondent file. Numbers are used only in
memory to match messages to caseids: no number is printed or written.

States, one per respondent:
  not launched    launch has not sent to this contact
  failed          launch could not start the execution, or the opener failed (see the error)
  launched        the execution started; Twilio has no message for it yet
  sent            the opener left Twilio; no delivery report yet
  delivered       the opener reached the phone
  read            the respondent opened it (WhatsApp read receipts)
  answered back   the respondent replied
  unsolicited     the contact wrote, but was never launched
A reply with an error code (usually 11200: the flow's webhook failed) is a
lost answer: it is counted apart, whatever the respondent's state.

Exit status: 0 done (also when respondents failed: that is the report),
1 a file or Twilio could not be read, 2 bad options or credentials,
130 stopped with Ctrl-C (--watch ends this way).

Examples:
  $ sealed-survey monitor --tracker contacts.launch.csv --contacts contacts.xlsx --env prod
  $ sealed-survey monitor --tracker contacts.launch.csv --contacts contacts.csv --default-country KE --watch 5`,
    )
    .action(async (opts: MonitorCliOptions) => {
      const watchMinutes = opts.watch === undefined ? undefined : Number(opts.watch);
      if (watchMinutes !== undefined && !(Number.isFinite(watchMinutes) && watchMinutes >= MIN_WATCH_MINUTES)) {
        throw new UserError(`--watch takes minutes between refreshes, at least ${MIN_WATCH_MINUTES} (e.g. --watch 5)`, EXIT_USAGE);
      }
      const defaultCountry = countryCode(opts.defaultCountry);
      const out = opts.out ?? defaultOut(opts.tracker);
      const tracker = await readTracker(opts.tracker);
      const contacts = await readContacts(opts.contacts, { ...(opts.numberColumn !== undefined ? { numberColumn: opts.numberColumn } : {}), ...(defaultCountry !== undefined ? { defaultCountry } : {}) });
      const known = new Set(contacts.caseOf.values());
      const unmatched = tracker.filter((r) => !known.has(r.caseid)).length;
      if (contacts.unparsable > 0) note(`${plural(contacts.unparsable, 'row')} of the contact list without a caseid or a valid number: never sent, not matched`);
      if (unmatched > 0) warn(`${plural(unmatched, 'caseid')} of the tracker ${unmatched === 1 ? 'is' : 'are'} not in the contact list (or ${unmatched === 1 ? 'its number does' : 'their numbers do'} not parse): ${unmatched === 1 ? 'its' : 'their'} messages cannot be matched; is it the list given to launch, with the same --default-country?`);
      const { twilio } = await twilioFor(opts.env);
      const sent = tracker.map((r) => r.sentAt).filter((t): t is number => t !== undefined);
      const since = sent.length > 0 ? new Date(sent.reduce((a, b) => Math.min(a, b)) - LOOK_BACK_MS) : undefined;
      const executions = new Set(tracker.map((r) => r.executionSid).filter((s) => s !== ''));
      const signal = stopSignal();
      let warnedExecutions = false;
      for (;;) {
        const [messages, states] = await Promise.all([listMessages(twilio, since, signal), executionStates(twilio, executions, since, signal)]);
        if (states === undefined && !warnedExecutions) {
          warn("Studio's executions could not be listed: execution states are left blank");
          warnedExecutions = true;
        }
        const summary = summarize(tracker, contacts.caseOf, messages, states ?? new Map());
        writeCaseFile(out, summary);
        if (watchMinutes !== undefined && process.stdout.isTTY) process.stdout.write('\u001b[H\u001b[2J');
        process.stdout.write(summaryTable(summary, { asOf: new Date(), stream: process.stdout }));
        process.stdout.write(`\nper respondent: ${out}\n`);
        if (watchMinutes === undefined) return;
        process.stdout.write(`refreshing every ${plural(watchMinutes, 'minute')}; Ctrl-C to stop\n`);
        await sleep(watchMinutes * 60_000, signal);
      }
    });
}
