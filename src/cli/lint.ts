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
    .description('check Studio flow definitions: personal data leaving Studio unencrypted (Functions, HTTP requests, subflows, Flex, messages to others, publish columns), and broken transitions or references')
    .argument('<flow.json...>', 'flow definitions exported from Studio (Flow → Export to JSON) or fetched with the Flows API')
    .addHelpText(
      'after',
      `
Personal data is personal until declared otherwise: every answer (inbound.*,
Digits, SpeechResult, recordings), the respondent's address and profile fields
(contact.channel.address, trigger.message.From, ProfileName, …), flow.data,
trigger.parent.parameters, channel attributes, and every flow variable set
from one of them. It may reach another Function, an HTTP request, a subflow,
Flex task attributes, a TwiML redirect or a message to anyone but the
respondent only sealed, as {{widgets.encrypt.parsed.<field>}}; each such
error names the path from the source, through the variables, to the sink.
Routing on an answer (Split Based On) is fine; quoting it back to the
respondent is a warning (the text lands in Twilio's message logs). A Run
Function fail or HTTP failed that leads nowhere is an error where the widget
handles answers, else a warning.

A publish column must be sealed, or declared publishable, with the reason,
in <flow folder>/columns/<flow name>.json (\`sealed-survey flow columns FLOW\`
shows the classes and what is missing); personal data in any other column is
an error.

Output: one line per distinct finding, "file: widget → property: message"
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
