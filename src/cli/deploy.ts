import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { deploy, DeployRefused, type DeployReport } from '../deploy/deploy.js';
import { readInputs } from '../deploy/inputs.js';
import { GOOGLE_KEY_ASSET, type Finding } from '../deploy/preflight.js';
import { checkSheet } from '../deploy/sheet-check.js';
import { flowWebhook, pointSender, SenderNotFound, senderNumber } from '../deploy/webhook.js';
import { serverlessClient, twilioClient } from '../twilio/client.js';
import { EXIT_USAGE, plural, UserError } from './common.js';
import { defaultFlowFiles } from './flow-files.js';
import { credentialsFor } from './twilio-session.js';

interface DeployCliOptions {
  env: string;
  flow?: string[];
  number?: string;
  dryRun?: boolean;
  force?: boolean;
  initSheet?: boolean;
  service: string;
}

function revisionNote(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'flows', 'functions', 'src'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `sealed-survey deploy of ${commit}${dirty ? ' with uncommitted changes' : ''}`;
  } catch {
    return 'sealed-survey deploy (not a git checkout)';
  }
}

function findingsText(findings: readonly Finding[]): string {
  return findings.map((f, i) => `  ${i + 1}. ${f.problem}\n     fix: ${f.fix}`).join('\n');
}

