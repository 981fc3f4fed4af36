// `sealed-survey flow …`: commands about one Studio flow file. Each
// subcommand is added by its own function (`flow columns` here; `flow pull`
// is to come beside it).

import type { Command } from 'commander';
import { surveyColumns, type SurveyColumns } from '../flow/columns.js';
import { FlowError, readFlow, type FlowDefinition } from '../flow/definition.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, UserError } from './common.js';
import { formatFinding } from './lint.js';

export function addFlow(program: Command): void {
  const flow = program
    .command('flow')
    .description('work on a Studio flow file: the sheet columns it publishes')
    .addHelpText(
      'after',
      `
Each command's --help gives its output and exit status.

Example:
  $ sealed-survey flow columns flows/whatsapp-survey.json`,
    );
  addColumns(flow);
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
          pseudonym) and received_at (stamped by publish)
  plain   anything else: published in plaintext, so it must be declared
          publishable, with the reason that is acceptable, in
          <flow folder>/columns/<flow name>.json:
            {"publishable": {"age": "why publishing it in plaintext is acceptable"}}
The names outcome and ended_at are reserved for the outcome of each execution
(recorded by the launch and monitor commands): the flow cannot publish them.

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
