// `sealed-survey decrypt-recording`: call recordings encrypted by Voice
// Recording Encryption, decrypted on the analyst's machine into a folder:
// a downloaded file with its encryption details, or recordings fetched by SID
// or by call and date through the Twilio API.

import type { Command } from 'commander';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decryptToFile, unwrapCek } from '../recordings/decrypt.js';
import { CALL_SID, PUBLIC_KEY_SID, RECORDING_SID, parseEncryptionDetails } from '../recordings/details.js';
import { RecordingError } from '../recordings/errors.js';
import { fetchAndDecrypt, type MediaFormat, type Outcome, selectRecordings, type Selection } from '../recordings/fetch.js';
import { keyInfoPath, readKeyInfo } from '../recordings/files.js';
import { fingerprintOf, parseRecordingPrivateKey } from '../recordings/keys.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, stopSignal, UserError } from './common.js';
import { keyArgumentError, looksLikeKeyText } from './key-sources.js';
import { note, warn } from './terminal.js';
import { credentialsFor } from './twilio-session.js';
import { twilioClient } from '../twilio/client.js';

interface Options {
  keyFile?: string;
  out: string;
  file?: string;
  details?: string;
  recordingSid?: string[];
  callSid?: string;
  since?: string;
  until?: string;
  publicKeySid?: string;
  format: string;
  env: string;
  progress: boolean;
}

const usage = (message: string) => new UserError(message, EXIT_USAGE);

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${what} ${path} ${code === 'ENOENT' ? 'does not exist (check the path)' : `cannot be read (${code ?? 'unknown error'})`}`, code === 'ENOENT' ? EXIT_USAGE : EXIT_FAILURE);
  }
}

/** The private key: --key-file (a path, or - for standard input) or RECORDING_PRIVATE_KEY; never a value on the command line. */
function privateKeyOf(opts: Options) {
  if (opts.keyFile !== undefined) {
    if (opts.keyFile !== '-' && looksLikeKeyText(opts.keyFile)) throw keyArgumentError();
    const text = opts.keyFile === '-' ? readFileSync(0, 'utf8') : readText(opts.keyFile, 'key file');
    if (opts.keyFile !== '-' && process.platform !== 'win32' && statSync(opts.keyFile).mode & 0o077) warn(`key file ${opts.keyFile} can be read by other users of this computer; run: chmod 600 "${opts.keyFile}"`);
    return parseRecordingPrivateKey(text, opts.keyFile === '-' ? 'standard input' : opts.keyFile);
  }
  const env = process.env.RECORDING_PRIVATE_KEY;
  if (env) return parseRecordingPrivateKey(env, 'RECORDING_PRIVATE_KEY');
  throw usage('no private key: give --key-file keys/recording-private.pem (or - for standard input), or set RECORDING_PRIVATE_KEY to the PEM text');
}

/** The key SID recordings must have been encrypted for: --public-key-sid, or recording-key.json beside the key file when it describes this key. */
function expectedKeySid(opts: Options, privateKey: ReturnType<typeof parseRecordingPrivateKey>): string | undefined {
  if (opts.publicKeySid !== undefined) {
    if (!PUBLIC_KEY_SID.test(opts.publicKeySid)) throw usage('--public-key-sid must be a public key SID: CR followed by 32 hex digits');
    return opts.publicKeySid;
  }
  if (opts.keyFile === undefined || opts.keyFile === '-') return undefined;
  const info = readKeyInfo(opts.keyFile);
  if (!info) return undefined;
  if (info.fingerprint !== fingerprintOf(privateKey)) {
    warn(`${keyInfoPath(opts.keyFile)} describes another key; its SID is not used (give --public-key-sid to check recordings against your key's SID)`);
    return undefined;
  }
  return info.public_key_sid;
}

function dateOption(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const at = Date.parse(day ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(at)) throw usage(`${name} must be a date (YYYY-MM-DD, UTC) or an ISO 8601 date-time such as 2026-05-01T08:00:00Z`);
  return new Date(at);
}

