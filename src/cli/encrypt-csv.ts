// sealed-survey encrypt-csv: seal columns of an existing CSV (test data, and
// migrating a legacy sheet when piped after decrypt-csv), or re-seal the `v2:`
// cells of a requests_to_twilio_v2 export as ss1 (--from-v2-key): opened and
// sealed in memory, cell by cell, so no plaintext is written anywhere.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveColumns } from '../csvcrypt/columns.js';
import { detectIpaV2Columns } from '../csvcrypt/ipa-v2-columns.js';
import { permissionWarnings, readKeyText } from '../keys/files.js';
import { ipaV2KeyOf, looksLikeKeyText, refuseSecretOption } from './key-sources.js';
import { defaultOutputPath, runCsvTransform } from '../csvcrypt/run.js';
import { StdoutClosed } from '../csvcrypt/stdout.js';
import { FIELD_NAME, identifierFor } from '../envelope/index.js';
import { KeyError, parsePublicKey, parseSharedKey } from '../keys/keys.js';
import { EXIT_USAGE, UserError } from './common.js';
import { plural } from '../plural.js';
import { note, progressLine, warn } from './terminal.js';

interface Options {
  columns?: string;
  fromV2Key?: string;
  publicKey?: string;
  keyFile?: string;
  output?: string;
  force?: boolean;
  quiet?: boolean;
}

function recipientText(opts: Options): string {
  if ((opts.publicKey === undefined) === (opts.keyFile === undefined)) {
    throw new UserError('give exactly one of --public-key KEY or --key-file PATH', EXIT_USAGE);
  }
  let text = opts.publicKey;
  if (opts.keyFile !== undefined) {
    try {
      text = readFileSync(opts.keyFile, 'utf8').trim();
    } catch (error) {
      throw new UserError(`key file ${opts.keyFile} cannot be read (${(error as NodeJS.ErrnoException).code})`);
    }
    if (text.includes('-----BEGIN')) throw new UserError(`${opts.keyFile} is a private key: sealing needs only the public key (survey-public.txt), which keeps the private key off this step`);
  } else if (opts.publicKey && !opts.publicKey.startsWith('sspk1.')) {
    throw new UserError('--public-key takes a public key (sspk1.…); a shared key is a secret: give it with --key-file', EXIT_USAGE);
  }
  try {
    (text as string).startsWith('sspk1.') ? parsePublicKey(text as string) : parseSharedKey(text as string);
  } catch (error) {
    if (error instanceof KeyError) throw new UserError(error.message);
    throw error;
  }
  return text as string;
}

/** The requests_to_twilio_v2 private key of --from-v2-key, as base64url of its 32 bytes. */
function fromV2Key(path: string): string {
  if (looksLikeKeyText(path)) refuseSecretOption('a key pasted after --from-v2-key');
  let text: string;
  try {
    text = readKeyText(path, 'key file');
  } catch (error) {
    if (error instanceof KeyError) throw new UserError(error.message);
    throw error;
  }
  const raw = ipaV2KeyOf(text, path);
  if (!raw) {
    throw new UserError(`${path} is not a requests_to_twilio_v2 private key: --from-v2-key takes that tool's rtt_private_key.txt (44 characters of urlsafe base64), or its .env holding ENCRYPTION_PRIVATE_KEY=…`);
  }
  for (const w of permissionWarnings(path)) warn(w);
  return raw.toString('base64url');
}

