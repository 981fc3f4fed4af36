import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { doctor, type Check } from '../deploy/doctor.js';
import { GOOGLE_KEY_ASSET } from '../deploy/preflight.js';
import { checkSheet } from '../deploy/sheet-check.js';
import { senderNumber } from '../deploy/webhook.js';
import { surveyColumns } from '../flow/columns.js';
import { readFlow } from '../flow/definition.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, UserError } from './common.js';
import { defaultFlowFiles } from './flow-files.js';
import { envFileValues, twilioFor } from './twilio-session.js';
import { verdict } from './terminal.js';

interface DoctorCliOptions {
  env: string;
  flow?: string[];
  number?: string;
  service: string;
  functionsUrl?: string;
}

export function addDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check a live deployment, reading only: Functions protected, flow published and ours, sender wired, sheet header, Sync queue, context size')
    .option('--env <name>', 'the environment to check (credentials and SHEET_ID may come from .env.<name>)', 'dev')
    .option('--flow <file...>', 'the flows to check (default: flows/*.json, less flows that take only calls, as deploy)')
    .option('--number <sender>', 'also check that this sender\'s incoming messages go to the flow: whatsapp:+2547… or +2547…')
    .option('--service <name>', 'the Functions service\'s unique name', 'sealed-survey')
    .option('--functions-url <url>', 'where the Functions answer, when not at their twil.io domain (a local run, a proxy)')
    .addHelpText(
      'after',
      `
Every check prints one line (ok or FAIL, what was found) and, when it fails,
the fix. Nothing is changed: doctor only reads, and sends one unsigned POST to
each Function to see it refused.

Exit status: 0 every check passed, 1 a check failed, 2 bad options or credentials.

Examples:
  $ sealed-survey doctor --env dev
  $ sealed-survey doctor --env prod --number whatsapp:+14155238886`,
    )
    .action(async (opts: DoctorCliOptions) => {
      const number = opts.number === undefined ? undefined : senderNumber(opts.number);
      if (opts.number !== undefined && !number) throw new UserError('--number must be a sender in E.164 form: whatsapp:+2547… or +2547…', EXIT_USAGE);
      const files = opts.flow ?? defaultFlowFiles();
      const { credentials, twilio } = await twilioFor(opts.env);
      const variables = envFileValues(opts.env);
      const header = files.length > 0 ? surveyColumns(readFlow(files[0] as string), files[0] as string).header : [];
      const sheet = async (): Promise<Check> => {
        const result = await checkSheet(header, variables, join('assets', GOOGLE_KEY_ASSET), { init: false, dryRun: true, sheetsApiUrl: process.env.SHEETS_API_URL });
        if (result.action === 'matches') return { name: 'sheet header', ok: true, detail: 'row 1 has every column the flow publishes' };
        const [first] = result.findings;
        return first ? { name: 'sheet header', ok: false, detail: first.problem, fix: first.fix } : { name: 'sheet header', ok: false, detail: 'not checked: SHEET_ID or the Google key (assets/) is missing here', fix: `set SHEET_ID in .env.${opts.env} and put the key in assets/${GOOGLE_KEY_ASSET}` };
      };
      const checks = await doctor(twilio, {
        serviceName: opts.service,
        envName: opts.env,
        accountSid: credentials.accountSid,
        flowNames: files.map((f) => basename(f).replace(/\.json$/i, '')),
        number,
        functionsUrl: opts.functionsUrl,
        sheet,
      });
      for (const check of checks) {
        process.stdout.write(`${verdict(check.ok)}  ${check.name}: ${check.detail}\n`);
        if (!check.ok && check.fix) process.stdout.write(`      fix: ${check.fix}\n`);
      }
      const failed = checks.filter((x) => !x.ok).length;
      if (failed > 0) throw new UserError(`${plural(failed, 'check')} of ${checks.length} failed`, EXIT_FAILURE);
      process.stderr.write(`all ${plural(checks.length, 'check')} passed\n`);
    });
}
