// decrypt-csv: the analyst's command.

import { Option, type Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import type { Delimiter } from '../csv/scan.js';
import { detectColumns, executionColumn, resolveColumns } from '../csvcrypt/columns.js';
import { keptReport, rowList } from '../csvcrypt/problems.js';
import { defaultOutputPath, runCsvTransform, type RunSummary } from '../csvcrypt/run.js';
import { decryptPathFrom, DECRYPT_PATH_VARIABLE } from '../csvcrypt/decrypt-path.js';
import type { ColumnPlan, DecryptSetup, OnError } from '../csvcrypt/setup.js';
import { StdoutClosed, tolerateClosedStdout } from '../csvcrypt/stdout.js';
import { EXIT_OK, EXIT_PIPE_CLOSED, EXIT_USAGE, newProgram, runProgram, UserError } from './common.js';
import { gatherKeys, keyArgumentError, legacyKeyFrom, looksLikeKeyText, looksLikePem, REFUSED_SECRET_OPTIONS, refuseKeyArgument, refuseSecretOption } from './key-sources.js';
import { plural } from '../plural.js';
import { note, progressLine, warn } from './terminal.js';

interface Options {
  columns?: string;
  keyFile: string[];
  legacyPassphraseFile?: string;
  allowLegacyCells?: boolean;
  output?: string;
  force?: boolean;
  delimiter?: string;
  onError: string;
  excelSafe?: boolean;
  ignoreColumnNames?: boolean;
  quiet?: boolean;
  threads?: string;
}

const DELIMITERS: Record<string, Delimiter> = { ',': ',', ';': ';', tab: '\t' };

const HELP = `
Keys (never on the command line):
  --key-file PATH          the private key (survey-private.pem) or shared key file; repeat for several
                           requests_to_twilio_v2's rtt_private_key.txt (or its .env) opens its "v2:" cells
  --key-file -             read the key from standard input
  SURVEY_PRIVATE_KEY=…     or SURVEY_SECRET_KEY=…, environment variables holding the key
  (none of these)          you are asked for the key, hidden, when running in a terminal

Examples:
  $ decrypt-csv --key-file keys/survey-private.pem survey.csv
      writes survey.decrypted.csv beside survey.csv, columns detected
  $ decrypt-csv --key-file keys/survey-private.pem "My Survey (export).csv"
      quote paths with spaces
  $ decrypt-csv --columns full_name,national_id --key-file keys/survey-private.pem survey.csv -o plain.csv
  $ decrypt-csv --key-file - survey.csv < keys/survey-private.pem
  $ SURVEY_SECRET_KEY="$(cat keys/survey-secret.key)" decrypt-csv survey.csv
  $ decrypt-csv --key-file keys/survey-private.pem survey.csv -o - | wc -l
      standard output gets the file only once all of it decrypted
  $ decrypt-csv --delimiter ";" --key-file keys/survey-private.pem excel-export.csv
  $ decrypt-csv --legacy-passphrase-file passphrase.txt --columns name,phone old-survey.csv
  $ decrypt-csv --key-file rtt_private_key.txt rtt-export.csv
      a sheet of requests_to_twilio_v2 ("v2:" cells); add a second --key-file
      for ss1 columns. Re-seal it as ss1 instead: sealed-survey encrypt-csv --help

What is checked: a column is decrypted when most of its cells in the first
rows are sealed; then every non-empty cell in it must be a sealed cell of that
column, of the same response as the rest of its row, and (tokens sealed with
the execution) of the row's execution_sid; and no response may appear in two
rows. Rows whose cells are all empty are passed through. Semicolon- and
tab-separated files are recognised from the header, and keep their separator.

Spreadsheet safety: answers typed by strangers can start with = + - @ and run as
formulas when the file is opened in Excel or Sheets. When writing a file,
decrypted cells that do are prefixed with ' (shown as text); --no-excel-safe
turns this off. Writing to standard output (-o -) feeds another program, so
there it is off unless you add --excel-safe. Standard output is spooled in a
private temporary file (in TMPDIR) until the whole file decrypted.

Exit status:
  0    done
  1    a cell, row or file could not be processed: nothing written (with
       --on-error keep or blank the file is written, and the status is still 1)
  2    wrong usage
  130  interrupted (nothing written)
  141  the program reading standard output stopped early (| head)
`;

export async function main(argv: readonly string[]): Promise<number> {
  tolerateClosedStdout();
  // Before commander, which would echo a PEM line back as an "unknown option".
  if (argv.slice(2).some(looksLikePem)) {
    const error = keyArgumentError();
    process.stderr.write(`decrypt-csv: ${error.message}\n`);
    return error.exitCode;
  }
  let exitCode = EXIT_OK;
  const program = newProgram('decrypt-csv')
    .description('Decrypt the sealed columns of a survey CSV export on this computer. Writes a new file; the input is never changed.')
    .argument('<input>', 'the CSV file downloaded from the sheet, or - for standard input')
    .allowExcessArguments(true)
    .option('--columns <list>', 'columns to decrypt, by header name or number (1 = first), comma-separated; default: every column holding sealed tokens')
    .option('--key-file <path>', 'key file (repeatable; the key id in each cell picks the key)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--legacy-passphrase-file <path>', 'file holding the passphrase of old CryptoJS cells (twilio_encrypt_fields.js); or SURVEY_LEGACY_PASSPHRASE')
    .option('--allow-legacy-cells', 'decrypt old CryptoJS cells (and requests_to_twilio_v2 v2: cells) even in a column that also holds sealed tokens (a partly migrated sheet); refused otherwise, as such a cell could have been put in place of a sealed one')
    .option('-o, --output <path>', 'output file; - for standard output (default: <input>.decrypted.csv beside the input)')
    .option('--force', 'replace the output file if it exists')
    .addOption(new Option('--delimiter <separator>', 'the cell separator: "," ";" or tab (default: read from the header)').choices(Object.keys(DELIMITERS)))
    .addOption(new Option('--on-error <mode>', 'a cell that cannot be decrypted: fail (stop, write nothing), keep (leave it as it is), blank (empty it); keep and blank write the file and exit 1').choices(['fail', 'keep', 'blank']).default('fail'))
    .option('--excel-safe', "prefix decrypted cells starting with = + - @ with ' (default when writing a file)")
    .option('--no-excel-safe', 'write decrypted values exactly as answered')
    .option('--ignore-column-names', 'do not check that each cell sits under the column it was sealed for (only if columns were renamed)')
    .option('-q, --quiet', 'no progress line and no summary')
    .addOption(new Option('--threads <n>', 'worker threads (0 = none); default: by input size').hideHelp())
    .addHelpText('after', HELP)
    .action(async (input: string, opts: Options, cmd: Command) => {
      if (cmd.args.some(looksLikeKeyText)) refuseKeyArgument();
      if (cmd.args.length > 1) throw extraArguments(cmd.args);
      exitCode = await decrypt(input, opts);
    });
  for (const name of REFUSED_SECRET_OPTIONS) program.addOption(new Option(`${name} <value>`).hideHelp());
  program.hook('preAction', (_cmd, action) => {
    const o = action.opts();
    for (const name of REFUSED_SECRET_OPTIONS) {
      const key = name.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (o[key] !== undefined) refuseSecretOption(name);
    }
  });
  const code = await runProgram(program, argv);
  return code === EXIT_OK ? exitCode : code;
}

/** Commander would only say "too many arguments"; the usual causes are an unquoted path with spaces and a pasted key. */
function extraArguments(args: readonly string[]): UserError {
  const joined = args.join(' ');
  if (existsSync(joined)) {
    return new UserError(`the shell split one path into ${args.length} arguments: quote paths with spaces: decrypt-csv "${joined}"`, EXIT_USAGE);
  }
  return new UserError(
    `decrypt-csv takes one input file, but was given ${args.length} arguments: quote paths with spaces: decrypt-csv "My Survey.csv"; keys go in --key-file, never on the command line`,
    EXIT_USAGE,
  );
}

async function decrypt(input: string, opts: Options): Promise<number> {
  const output = opts.output ?? (input === '-' ? '-' : defaultOutputPath(input, 'decrypted'));
  const threads = opts.threads === undefined ? undefined : Number(opts.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0 || threads > 64)) throw new UserError('--threads takes a whole number from 0 to 64', EXIT_USAGE);
  const decryptPath = decryptPathFrom(process.env);
  if (decryptPath === undefined) throw new UserError(`${DECRYPT_PATH_VARIABLE} is "fast" or "reference"`, EXIT_USAGE);
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
  if (keys.privateKeyPems.length + keys.sharedKeys.length + keys.ipaV2Keys.length === 0 && !legacyKey) {
    throw new UserError('no key was given: use --key-file keys/survey-private.pem (see --help for the other ways)', EXIT_USAGE);
  }
  if (opts.allowLegacyCells && !legacyKey && keys.ipaV2Keys.length === 0) throw new UserError('--allow-legacy-cells needs the passphrase of the old cells: add --legacy-passphrase-file', EXIT_USAGE);
  for (const w of keys.warnings) warn(w);
  const quiet = opts.quiet === true;
  const onError = opts.onError as OnError;
  const progress = progressLine(!quiet && process.stderr.isTTY === true && (input === '-' || statSync(input).size > 5_000_000));
  const excelSafe = opts.excelSafe ?? output !== '-';
  let summary: RunSummary;
  try {
    summary = await runCsvTransform({
      input,
      output,
      force: opts.force === true,
      threads,
      delimiter: opts.delimiter === undefined ? undefined : DELIMITERS[opts.delimiter],
      progress: (p) => progress.update(p),
      note,
      plan: (header, sample): DecryptSetup => {
        if (header.delimiterDetected && header.delimiter !== ',' && !quiet) {
          note(`this file uses ${header.delimiter === ';' ? ';' : 'tab'} as separator (the output keeps it; --delimiter chooses another)`);
        }
        let columns: ColumnPlan[];
        let chosen: string;
        if (opts.columns !== undefined) {
          columns = resolveColumns(opts.columns, header);
          chosen = columns.map((c) => c.name).join(', ');
        } else {
          const detected = detectColumns(header, sample);
          columns = [...detected.sealed, ...(legacyKey ? detected.legacy : [])].sort((a, b) => a.index - b.index);
          const legacyHint = detected.legacy.length > 0 && !legacyKey ? `${quotedNames(detected.legacy)} look like old CryptoJS cells: add --legacy-passphrase-file` : '';
          if (columns.length === 0 && sample.buf.length === 0) {
            chosen = 'none (the file has no rows)';
          } else if (columns.length === 0) {
            const separator = header.delimiter === '\t' ? 'tab' : `"${header.delimiter}"`;
            throw new UserError(
              `no column of the first rows holds sealed-survey tokens (reading the file with ${separator} as separator); name the columns to decrypt with --columns, or the separator with --delimiter${legacyHint ? `; columns ${legacyHint}` : ''}`,
            );
          } else {
            chosen = `${columns.map((c) => c.name).join(', ')} (detected; choose others with --columns)`;
          }
          if (legacyHint && columns.length > 0) warn(`columns ${legacyHint}; they were left as they are`);
          for (const c of detected.partly) {
            warn(`column "${c.name}" holds some sealed cells but mostly other text in the first rows, and was left as it is; to decrypt it, name it in --columns`);
          }
        }
        if (!quiet) note(`Decrypting columns: ${chosen}`);
        return {
          op: 'decrypt',
          delimiter: header.delimiter,
          privateKeyPems: keys.privateKeyPems,
          sharedKeys: keys.sharedKeys,
          ...(legacyKey ? { legacyKey } : {}),
          ...(keys.ipaV2Keys.length > 0 ? { ipaV2Keys: keys.ipaV2Keys } : {}),
          allowLegacyCells: opts.allowLegacyCells === true,
          columns,
          executionColumn: executionColumn(header),
          width: header.names.length,
          excelSafe,
          onError,
          checkFields: opts.ignoreColumnNames !== true,
          decryptPath,
        };
      },
    });
  } catch (error) {
    // The reader of standard output stopped (`… -o - | head`): quietly, with the status of a Unix tool killed by SIGPIPE.
    if (error instanceof StdoutClosed) return EXIT_PIPE_CLOSED;
    throw error;
  } finally {
    progress.done();
  }
  if (!quiet) report(summary);
  if (summary.failures.length > 0 || summary.duplicateResponses.total > 0) {
    const where = summary.outputPath ?? 'standard output';
    throw new UserError(`${keptReport(summary.failures, summary.failureCounts, summary.duplicateResponses, onError === 'blank')}\nEverything else was decrypted into ${where}.`);
  }
  return EXIT_OK;
}