export function addEncryptCsv(program: Command): void {
  program
    .command('encrypt-csv')
    .description('seal columns of a CSV file into ss1 tokens (one response per row), streaming like decrypt-csv')
    .argument('<input>', 'CSV file, or - for standard input')
    .option('--columns <list>', 'columns to seal, by header name or number, comma-separated (with --from-v2-key: default, the columns holding v2: tokens)')
    .option('--public-key <key>', 'the public key (sspk1.…) to seal for')
    .option('--key-file <path>', 'survey-public.txt, or a shared key file')
    .option('--from-v2-key <path>', "re-seal a requests_to_twilio_v2 export: its private key file (rtt_private_key.txt); every non-empty cell of the columns must be a v2: token")
    .option('-o, --output <path>', 'output file; - for standard output (default: <input>.sealed.csv)')
    .option('--force', 'replace the output file if it exists')
    .option('-q, --quiet', 'no progress line and no summary')
    .addHelpText(
      'after',
      `
Each sealed cell is bound to its column (the header, made an identifier) and to its row.

Examples:
  $ sealed-survey encrypt-csv --columns name,phone --key-file keys/survey-public.txt plain.csv
  Migrate a legacy sheet to sealed tokens in one line:
  $ decrypt-csv --legacy-passphrase-file pass.txt --columns name,phone -o - old.csv \\
      | sealed-survey encrypt-csv --columns name,phone --key-file keys/survey-public.txt -o new.csv -
  Re-seal a requests_to_twilio_v2 export (v2: cells) as ss1, in one command:
  $ sealed-survey encrypt-csv --from-v2-key rtt_private_key.txt --key-file keys/survey-public.txt export.csv -o resealed.csv
      the v2: columns are found by themselves (or name them with --columns); each
      cell is opened and sealed in memory, nothing in plain text is written

Exit status:
  0    done
  1    a cell or the file could not be processed (a v2: cell that does not
       open, a wrong key): nothing written
  2    wrong usage
  130  interrupted (nothing written)
`,
    )
    .action(async (input: string, opts: Options) => {
      if (opts.columns === undefined && opts.fromV2Key === undefined) throw new UserError('--columns is required: the columns to seal, e.g. --columns name,phone', EXIT_USAGE);
      const recipient = recipientText(opts);
      const v2Key = opts.fromV2Key === undefined ? undefined : fromV2Key(opts.fromV2Key);
      if (v2Key !== undefined && !recipient.startsWith('sspk1.') && parseSharedKey(recipient).key.toString('base64url') === v2Key) {
        throw new UserError("--key-file is the requests_to_twilio_v2 private key: seal for this project's key instead (keys/survey-public.txt)", EXIT_USAGE);
      }
      const output = opts.output ?? (input === '-' ? '-' : defaultOutputPath(input, 'sealed'));
      const progress = progressLine(opts.quiet !== true && process.stderr.isTTY === true);
      const summary = await runCsvTransform({
        input,
        output,
        force: opts.force === true,
        note,
        // In this thread only: sealing is for test data and migrations, not a hot path, and
        // the worker path was last exercised while the key-generation hang (crypto/hpke.ts) existed.
        threads: 0,
        progress: (p) => progress.update(p),
        plan: (header, sample) => {
          const v2Columns = v2Key === undefined ? [] : detectIpaV2Columns(header, sample);
          const chosen = opts.columns !== undefined ? resolveColumns(opts.columns, header) : v2Columns;
          if (chosen.length === 0) {
            throw new UserError('no column of the first rows holds requests_to_twilio_v2 tokens ("v2:…"); name the columns to re-seal with --columns');
          }
          for (const c of v2Columns) {
            if (!chosen.some((k) => k.index === c.index)) warn(`column "${c.name}" holds v2: tokens but is not in --columns: it is copied as it is, still a v2: column`);
          }
          if (v2Key !== undefined && opts.quiet !== true) note(`Re-sealing columns: ${chosen.map((c) => c.name).join(', ')}`);
          const columns = chosen.map((c) => ({ ...c, field: identifierFor(c.name) }));
          const fields = new Set<string>();
          for (const c of columns) {
            if (!FIELD_NAME.test(c.field) || fields.has(c.field)) {
              throw new UserError(`column "${c.name}" does not give a distinct field name (${c.field}); rename the column`, EXIT_USAGE);
            }
            fields.add(c.field);
          }
          return { op: 'encrypt', delimiter: header.delimiter, recipientText: recipient, columns, width: header.names.length, ...(v2Key === undefined ? {} : { openIpaV2Keys: [v2Key] }) };
        },
      })
        .catch((error: unknown) => {
          // The reader of standard output stopped (`… -o - | head`): its choice, not a failure.
          if (error instanceof StdoutClosed) return undefined;
          throw error;
        })
        .finally(() => progress.done());
      if (summary && opts.quiet !== true) {
        const reopened = summary.ipaV2Cells > 0 ? ` (${plural(summary.ipaV2Cells, 'v2: cell')} re-sealed as ss1)` : '';
        note(`Sealed ${plural(summary.records, 'row')}${reopened}${summary.outputPath ? ` into ${summary.outputPath}` : ''}.`);
      }
    });
}
