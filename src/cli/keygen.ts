import type { Command } from 'commander';
import { keygen, type KeygenMode } from '../keys/files.js';
import { recordingKeygen } from '../recordings/files.js';
import { EXIT_USAGE, UserError } from './common.js';

const MODES: readonly string[] = ['sealed', 'shared', 'pseudonym', 'recording'];

export function addKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create the keys of a survey: a sealed-mode key pair (default), a shared key, or a pseudonym key')
    .option('--mode <mode>', 'sealed (public key on Twilio, private key with the analyst), shared (one secret), pseudonym (for respondent_id), or recording (RSA pair for encrypted call recordings)', 'sealed')
    .option('--bits <n>', 'recording mode: RSA key size, 2048 or more', '2048')
    .option('--out <dir>', 'folder to write the key files into (created if missing)', 'keys')
    .addHelpText(
      'after',
      `
Files written (never overwritten; mode 0600 for secrets):
  sealed     <dir>/survey-private.pem  private key: stays on the analyst's machine
             <dir>/survey-public.txt   public key: goes into SURVEY_PUBLIC_KEY
  shared     <dir>/survey-secret.key   goes into SURVEY_SECRET_KEY and to the analyst
  pseudonym  <dir>/pseudonym.key       goes into SURVEY_PSEUDONYM_KEY
  recording  <dir>/recording-private.pem  RSA private key: decrypts call recordings (analyst only)
             <dir>/recording-public.pem   public key: \`sealed-survey recording-key register\` uploads it

Examples:
  $ sealed-survey keygen --out keys
  $ sealed-survey keygen --mode pseudonym --out keys
  $ sealed-survey keygen --mode recording --out keys

Exit codes: 0 written, 1 a key file already exists (nothing written), 2 usage.
`,
    )
    .action((opts: { mode: string; out: string; bits: string }) => {
      if (!MODES.includes(opts.mode)) {
        throw new UserError(`--mode must be one of ${MODES.join(', ')}`, EXIT_USAGE);
      }
      const err = (s: string) => process.stderr.write(`${s}\n`);
      if (opts.mode === 'recording') {
        const bits = Number(opts.bits);
        if (!/^\d+$/.test(opts.bits) || bits < 2048 || bits > 8192 || bits % 8 !== 0) throw new UserError('--bits must be a whole number from 2048 to 8192, a multiple of 8 (e.g. 2048 or 3072)', EXIT_USAGE);
        const made = recordingKeygen(opts.out, bits);
        err(`Created an RSA-${bits} key pair for encrypted call recordings.`);
        err(`  private key: ${made.privateFile}  (keep it on the analyst's machine; never upload it to Twilio)`);
        err(`  public key:  ${made.publicFile}`);
        err(`Next: sealed-survey recording-key register --public-key ${made.publicFile}`);
        return;
      }
      if (opts.bits !== '2048') throw new UserError('--bits is for --mode recording only', EXIT_USAGE);
      const result = keygen(opts.mode as KeygenMode, opts.out);
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
