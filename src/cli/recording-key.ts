// `sealed-survey recording-key register`: uploads the recording public key as
// a Twilio PublicKey credential (Accounts v1 Credentials/PublicKeys), writes
// its SID beside the key (recording-key.json) and says the Console step that
// remains: choosing it for Voice Recording Encryption, which no API does.

import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fingerprintOf, parseRecordingPublicKey, spkiPem } from '../recordings/keys.js';
import { readKeyInfo, writeKeyInfo } from '../recordings/files.js';
import { RecordingError } from '../recordings/errors.js';
import { EXIT_USAGE, UserError } from './common.js';
import { twilioFor } from './twilio-session.js';

export const CONSOLE_STEP = (sid: string) =>
  `Remaining step, in the Twilio Console (no API does it): Voice → Settings → General → Voice Recording Encryption: turn it on and choose the public key ${sid}.\nThen set RECORDING_PUBLIC_KEY_SID=${sid} for the recording-status Function.`;

function readPublicKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `public key file ${path} does not exist (make one with \`sealed-survey keygen --mode recording\`)` : `public key file ${path} cannot be read (${code ?? 'unknown error'})`, code === 'ENOENT' ? EXIT_USAGE : 1);
  }
}

export function addRecordingKey(program: Command): void {
  const group = program.command('recording-key').description('the RSA public key Twilio encrypts call recordings for');
  group
    .command('register')
    .description('upload the recording public key to Twilio (Credentials/PublicKeys) and print its SID (CR…)')
    .requiredOption('--public-key <file>', 'the public key file (recording-public.pem from keygen --mode recording)')
    .option('--friendly-name <name>', 'the credential\'s name in the Console (at most 64 characters)')
    .option('--env <name>', 'the environment whose Twilio credentials to use (from the environment or .env.<name>)', 'dev')
    .addHelpText(
      'after',
      `
Credentials: TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN),
from the environment or .env.<env>. The private key is never read or sent.

Writes recording-key.json beside the public key (its SID and fingerprint), so
decrypt-recording can tell recordings encrypted for another key.

Examples:
  $ sealed-survey keygen --mode recording --out keys
  $ sealed-survey recording-key register --public-key keys/recording-public.pem --env prod

Exit codes: 0 registered, 1 failed (Twilio refused, already registered), 2 usage.
`,
    )
    .action(async (opts: { publicKey: string; friendlyName?: string; env: string }) => {
      const friendlyName = opts.friendlyName ?? `sealed-survey recordings ${new Date().toISOString().slice(0, 10)}`;
      if (friendlyName.length > 64) throw new UserError('--friendly-name is at most 64 characters', EXIT_USAGE);
      const text = readPublicKeyFile(opts.publicKey);
      const key = parseRecordingPublicKey(text, opts.publicKey);
      const fingerprint = fingerprintOf(key);
      const known = readKeyInfo(opts.publicKey);
      if (known?.fingerprint === fingerprint) {
        throw new RecordingError(`this key is already registered as ${known.public_key_sid} (see ${opts.publicKey.replace(/[^/]*$/, '')}recording-key.json); delete that file to register it again`);
      }
      const { twilio } = await twilioFor(opts.env);
      const created = await twilio.accounts.v1.credentials.publicKey.create({ publicKey: spkiPem(key), friendlyName }).catch((error: unknown) => {
        const e = error as { status?: unknown; code?: unknown; message?: unknown };
        if (typeof e.status !== 'number') throw error;
        throw new UserError(`Twilio refused to create the public key (HTTP ${e.status}${typeof e.code === 'number' ? `, error ${e.code}` : ''}): ${String(e.message)}`);
      });
      const info = writeKeyInfo(opts.publicKey, { public_key_sid: created.sid, fingerprint, friendly_name: friendlyName, registered_at: new Date().toISOString() });
      process.stderr.write(`Registered the recording public key as "${friendlyName}"; its SID is written to ${info}.\n`);
      process.stdout.write(`${created.sid}\n`);
      process.stderr.write(`${CONSOLE_STEP(created.sid)}\n`);
    });
}
