// sealed-survey encrypt-csv: seal columns of an existing CSV (test data, and
// migrating a legacy sheet when piped after decrypt-csv).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveColumns } from '../csvcrypt/columns.js';
import { defaultOutputPath, runCsvTransform } from '../csvcrypt/run.js';
import { StdoutClosed } from '../csvcrypt/stdout.js';
import { FIELD_NAME, identifierFor } from '../envelope/index.js';
import { KeyError, parsePublicKey, parseSharedKey } from '../keys/keys.js';
import { EXIT_USAGE, UserError } from './common.js';
import { plural } from '../plural.js';
import { note, progressLine } from './terminal.js';

interface Options {
  columns: string;
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

export function addEncryptCsv(program: Command): void {
  program
    .command('encrypt-csv')
    .description('seal columns of a CSV file into ss1 tokens (one response per row), streaming like decrypt-csv')
    .argument('<input>', 'CSV file, or - for standard input')
    .requiredOption('--columns <list>', 'columns to seal, by header name or number, comma-separated')
    .option('--public-key <key>', 'the public key (sspk1.…) to seal for')
    .option('--key-file <path>', 'survey-public.txt, or a shared key file')
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
`,
    )
    .action(async (input: string, opts: Options) => {
      const recipient = recipientText(opts);
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
        plan: (header) => {
          const columns = resolveColumns(opts.columns, header).map((c) => ({ ...c, field: identifierFor(c.name) }));
          const fields = new Set<string>();
          for (const c of columns) {
            if (!FIELD_NAME.test(c.field) || fields.has(c.field)) {
              throw new UserError(`column "${c.name}" does not give a distinct field name (${c.field}); rename the column`, EXIT_USAGE);
            }
            fields.add(c.field);
          }
          return { op: 'encrypt', delimiter: header.delimiter, recipientText: recipient, columns, width: header.names.length };
        },
      })
        .catch((error: unknown) => {
          // The reader of standard output stopped (`… -o - | head`): its choice, not a failure.
          if (error instanceof StdoutClosed) return undefined;
          throw error;
        })
        .finally(() => progress.done());
      if (summary && opts.quiet !== true) note(`Sealed ${plural(summary.records, 'row')}${summary.outputPath ? ` into ${summary.outputPath}` : ''}.`);
    });
}
