// `sealed-survey flow …`: commands about one Studio flow file. Each
// subcommand is added by its own function.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { deploymentOf, readExisting } from '../deploy/deploy.js';
import { FlowNotFound, pullFlow } from '../deploy/pull.js';
import { twilioFor } from './twilio-session.js';
import { surveyColumns, type SurveyColumns } from '../flow/columns.js';
import { FlowError, readFlow, type FlowDefinition } from '../flow/definition.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, UserError } from './common.js';
import { formatFinding } from './lint.js';

export function addFlow(program: Command): void {
  const flow = program
    .command('flow')
    .description('work on a Studio flow file: the sheet columns it publishes, and pulling a deployed flow back into git')
    .addHelpText(
      'after',
      `
Each command's --help gives its output and exit status.

Examples:
  $ sealed-survey flow columns flows/whatsapp-survey.json
  $ sealed-survey flow pull whatsapp-survey --env dev`,
    );
  addColumns(flow);
  addPull(flow);
}

interface PullOptions {
  env: string;
  service: string;
  out?: string;
  allowCredentials?: boolean;
}

function addPull(flow: Command): void {
  flow
    .command('pull')
    .description('write a deployed flow into flows/, with this project\'s Functions turned back into placeholders')
    .argument('<name|FW…>', 'the flow\'s friendly name (its file name without .json, as deploy names it) or its SID')
    .option('--env <name>', 'the environment whose Functions the flow calls (credentials may come from .env.<name>)', 'dev')
    .option('--service <name>', 'the Functions service\'s unique name', 'sealed-survey')
    .option('-o, --out <file>', 'where to write it (default: flows/<friendly name>.json)')
    .option('--allow-credentials', 'write it even though it seems to hold a credential (an auth token, an API secret, a password in a URL)')
    .addHelpText(
      'after',
      `
Brings changes made in Studio's editor into git: review them with git diff,
commit, and deploy again. The file stays account-neutral: the Run Function
widgets calling this project's Functions get the repository's placeholder
SIDs and domain back. A definition that seems to hold a credential is not
written (the widget and property are named, never the value) unless
--allow-credentials.

Credentials as for deploy: TWILIO_ACCOUNT_SID with TWILIO_API_KEY and
TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN), from the environment or .env.<name>.

Exit status: 0 written, 1 not found or refused, 2 bad options or credentials.

Examples:
  $ sealed-survey flow pull whatsapp-survey
  $ sealed-survey flow pull FWxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx -o flows/edited.json`,
    )
    .action(async (nameOrSid: string, opts: PullOptions) => {
      const { twilio } = await twilioFor(opts.env);
      const deployment = deploymentOf(await readExisting(twilio, opts.service, opts.env));
      let pulled;
      try {
        pulled = await pullFlow(twilio, nameOrSid, deployment);
      } catch (error) {
        if (error instanceof FlowNotFound) throw new UserError(error.message);
        throw error;
      }
      if (pulled.credentials.length > 0 && !opts.allowCredentials) {
        const where = pulled.credentials.map((c) => `  ${c.widget} → ${c.property}: ${c.kind}`).join('\n');
        throw new UserError(`flow "${pulled.friendlyName}" was not written: it seems to hold a credential, which must not go into git:\n${where}\nMove it into the Functions' environment variables, or pass --allow-credentials if it is not one`);
      }
      const out = opts.out ?? join('flows', `${pulled.friendlyName.replace(/[^A-Za-z0-9_.-]+/g, '-')}.json`);
      writeFileSync(out, `${JSON.stringify(pulled.definition, null, 2)}\n`);
      process.stderr.write(`wrote ${out}: flow ${pulled.sid}, revision ${pulled.revision}${pulled.placeholders > 0 ? `, ${plural(pulled.placeholders, 'widget')} back to placeholders` : ''}${deployment ? '' : ' (no deployment found in this environment: SIDs kept as they are)'}\n`);
    });
}