function selectionOf(opts: Options): Selection | undefined {
  const sids = opts.recordingSid ?? [];
  const query = opts.callSid !== undefined || opts.since !== undefined || opts.until !== undefined;
  if (opts.file !== undefined) {
    if (sids.length > 0 || query) throw usage('--file decrypts one downloaded recording: give it without --recording-sid, --call-sid, --since or --until');
    if (opts.details === undefined) throw usage('--file needs --details: a file holding the recording\'s encryption_details (the Recording resource JSON, or the EncryptionDetails of its status callback)');
    return undefined;
  }
  if (opts.details !== undefined) throw usage('--details goes with --file');
  for (const sid of sids) if (!RECORDING_SID.test(sid)) throw usage(`--recording-sid ${sid.slice(0, 40)} is not a recording SID (RE followed by 32 hex digits)`);
  if (sids.length > 0 && query) throw usage('choose recordings either by --recording-sid or by --call-sid/--since/--until, not both');
  if (sids.length > 0) return { kind: 'sids', sids };
  if (!query) throw usage('say which recordings: --file with --details, --recording-sid RE…, or --call-sid CA… and/or --since/--until');
  if (opts.callSid !== undefined && !CALL_SID.test(opts.callSid)) throw usage('--call-sid must be a call SID: CA followed by 32 hex digits');
  const since = dateOption('--since', opts.since);
  const until = dateOption('--until', opts.until);
  if (since && until && since >= until) throw usage('--since must be before --until');
  return { kind: 'query', ...(opts.callSid !== undefined ? { callSid: opts.callSid } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/** "decrypting 3/10 recordings" on a terminal's stderr, redrawn in place. */
function progress(enabled: boolean) {
  let drawn = false;
  return {
    update(done: number, total: number) {
      if (!enabled || total < 2) return;
      process.stderr.write(`\rdecrypting recordings: ${done}/${total}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\u001b[K');
    },
  };
}

async function decryptLocal(opts: Options & { file: string; details: string }, out: string, signal: AbortSignal): Promise<Outcome> {
  const privateKey = privateKeyOf(opts);
  const expected = expectedKeySid(opts, privateKey);
  const raw = readText(opts.details, 'details file');
  let data: unknown = raw;
  try {
    const json = JSON.parse(raw) as unknown;
    // A Recording resource carries the details under encryption_details; a callback's EncryptionDetails is the object itself.
    data = typeof json === 'object' && json !== null && 'encryption_details' in json ? (json as { encryption_details: unknown }).encryption_details : json;
  } catch {
    throw new RecordingError(`${opts.details}: not JSON; save the Recording resource (GET …/Recordings/RE….json) or the callback's EncryptionDetails value`);
  }
  const details = parseEncryptionDetails(data, opts.details);
  if (expected !== undefined && details.publicKeySid !== expected) {
    throw new RecordingError(`${opts.file}: encrypted for public key ${details.publicKeySid}, not for ${expected} (your key); Twilio uses another key when it cannot use the configured one (error 16107): decrypt it with the private key of ${details.publicKeySid}`);
  }
  if (!existsSync(opts.file)) throw usage(`--file ${opts.file} does not exist (check the path)`);
  const name = basename(opts.file).replace(/\.(enc|encrypted)$/i, '');
  const outPath = join(out, name);
  if (existsSync(outPath)) throw new RecordingError(`${outPath} already exists; refusing to overwrite it (move it away or choose another --out folder)`);
  const cek = unwrapCek(privateKey, details, opts.file);
  const written = await decryptToFile(createReadStream(opts.file, { signal }), cek, details, outPath, opts.file, undefined, signal);
  return { sid: name, ok: true, detail: written.path };
}

export function addDecryptRecording(program: Command): void {
  program
    .command('decrypt-recording')
    .description('decrypt call recordings made with Voice Recording Encryption (RSA-OAEP + AES-256-GCM, tag verified) into a folder')
    .option('--key-file <path>', 'the RSA private key (recording-private.pem from keygen --mode recording), or - for standard input')
    .option('--out <dir>', 'folder for the decrypted recordings (created if missing; files are 0600 and never overwritten)', 'recordings')
    .option('--file <path>', 'a downloaded encrypted recording to decrypt (needs --details)')
    .option('--details <file>', 'JSON with its encryption details: the Recording resource, or the status callback\'s EncryptionDetails')
    .option('--recording-sid <RE…>', 'fetch this recording through the API (repeat for several)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--call-sid <CA…>', 'fetch the recordings of this call')
    .option('--since <date>', 'fetch recordings created at or after this date (YYYY-MM-DD UTC, or ISO 8601)')
    .option('--until <date>', 'fetch recordings created before this date')
    .option('--public-key-sid <CR…>', 'refuse recordings encrypted for another public key (default: the SID in recording-key.json beside --key-file)')
    .option('--format <wav|mp3>', 'media format to download', 'wav')
    .option('--env <name>', 'the environment whose Twilio credentials to use (from the environment or .env.<name>)', 'dev')
    .option('--no-progress', 'no progress line')
    .addHelpText(
      'after',
      `
The private key comes from --key-file or RECORDING_PRIVATE_KEY, never from the command line.
A recording whose integrity check (AES-GCM tag) fails, that is truncated, or that was
encrypted for another key is refused and nothing is written for it.

Examples:
  $ sealed-survey decrypt-recording --key-file keys/recording-private.pem --file RE….wav --details RE….json
  $ sealed-survey decrypt-recording --key-file keys/recording-private.pem --recording-sid RE0123… --out recordings
  $ sealed-survey decrypt-recording --key-file keys/recording-private.pem --since 2026-05-01 --until 2026-05-08 --env prod

Exit codes: 0 every recording decrypted, 1 one or more refused or failed, 2 usage, 130 interrupted.
`,
    )
    .action(async (opts: Options) => {
      if (opts.format !== 'wav' && opts.format !== 'mp3') throw usage('--format must be wav or mp3');
      const selection = selectionOf(opts);
      mkdirSync(opts.out, { recursive: true, mode: 0o700 });
      // Ctrl-C unwinds through decryptToFile, which removes its partial plaintext, rather than exiting on the spot.
      const signal = stopSignal();
      if (!selection) {
        const done = await decryptLocal(opts as Options & { file: string; details: string }, opts.out, signal);
        note(`decrypted ${opts.file} into ${done.detail}`);
        return;
      }
      const privateKey = privateKeyOf(opts);
      const expected = expectedKeySid(opts, privateKey);
      const credentials = credentialsFor(opts.env);
      const twilio = await twilioClient(credentials);
      const recordings = await selectRecordings(twilio, selection);
      if (recordings.length === 0) {
        note('no recordings match; nothing was written');
        return;
      }
      const line = progress(opts.progress && process.stderr.isTTY === true);
      let outcomes: Outcome[];
      try {
        outcomes = await fetchAndDecrypt(recordings, { twilio, credentials, privateKey, expectedKeySid: expected, outDir: opts.out, format: opts.format as MediaFormat, onProgress: line.update, signal });
      } finally {
        line.done();
      }
      for (const o of outcomes) process.stderr.write(o.ok ? `ok    ${o.sid} → ${o.detail}\n` : `FAIL  ${o.detail}\n`);
      const failed = outcomes.filter((o) => !o.ok).length;
      const summary = `decrypted ${outcomes.length - failed} of ${plural(outcomes.length, 'recording')} into ${opts.out}`;
      if (failed) throw new UserError(`${summary}; ${plural(failed, 'recording')} refused (nothing written for them)`, EXIT_FAILURE);
      note(summary);
    });
}