const quotedNames = (columns: readonly ColumnPlan[]) => columns.map((c) => `"${c.name}"`).join(', ');

function report(summary: RunSummary): void {
  note(`Done: ${plural(summary.records, 'row')}${summary.outputPath ? ` written to ${summary.outputPath}` : ''}.`);
  if (summary.raggedCount > 0) {
    const n = summary.raggedCount;
    warn(
      `${plural(n, 'row')} ${n === 1 ? 'has' : 'have'} a different number of cells than the header (${summary.ragged.slice(0, 5).map((r) => `row ${r.row}: ${r.cells}`).join(', ')}); ${n === 1 ? 'it was' : 'they were'} passed through as ${n === 1 ? 'it is' : 'they are'}`,
    );
  }
  if (summary.legacyCells > 0) {
    const n = summary.legacyCells;
    warn(
      `${plural(n, 'legacy cell')} ${n === 1 ? 'was' : 'were'} decrypted: that format was never authenticated, so an altered cell could decrypt to wrong text unnoticed. Migrate the sheet to sealed tokens (README, "Migrating a legacy sheet").`,
    );
  }
  if (summary.ipaV2Cells > 0) {
    const n = summary.ipaV2Cells;
    warn(
      `${plural(n, 'requests_to_twilio_v2 cell')} ("v2:") ${n === 1 ? 'was' : 'were'} decrypted: that format binds a value to neither its column nor its row, so a cell moved or copied to another column or row decrypts without error (ss1 tokens refuse this). Re-seal the sheet as ss1: sealed-survey encrypt-csv --from-v2-key (docs/MIGRATING.md).`,
    );
  }
  const dup = summary.duplicateExecutions;
  if (dup.total > 0) {
    warn(
      `${plural(dup.total, 'execution_sid')} ${dup.total === 1 ? 'appears' : 'appear'} in more than one row: ${dup.groups.map(rowList).join('; ')}${dup.total > dup.groups.length ? '; …' : ''} (a sheet edited by hand, or rows written twice by an older version); each row's tokens were still checked against it`,
    );
  }
}
