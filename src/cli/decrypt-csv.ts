// decrypt-csv: the analyst's command.

import { Option } from 'commander';
import { statSync } from 'node:fs';
import { detectColumns, resolveColumns } from '../csvcrypt/columns.js';
import { defaultOutputPath, runCsvTransform, sheetRow, type RunSummary } from '../csvcrypt/run.js';
import type { DecryptSetup, OnError } from '../csvcrypt/setup.js';
import { EXIT_USAGE, newProgram, runProgram, UserError } from './common.js';
import { gatherKeys, legacyKeyFrom, REFUSED_SECRET_OPTIONS, refuseSecretOption } from './key-sources.js';
import { fmtInt, note, progressLine, warn } from './terminal.js';

interface Options {
  columns?: string;
  keyFile: string[];
  legacyPassphraseFile?: string;
  output?: string;
  force?: boolean;
  onError: string;
  excelSafe?: boolean;
  ignoreColumnNames?: boolean;
  quiet?: boolean;
  threads?: string;
}

const HELP = `
Keys (never on the command line):
  --key-file PATH          the private key (survey-private.pem) or shared key file; repeat for several
  --key-file -             read the key from standard input
  SURVEY_PRIVATE_KEY=…     or SURVEY_SECRET_KEY=…, environment variables holding the key
  (none of these)          you are asked for the key, hidden, when running in a terminal

Examples:
  $ decrypt-csv --key-file keys/survey-private.pem survey.csv
      writes survey.decrypted.csv beside survey.csv, columns detected
  $ decrypt-csv --columns full_name,national_id --key-file keys/survey-private.pem survey.csv -o plain.csv
  $ decrypt-csv --key-file - survey.csv < keys/survey-private.pem
  $ SURVEY_SECRET_KEY="$(cat keys/survey-secret.key)" decrypt-csv survey.csv
  $ decrypt-csv --legacy-passphrase-file passphrase.txt --columns name,phone old-survey.csv

Spreadsheet safety: answers typed by strangers can start with = + - @ and run as
formulas when the file is opened in Excel or Sheets. When writing a file,
decrypted cells that do are prefixed with ' (shown as text); --no-excel-safe
turns this off. Writing to standard output (-o -) feeds another program, so
there it is off unless you add --excel-safe.

Exit status: 0 done, 1 a cell or file could not be processed (nothing written), 2 wrong usage.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const program = newProgram('decrypt-csv')
    .description('Decrypt the sealed columns of a survey CSV export on this computer. Writes a new file; the input is never changed.')
    .argument('<input>', 'the CSV file downloaded from the sheet, or - for standard input')
    .option('--columns <list>', 'columns to decrypt, by header name or number (1 = first), comma-separated; default: every column holding sealed tokens')
    .option('--key-file <path>', 'key file (repeatable; the key id in each cell picks the key)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--legacy-passphrase-file <path>', 'file holding the passphrase of old CryptoJS cells (twilio_encrypt_fields.js); or SURVEY_LEGACY_PASSPHRASE')
    .option('-o, --output <path>', 'output file; - for standard output (default: <input>.decrypted.csv beside the input)')
    .option('--force', 'replace the output file if it exists')
    .addOption(new Option('--on-error <mode>', 'a cell that cannot be decrypted: fail (stop, write nothing), keep (leave it as it is), blank (empty it)').choices(['fail', 'keep', 'blank']).default('fail'))
    .option('--excel-safe', "prefix decrypted cells starting with = + - @ with ' (default when writing a file)")
    .option('--no-excel-safe', 'write decrypted values exactly as answered')
    .option('--ignore-column-names', 'do not check that each cell sits under the column it was sealed for (only if columns were renamed)')
    .option('-q, --quiet', 'no progress line and no summary')
    .addOption(new Option('--threads <n>', 'worker threads (0 = none); default: by input size').hideHelp())
    .addHelpText('after', HELP)
    .action(async (input: string, opts: Options) => {
      await decrypt(input, opts);
    });
  for (const name of REFUSED_SECRET_OPTIONS) program.addOption(new Option(`${name} <value>`).hideHelp());
  program.hook('preAction', (_cmd, action) => {
    const o = action.opts();
    for (const name of REFUSED_SECRET_OPTIONS) {
      const key = name.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (o[key] !== undefined) refuseSecretOption(name);
    }
  });
  return runProgram(program, argv);
}

async function decrypt(input: string, opts: Options): Promise<void> {
  const output = opts.output ?? (input === '-' ? '-' : defaultOutputPath(input, 'decrypted'));
  const threads = opts.threads === undefined ? undefined : Number(opts.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0 || threads > 64)) throw new UserError('--threads takes a whole number from 0 to 64', EXIT_USAGE);
  const legacyKey = legacyKeyFrom(opts.legacyPassphraseFile);
  // Fail fast on a missing input before asking for a key.
  if (input !== '-') {
    try {
      statSync(input);
    } catch {
      throw new UserError(`input file ${input} does not exist (check the path and the file name)`);
    }
  }
  const keys = await gatherKeys(opts.keyFile, input === '-', legacyKey === undefined && process.stdin.isTTY === true && input !== '-');
  if (keys.privateKeyPems.length + keys.sharedKeys.length === 0 && !legacyKey) {
    throw new UserError('no key was given: use --key-file keys/survey-private.pem (see --help for the other ways)', EXIT_USAGE);
  }
  for (const w of keys.warnings) warn(w);
  const quiet = opts.quiet === true;
  const progress = progressLine(!quiet && process.stderr.isTTY === true && (input === '-' || statSync(input).size > 5_000_000));
  const excelSafe = opts.excelSafe ?? output !== '-';
  let chosen = '';
  const summary = await runCsvTransform({
    input,
    output,
    force: opts.force === true,
    threads,
    progress: (p) => progress.update(p),
    plan: (header, sample): DecryptSetup => {
      let columns;
      if (opts.columns !== undefined) {
        columns = resolveColumns(opts.columns, header);
        chosen = columns.map((c) => c.name).join(', ');
      } else {
        const detected = detectColumns(header, sample);
        columns = [...detected.ss1, ...(legacyKey ? detected.legacy : [])].sort((a, b) => a.index - b.index);
        if (columns.length === 0 && sample.buf.length === 0) {
          chosen = 'none (the file has no rows)';
        } else if (columns.length === 0) {
          const hint = detected.legacy.length > 0 ? `; columns ${detected.legacy.map((c) => `"${c.name}"`).join(', ')} look like old CryptoJS cells: add --legacy-passphrase-file` : '';
          throw new UserError(`no column of the first rows holds sealed-survey tokens; name the columns to decrypt with --columns${hint}`);
        }
        else chosen = `${columns.map((c) => c.name).join(', ')} (detected; choose others with --columns)`;
      }
      if (!quiet) note(`Decrypting columns: ${chosen}`);
      return {
        op: 'decrypt',
        privateKeyPems: keys.privateKeyPems,
        sharedKeys: keys.sharedKeys,
        ...(legacyKey ? { legacyKey } : {}),
        columns,
        width: header.names.length,
        excelSafe,
        onError: opts.onError as OnError,
        checkFields: opts.ignoreColumnNames !== true,
      };
    },
  }).finally(() => progress.done());
  if (!quiet) report(summary, opts.onError as OnError);
}

function report(summary: RunSummary, onError: OnError): void {
  note(`Done: ${fmtInt(summary.records)} rows${summary.outputPath ? ` written to ${summary.outputPath}` : ''}.`);
  const failed = Object.entries(summary.failureCounts);
  if (failed.length > 0) {
    const total = failed.reduce((n, [, c]) => n + c, 0);
    const rows = summary.failures.map((f) => sheetRow(f.record)).slice(0, 5).join(', ');
    warn(`${fmtInt(total)} cells could not be decrypted and were ${onError === 'blank' ? 'left empty' : 'kept as they were'}: ${failed.map(([c, n]) => `"${c}" ${fmtInt(n)}`).join(', ')} (first rows: ${rows})`);
    const first = summary.failures[0];
    if (first) warn(`first problem, row ${sheetRow(first.record)}, column "${first.column}": ${first.message}`);
  }
  if (summary.raggedCount > 0) {
    warn(`${fmtInt(summary.raggedCount)} rows have a different number of cells than the header (${summary.ragged.slice(0, 5).map((r) => `row ${r.row}: ${r.cells}`).join(', ')}); they were passed through as they are`);
  }
  if (summary.legacyCells > 0) {
    warn(`${fmtInt(summary.legacyCells)} legacy cells were decrypted: that format was never authenticated, so an altered cell could decrypt to wrong text unnoticed. Migrate the sheet to sealed tokens (README, "Migrating a legacy sheet").`);
  }
}
