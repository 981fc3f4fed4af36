import { existsSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { encodeCell } from '../csv/scan.js';
import { senderNumber } from '../deploy/webhook.js';
import { launchChecks } from '../launch/checks.js';
import { contactList, type Contact } from '../launch/contacts.js';
import { createExecution, executionsSince, noAutoRetry } from '../launch/executions.js';
import { isCountry, maskNumber } from '../launch/numbers.js';
import { launchProgress } from '../launch/progress.js';
import { EXECUTIONS_PER_SECOND, parseRate, TokenBucket } from '../launch/rate.js';
import { runLaunch } from '../launch/runner.js';
import { readTable } from '../launch/table.js';
import { besideContacts, readTracker, Tracker } from '../launch/tracker.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, stopSignal, UserError } from './common.js';
import { fmtInt, note, warn } from './terminal.js';
import { twilioFor } from './twilio-session.js';

interface LaunchCliOptions {
  flow: string;
  from: string;
  paramColumns?: string;
  numberColumn?: string;
  contentSid?: string;
  rate: string;
  defaultCountry?: string;
  env: string;
  resume?: boolean;
  dryRun?: boolean;
  force?: boolean;
}

const usage = (message: string) => new UserError(message, EXIT_USAGE);

export function addLaunch(program: Command): void {
  program
    .command('launch')
    .description('start the survey for each contact of a CSV or XLSX list: one Studio execution per caseid, rate-limited, tracked and resumable')
    .argument('<contacts>', 'the contact list: .csv or .xlsx, with a caseid column and a number column')
    .requiredOption('--flow <name|FW…>', 'the deployed flow: its name (the file name without .json) or its SID')
    .requiredOption('--from <sender>', 'the sender: whatsapp:+2547… for WhatsApp, +2547… for SMS')
    .option('--param-columns <a,b>', 'columns sent as flow.data.<column>; every other column stays on this machine')
    .option('--number-column <name>', `the column with the numbers (default: the first of phone, phone_number, number, msisdn, mobile, whatsapp)`)
    .option('--content-sid <HX…>', 'sent to every contact as flow.data.content_sid (the approved template of the opener)')
    .option('--rate <n/s>', `new executions a second (Twilio allows ${EXECUTIONS_PER_SECOND} per account)`, '10/s')
    .option('--default-country <XX>', 'country of numbers written without +country code (ISO code, e.g. KE)')
    .option('--env <name>', 'credentials from the environment or .env.<name>', 'dev')
    .option('--resume', 'continue the tracker: skip launched contacts, retry failed ones')
    .option('--dry-run', 'read and check everything, write the review file, send nothing')
    .option('--force', 'go on when the sender cannot be checked through the API (a WhatsApp sender registered in the Console)')
    .addHelpText(
      'after',
      `
Before the first send everything is checked and every problem listed at once:
the contacts (caseid present, unique, non-empty), the flow (published, every
flow.data value it reads is sent, a WhatsApp opener is a content template),
the sender (its replies reach this flow) and the tracker (exists: --resume).

Numbers are read with libphonenumber (0711…, 254711…, +254 711 …); landlines
and numbers that cannot be read are not sent: they are listed, with the reason,
in <contacts>.review.csv (caseid, row, last 4 digits). Progress goes to
<contacts>.launch.csv (0600): caseid, status, execution_sid, error, sent_at,
one line per change, written as it happens; it holds no phone number. Ctrl-C
stops sending, waits for the requests under way and records them.

Exit status: 0 every contact launched, 1 a check failed or a contact failed
(see the tracker; --resume retries it), 2 bad options or credentials,
130 interrupted (--resume continues).

Examples:
  $ sealed-survey launch round1.xlsx --flow whatsapp-survey --from whatsapp:+14155238886 \\
      --param-columns first_name --content-sid HX0123456789abcdef0123456789abcdef --default-country KE --dry-run
  $ sealed-survey launch round1.xlsx --flow whatsapp-survey --from whatsapp:+14155238886 \\
      --param-columns first_name --content-sid HX0123456789abcdef0123456789abcdef --default-country KE --rate 10/s
  $ sealed-survey launch round1.xlsx --flow whatsapp-survey --from whatsapp:+14155238886 \\
      --param-columns first_name --content-sid HX0123456789abcdef0123456789abcdef --default-country KE --resume`,
    )
    .action(async (contactsPath: string, opts: LaunchCliOptions) => launch(contactsPath, opts));
}

async function launch(contactsPath: string, opts: LaunchCliOptions): Promise<void> {
  const rate = parseRate(opts.rate);
  if (rate === undefined) throw usage(`--rate ${opts.rate} is not a rate: give sends a second, e.g. 10/s`);
  const sender = senderNumber(opts.from);
  if (!sender) throw usage('--from must be a sender in E.164 form: whatsapp:+2547… or +2547…');
  const whatsapp = /^\s*whatsapp:/i.test(opts.from);
  const country = opts.defaultCountry?.toUpperCase();
  if (country !== undefined && !isCountry(country)) throw usage(`--default-country ${opts.defaultCountry} is not a country code libphonenumber knows: give two letters, e.g. KE`);
  if (opts.contentSid !== undefined && !/^HX[0-9a-fA-F]{32}$/.test(opts.contentSid)) throw usage('--content-sid must be a Content SID: HX followed by 32 hex digits (Content Template Builder)');
  const paramColumns = (opts.paramColumns ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!/\.(csv|xlsx|txt)$/i.test(contactsPath)) throw usage(`${contactsPath}: give a .csv or .xlsx file`);
  if (!existsSync(contactsPath)) throw usage(`${contactsPath} does not exist`);
  if (rate > EXECUTIONS_PER_SECOND) warn(`--rate ${opts.rate} is over Twilio's ${EXECUTIONS_PER_SECOND} new executions a second per account: unless Twilio raised yours, expect 429s (they are retried)`);

  const trackerPath = besideContacts(contactsPath, 'launch.csv');
  const reviewPath = besideContacts(contactsPath, 'review.csv');
  const { list, problems } = contactList(await readTable(contactsPath), { numberColumn: opts.numberColumn, paramColumns, defaultCountry: country, whatsapp });
  const sent = [...paramColumns, ...(opts.contentSid !== undefined ? ['content_sid'] : [])];

  const { credentials, twilio } = await twilioFor(opts.env);
  noAutoRetry(twilio);
  const checks = await launchChecks(twilio, { flowRef: opts.flow, sender, whatsapp, sent, accountSid: credentials.accountSid, force: opts.force === true });
  problems.push(...checks.problems);
  const trackerExists = existsSync(trackerPath);
  if (trackerExists && !opts.resume) problems.push(`${trackerPath} exists: this list was launched before, and launching again would message everyone twice; add --resume to continue it, or move it away to start a new round`);
  let previous = new Map<string, ReturnType<typeof readTracker> extends Map<string, infer R> ? R : never>();
  if (trackerExists && opts.resume) {
    try {
      previous = readTracker(trackerPath);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const w of checks.warnings) warn(w);
  if (problems.length > 0) throw new UserError(`launch stopped before sending anything, ${plural(problems.length, 'problem')} to fix:\n${problems.map((p) => `  - ${p}`).join('\n')}`, EXIT_FAILURE);
  const flow = checks.flow as NonNullable<typeof checks.flow>;

  if (list.review.length > 0) {
    writeFileSync(reviewPath, `row,caseid,number,reason\n${list.review.map((r) => [String(r.line), r.caseid, r.masked, r.reason].map((c) => encodeCell(c)).join(',')).join('\n')}\n`, { mode: 0o600 });
    warn(`${plural(list.review.length, 'contact')} not sent, listed with the reason in ${reviewPath}:`);
    for (const r of list.review.slice(0, 5)) note(`  row ${r.line}, caseid ${r.caseid}, ${r.masked}: ${r.reason}`);
    if (list.review.length > 5) note(`  … ${list.review.length - 5} more`);
  } else if (existsSync(reviewPath)) rmSync(reviewPath);

  // A contact pending in the tracker may have been launched just before a crash: Twilio's list says.
  const pending = list.contacts.filter((c) => previous.get(c.caseid)?.status === 'pending');
  let found = new Map<string, string>();
  if (pending.length > 0) {
    const earliest = pending.reduce((t, c) => Math.min(t, Date.parse(previous.get(c.caseid)?.sentAt ?? '') || t), Date.now());
    const since = new Date(earliest - 60_000);
    found = await executionsSince(twilio, flow.sid, since);
  }
  const skipped = list.contacts.filter((c) => previous.get(c.caseid)?.status === 'launched').length;
  const recovered: Array<{ contact: Contact; sid: string }> = [];
  const toSend: Contact[] = [];
  for (const c of list.contacts) {
    const before = previous.get(c.caseid);
    if (before?.status === 'launched') continue;
    const sid = before?.status === 'pending' ? found.get(c.to.replace(/^whatsapp:/i, '')) : undefined;
    if (sid !== undefined) recovered.push({ contact: c, sid });
    else toSend.push(c);
  }
  const secs = toSend.length / rate;
  const plan = `${fmtInt(toSend.length)} to send to flow ${flow.name} from ${maskNumber(sender)} at ${rate}/s (about ${Math.ceil(secs)} s)${skipped > 0 ? `, ${fmtInt(skipped)} launched before` : ''}${list.review.length > 0 ? `, ${fmtInt(list.review.length)} for review` : ''}`;
  if (opts.dryRun) {
    process.stdout.write(`Dry run: nothing was sent. ${plan}.\n`);
    return;
  }

  const tracker = new Tracker(trackerPath);
  try {
    for (const { contact, sid } of recovered) tracker.write({ caseid: contact.caseid, status: 'launched', executionSid: sid, error: '', sentAt: previous.get(contact.caseid)?.sentAt ?? '' });
    if (recovered.length > 0) note(`${plural(recovered.length, 'contact')} pending in the tracker had been launched: recorded, not sent again`);
    note(`launch: ${plan}`);
    const progress = launchProgress(toSend.length);
    const summary = await runLaunch({
      contacts: toSend,
      tracker,
      bucket: new TokenBucket(rate),
      create: (c) => createExecution(twilio, flow.sid, c.to, opts.from.trim(), { ...c.parameters, ...(opts.contentSid !== undefined ? { content_sid: opts.contentSid } : {}) }),
      signal: stopSignal(),
      onSettled: (o) => progress.settled(o),
    });
    progress.done();
    const achieved = progress.rate();
    process.stdout.write(
      `launched ${fmtInt(summary.launched)} of ${fmtInt(toSend.length)} at ${achieved.toFixed(1)}/s` +
        `${summary.failed > 0 ? `; ${fmtInt(summary.failed)} failed (see ${trackerPath}; --resume retries them)` : ''}` +
        `${summary.stopped > 0 || summary.launched + summary.failed < toSend.length ? `; stopped: ${fmtInt(toSend.length - summary.launched - summary.failed)} not launched (--resume continues)` : ''}` +
        `${summary.throttled > 0 ? `; Twilio throttled ${plural(summary.throttled, 'request')}` : ''}\n`,
    );
    if (summary.failed > 0) throw new UserError(`${plural(summary.failed, 'contact')} failed: the reasons are in ${trackerPath}`, EXIT_FAILURE);
  } finally {
    tracker.close();
  }
}
