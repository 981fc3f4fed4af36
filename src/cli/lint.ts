import type { Command } from 'commander';
import { FlowError, readFlow } from '../flow/definition.js';
import { lintFlow, type Finding } from '../flow/lint.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, UserError } from './common.js';

/** One line per finding: `file: widget → property: [warning: ]message`. */
export function formatFinding(f: Finding): string {
  return `${f.file}: ${f.widget} → ${f.property}: ${f.severity === 'warning' ? 'warning: ' : ''}${f.message}`;
}


export function addLint(program: Command): void {
  program
    .command('lint')
    .description('check Studio flow definitions: personal data reaching a Function, HTTP request or subflow unencrypted, and broken transitions or references')
    .argument('<flow.json...>', 'flow definitions exported from Studio (Flow → Export to JSON) or fetched with the Flows API')
    .addHelpText(
      'after',
      `
Personal data is what the flow gives the encrypt widget (a Run Function whose
URL ends in /encrypt), flow variables set from it, and the respondent's address.
It must reach other Functions, HTTP requests and subflows only sealed, as
{{widgets.encrypt.parsed.<field>}}. Routing on an answer (Split Based On) and
messaging the respondent are fine; quoting an answer back in a message is a
warning (the text lands in Twilio's message logs).

Every column the publish widget writes in plaintext must be declared
publishable, with the reason, in <flow folder>/columns/<flow name>.json
(\`sealed-survey flow columns FLOW\` shows the classes and what is missing).

Output: one line per finding, "file: widget → property: message"
(warnings say "warning:"), and a summary on stderr.
Exit status: 0 no errors (warnings allowed), 1 errors found, 2 a file could not be read.

Examples:
  $ sealed-survey lint flows/whatsapp-survey.json
  $ sealed-survey lint flows/*.json
`,
    )
    .action((files: string[]) => {
      const unreadable: string[] = [];
      let errors = 0;
      let warnings = 0;
      for (const file of files) {
        let flow;
        try {
          flow = readFlow(file);
        } catch (error) {
          if (!(error instanceof FlowError)) throw error;
          unreadable.push(error.message);
          continue;
        }
        for (const finding of lintFlow(flow, file)) {
          process.stdout.write(`${formatFinding(finding)}\n`);
          if (finding.severity === 'error') errors++;
          else warnings++;
        }
      }
      for (const message of unreadable) process.stderr.write(`sealed-survey lint: ${message}\n`);
      const linted = files.length - unreadable.length;
      const summary = `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(linted, 'flow')}`;
      if (unreadable.length > 0) throw new UserError(`${summary}; ${plural(unreadable.length, 'file')} could not be linted (see above)`, EXIT_USAGE);
      if (errors > 0) throw new UserError(`${summary}: fix the errors above, then lint again`, EXIT_FAILURE);
      process.stderr.write(`sealed-survey: ${summary}${warnings > 0 ? ' (warnings do not fail the lint)' : ''}\n`);
    });
}