/** A flow file the user named; anything else is wrong usage (exit 2). */
function readFlowArgument(file: string): FlowDefinition {
  try {
    return readFlow(file);
  } catch (error) {
    if (error instanceof FlowError) throw new UserError(error.message, EXIT_USAGE);
    throw error;
  }
}

function addColumns(flow: Command): void {
  flow
    .command('columns')
    .description("the sheet's columns as the flow publishes them: sealed, system or plain, and whether each plain column is declared publishable")
    .argument('<flow.json>', 'a flow exported from Studio (Flow → Export to JSON) or fetched with the Flows API')
    .option('--json', 'print one JSON object (header, PII_COLUMNS, columns, problems) instead of the table')
    .addHelpText(
      'after',
      `
Each parameter of the publish widget (a Run Function whose URL ends in
/publish) is a column of the sheet, after received_at:
  sealed  the value is exactly {{widgets.<encrypt>.parsed.<field>}}: a token;
          these columns are the publish Function's PII_COLUMNS
  system  execution_sid ({{flow.sid}}), respondent_id (the encrypt widget's
          pseudonym), received_at (stamped by publish), outcome,
          final_status and last_answered
  plain   anything else: published in plaintext, so it must be declared
          publishable, with the reason that is acceptable, in
          <flow folder>/columns/<flow name>.json:
            {"publishable": {"age": "why publishing it in plaintext is acceptable"}}
outcome and final_status are system columns: how each execution ended, set
from the vocabulary in src/flow/outcomes.ts (the flow publishes one row on
every terminal path); last_answered names the last question answered, as
tools/flow-outcomes.ts writes it. ended_at is reserved.

Output: the table (column, class, source widget, and for plain columns the
declared reason or NOT DECLARED) and the PII_COLUMNS line on stdout; problems
on stderr, one per line ("file: widget → property: message").
Exit status: 0 no errors (warnings allowed), 1 a plain column is not declared
or another error, 2 wrong usage (the file is missing or not a flow).

Examples:
  $ sealed-survey flow columns flows/whatsapp-survey.json
  $ sealed-survey flow columns --json flows/whatsapp-survey.json
`,
    )
    .action((file: string, opts: { json?: boolean }) => {
      const columns = surveyColumns(readFlowArgument(file), file);
      if (opts.json) process.stdout.write(`${JSON.stringify(asJson(file, columns), null, 2)}\n`);
      else {
        if (columns.columns.length > 0) process.stdout.write(`${table(columns)}\n\nPII_COLUMNS=${columns.piiColumns.join(',') || '-'}\n`);
        for (const p of columns.problems) process.stderr.write(`${formatFinding({ file, ...p })}\n`);
      }
      const errors = columns.problems.filter((p) => p.severity === 'error').length;
      const summary = `${plural(errors, 'error')}, ${plural(columns.problems.length - errors, 'warning')} in ${file}`;
      if (errors > 0) throw new UserError(`${summary}: fix the errors${opts.json ? ' listed in "problems"' : ' above'}, then run again`, EXIT_FAILURE);
      if (!opts.json) process.stderr.write(`sealed-survey: ${summary}\n`);
    });
}

function table(columns: SurveyColumns): string {
  const rows = [
    ['COLUMN', 'CLASS', 'SOURCE', 'PUBLISHABLE BECAUSE'],
    ...columns.columns.map((c) => [c.name, c.class, c.source, c.class === 'plain' ? (c.reason ?? 'NOT DECLARED') : '']),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function asJson(file: string, columns: SurveyColumns) {
  return {
    flow: file,
    declaration: columns.declaration,
    header: columns.header,
    piiColumns: columns.piiColumns,
    columns: columns.columns.map((c) => ({ name: c.name, class: c.class, source: c.source, ...(c.class === 'plain' ? { reason: c.reason ?? null } : {}) })),
    problems: columns.problems,
  };
}
