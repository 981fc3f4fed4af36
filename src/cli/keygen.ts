import type { Command } from 'commander';
import { keygen, type KeygenMode } from '../keys/files.js';
import { EXIT_USAGE, UserError } from './common.js';

const MODES: readonly KeygenMode[] = ['sealed', 'shared', 'pseudonym'];

export function addKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create the keys of a survey: a sealed-mode key pair (default), a shared key, or a pseudonym key')
    .option('--mode <mode>', 'sealed (public key on Twilio, private key with the analyst), shared (one secret), or pseudonym (for respondent_id)', 'sealed')
    .option('--out <dir>', 'folder to write the key files into (created if missing)', 'keys')
    .addHelpText(
      'after',
      `
Files written (never overwritten; mode 0600 for secrets):
  sealed     <dir>/survey-private.pem  private key: stays on the analyst's machine
             <dir>/survey-public.txt   public key: goes into SURVEY_PUBLIC_KEY
  shared     <dir>/survey-secret.key   goes into SURVEY_SECRET_KEY and to the analyst
  pseudonym  <dir>/pseudonym.key       goes into SURVEY_PSEUDONYM_KEY

Examples:
  $ sealed-survey keygen --out keys
  $ sealed-survey keygen --mode pseudonym --out keys
`,
    )
    .action((opts: { mode: string; out: string }) => {
      if (!MODES.includes(opts.mode as KeygenMode)) {
        throw new UserError(`--mode must be one of ${MODES.join(', ')}`, EXIT_USAGE);
      }
      const result = keygen(opts.mode as KeygenMode, opts.out);
      const err = (s: string) => process.stderr.write(`${s}\n`);
      if (result.mode === 'sealed') {
        err(`Created a sealed-mode key pair, key id ${result.kid}.`);
        err(`  private key: ${result.files[0]}  (keep it on the analyst's machine; never upload it to Twilio)`);
        err(`  public key:  ${result.files[1]}`);
        err('Put this line in the Functions\' environment (.env, or the Twilio Console):');
        process.stdout.write(`${result.envLine}\n`);
      } else if (result.mode === 'shared') {
        err(`Created a shared key, key id ${result.kid}: ${result.files[0]}`);
        err('Anyone with this key can read every answer: give it only to the analyst, and set SURVEY_SECRET_KEY to the file\'s content.');
        err('Prefer sealed mode (the default): then Twilio holds only a public key.');
      } else {
        err(`Created a pseudonym key: ${result.files[0]}`);
        err('Set SURVEY_PSEUDONYM_KEY to the file\'s content to add respondent_id to every response.');
      }
    });
}