function summary(report: DeployReport, header: readonly string[], sheet: string, webhook: string | undefined, dryRun: boolean): string {
  const lines = [
    dryRun ? 'Dry run: nothing was changed. The plan:' : 'Deployed.',
    `  service      ${report.serviceSid ?? '(new)'}  ${report.domainName ? `https://${report.domainName}` : ''}`.trimEnd(),
    `  environment  ${report.environmentSid ?? '(new)'}`,
    `  Functions    ${report.functions}${report.functionUrls.length ? `: ${report.functionUrls.join(', ')}` : ''}`,
    `  context      ${report.contextBytes} of 3072 bytes`,
    `  Sync         ${report.syncServiceSid ?? (dryRun ? 'would create the service "sealed-survey"' : '')}`,
  ];
  if (report.variablesRemoved.length > 0) lines.push(`  variables    ${dryRun ? 'would remove' : 'removed'} ${report.variablesRemoved.join(', ')} (not in the env file)`);
  for (const f of report.flows) {
    lines.push(`  flow         ${f.friendlyName}: ${f.action}${f.sid ? ` (${f.sid}${f.revision !== undefined ? `, revision ${f.revision}` : ''})` : ''}`);
    for (const c of f.changes) lines.push(`                 ${c.widget}.${c.property}: ${c.from || '(empty)'} → ${c.to}`);
  }
  if (webhook) lines.push(`  sender       ${webhook}`);
  lines.push(`  sheet        ${sheet}`, `  header       ${header.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function addDeploy(program: Command): void {
  program
    .command('deploy')
    .description('deploy the Functions, assets and flows to a Twilio account, checked first, and only what changed')
    .option('--env <name>', 'the environment: its variables are read from .env.<name>, and it names the Functions\' domain', 'dev')
    .option('--flow <file...>', 'the flows to deploy (default: flows/*.json, less flows that take only calls: deploy a voice survey with --flow, to its own --env)')
    .option('--number <sender>', 'point this sender\'s incoming messages at the flow: whatsapp:+2547… or +2547…')
    .option('--service <name>', 'the Functions service\'s unique name', 'sealed-survey')
    .option('--init-sheet', 'write the columns row 1 of the sheet lacks (at the right of what is there)')
    .option('--dry-run', 'check everything and print the plan, the flows\' changes and the sheet header; change nothing')
    .option('--force', 'overwrite a flow that was last changed in the Console (run `flow pull` first to keep those changes)')
    .addHelpText(
      'after',
      `
Credentials, as the Twilio CLI takes them, from the environment or .env.<name>
(never from the command line): TWILIO_ACCOUNT_SID with TWILIO_API_KEY and
TWILIO_API_SECRET (recommended) or TWILIO_AUTH_TOKEN. They are never uploaded.

Before anything is written, deploy checks and lists every problem at once:
the survey key, the Google key (a private asset, assets/${GOOGLE_KEY_ASSET}),
nothing secret among the files to upload, the Functions' context under 3 KB,
every flow passing lint, every published column classified, and the sheet's
row 1 seen with the service account. A second deploy with nothing changed
changes nothing.

Exit status: 0 deployed (or planned, with --dry-run), 1 a problem was found or
Twilio refused (nothing of that step was written), 2 bad options.

Examples:
  $ sealed-survey deploy --env dev --dry-run
  $ sealed-survey deploy --env dev --init-sheet --number whatsapp:+14155238886
  $ sealed-survey deploy --env prod --flow flows/whatsapp-survey.json
`,
    )
    .action(async (opts: DeployCliOptions) => {
      const root = process.cwd();
      const say = (line: string) => process.stderr.write(`${line}\n`);
      const flowFiles = opts.flow ?? defaultFlowFiles(root);
      if (flowFiles.length === 0) throw new UserError('no flow to deploy: give --flow FILE, or put the flow in flows/', EXIT_USAGE);
      const number = opts.number === undefined ? undefined : senderNumber(opts.number);
      if (opts.number !== undefined && !number) throw new UserError('--number must be a sender in E.164 form: whatsapp:+2547… or +2547…', EXIT_USAGE);

      const inputs = readInputs(root, opts.env, flowFiles, (dir) => readdirSync(dir));
      const credentials = credentialsFor(opts.env, inputs.envValues);
      const sheet = await checkSheet(inputs.header, inputs.variables, join(root, 'build', 'assets', GOOGLE_KEY_ASSET), {
        init: opts.initSheet === true,
        dryRun: opts.dryRun === true,
        sheetsApiUrl: process.env.SHEETS_API_URL,
      });
      const local = { ...inputs, findings: [...inputs.findings, ...sheet.findings] };
      const twilio = await twilioClient(credentials);
      let report: DeployReport;
      try {
        report = await deploy(local, twilio, () => serverlessClient(credentials), credentials.accountSid, {
          serviceName: opts.service,
          dryRun: opts.dryRun === true,
          force: opts.force === true,
          revisionNote: revisionNote(root),
          say,
        });
      } catch (error) {
        if (error instanceof DeployRefused) throw new UserError(`deploy stopped: ${plural(error.findings.length, 'problem')} to fix; nothing more was written:\n${findingsText(error.findings)}`);
        throw twilioError(error);
      }
      let webhook: string | undefined;
      const flowSid = report.flows[0]?.sid;
      if (number) {
        if (!flowSid) webhook = `would point ${number.slice(-4).padStart(number.length, '•')} at the flow once it exists`;
        else {
          try {
            const change = await pointSender(twilio, number, flowWebhook(credentials.accountSid, flowSid), opts.dryRun === true);
            webhook = `${change.owner} ${change.sid}: ${change.changed ? (opts.dryRun ? 'would point' : 'now points') : 'already points'} at the flow${change.changed ? ` (was: ${change.previous ?? 'nothing'})` : ''}`;
          } catch (error) {
            if (error instanceof SenderNotFound) throw new UserError(error.message);
            throw twilioError(error);
          }
        }
      }
      const sheetLine = { matches: 'row 1 has every column', written: `wrote ${sheet.missing.join(', ')} into row 1`, 'would write': `would write ${sheet.missing.join(', ')} into row 1`, 'not checked': 'not checked' }[sheet.action];
      process.stdout.write(summary(report, inputs.header, sheetLine, webhook, opts.dryRun === true));
    });
}

/** Twilio's refusals, said plainly: the status, Twilio's error code and its page; never a request's content. */
function twilioError(error: unknown): Error {
  const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };
  if (typeof status === 'number') {
    if (status === 401 || status === 403) return new UserError(`Twilio refused the credentials (HTTP ${status}): check TWILIO_ACCOUNT_SID and TWILIO_API_KEY/TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN)`);
    const more = typeof code === 'number' ? ` (Twilio error ${code}: https://www.twilio.com/docs/errors/${code})` : '';
    return new UserError(`Twilio answered HTTP ${status}${more}; what was deployed before this step stays as it was. Run deploy again: it picks up where it stopped`);
  }
  const network = (error as { code?: unknown } | null)?.code;
  if (typeof network === 'string') return new UserError(`Twilio could not be reached (${network}): check the network and run deploy again`);
  return error instanceof Error ? error : new Error(String(error));
}
