// sealed-survey sheets-server: the local Sheets-v4-compatible server
// (src/dev/sheets-server.ts) for development, the tests and the demo.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_LATE_WRITE_MS, FAULT_KINDS, SheetsDataError, startSheetsServer, testServiceAccount, type FaultKind, type FaultOptions, type RunningSheetsServer } from '../dev/sheets-server.js';
import { EXIT_USAGE, UserError } from './common.js';

interface Options {
  port: string;
  data: string;
  failRate?: string;
  faults: string;
  latencyMs?: string;
  seed?: string;
  retryAfter?: string;
  writeQuota?: string;
  lateWriteMs?: string;
  keyOut?: string;
}

const DEFAULT_FAULTS = '429,500,503,reset,drop-after-write';

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new UserError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`, EXIT_USAGE);
  }
  return n;
}

function faultKinds(value: string): FaultKind[] {
  const names = value.split(',').map((s) => s.trim());
  const kinds = names.map((name) => FAULT_KINDS.find((k) => String(k) === name));
  if (names.some((n) => n === '') || kinds.some((k) => k === undefined)) {
    throw new UserError(`--faults takes a comma-separated list of ${FAULT_KINDS.join(', ')}, got "${value}"`, EXIT_USAGE);
  }
  return [...new Set(kinds as FaultKind[])];
}

function faultOptions(opts: Options): FaultOptions | undefined {
  let rate = 0;
  if (opts.failRate !== undefined) {
    rate = Number(opts.failRate);
    if (opts.failRate.trim() === '' || !(rate >= 0 && rate <= 1)) {
      throw new UserError(`--fail-rate must be a number from 0 to 1 (the share of API requests that fail, e.g. 0.1), got "${opts.failRate}"`, EXIT_USAGE);
    }
  }
  const faults: FaultOptions = {
    rate,
    kinds: faultKinds(opts.faults),
    ...(opts.latencyMs !== undefined ? { latencyMs: wholeNumber('--latency-ms', opts.latencyMs, 0, 600_000) } : {}),
    ...(opts.seed !== undefined ? { seed: wholeNumber('--seed', opts.seed, 0, 2 ** 32 - 1) } : {}),
    ...(opts.retryAfter !== undefined ? { retryAfterSeconds: wholeNumber('--retry-after', opts.retryAfter, 0, 3600) } : {}),
    ...(opts.writeQuota !== undefined ? { writeQuotaPerMinute: wholeNumber('--write-quota', opts.writeQuota, 1, 1_000_000) } : {}),
    ...(opts.lateWriteMs !== undefined ? { lateWriteMs: wholeNumber('--late-write-ms', opts.lateWriteMs, 0, 600_000) } : {}),
  };
  if (faults.lateWriteMs !== undefined && !(rate > 0 && faults.kinds.includes('late-write'))) {
    throw new UserError('--late-write-ms only applies to late-write faults: add --fail-rate and --faults with late-write in the list, or leave it out', EXIT_USAGE);
  }
  const active = rate > 0 || faults.latencyMs !== undefined || faults.writeQuotaPerMinute !== undefined;
  return active ? faults : undefined;
}

async function writeKey(server: RunningSheetsServer, file: string): Promise<void> {
  const account = await testServiceAccount(server);
  try {
    writeFileSync(file, `${JSON.stringify(account, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserError(`${file} already exists; refusing to overwrite it: remove it or choose another --key-out`);
    throw new UserError(`--key-out ${file} cannot be written (${code}): choose a writable path`);
  }
}

export function addSheetsServer(program: Command): void {
  program
    .command('sheets-server')
    .description('run a local Google-Sheets-compatible server for development and tests (not Google; no real access control)')
    .option('--port <n>', 'port to listen on, on 127.0.0.1 (0: any free port)', '8787')
    .option('--data <dir>', 'folder to keep the spreadsheets in (created if missing)', '.sheets-data')
    .option('--fail-rate <r>', 'share of API requests (0 to 1) that fail with one of --faults')
    .option('--faults <list>', `faults to inject, comma-separated: ${FAULT_KINDS.join(', ')}`, DEFAULT_FAULTS)
    .option('--latency-ms <n>', 'delay added to every API answer')
    .option('--seed <n>', 'makes the sequence of injected faults repeatable')
    .option('--retry-after <s>', 'Retry-After header (seconds) on injected 429 answers')
    .option('--write-quota <n>', 'write requests per minute per service account, like Google\'s quota; more get 429')
    .option('--late-write-ms <n>', `late-write: how long after the client gave up the write lands (default ${DEFAULT_LATE_WRITE_MS})`)
    .option('--key-out <file>', 'write a throwaway service-account key for this server to <file> (mode 0600, never overwritten)')
    .addHelpText(
      'after',
      `
This is a development and test tool, not Google. It speaks the Sheets v4 REST API
on Google's paths so the Functions, the tests and the demo run without a Google
account. It has no access control beyond the tokens it issues, and it issues one
for any well-formed service-account JWT (signatures are not checked). Cell values
are stored UNENCRYPTED on local disk under --data. Never point real respondents at it.

Point a client at it with SHEETS_API_URL=<the printed URL> and a key whose
token_uri is <URL>/token (--key-out writes one).

Faults (--fail-rate picks the requests, --faults the kind):
  429, 500, 502, 503, 504  answer with Google's error JSON (429 with --retry-after)
  reset                    drops the connection before the request is read
  drop-after-write         performs the write, then drops the connection
  timeout-after-write      performs the write and never answers
  late-write               never answers; once the client gives up (its timeout),
                           performs the write --late-write-ms later
The last three act on writing requests (create, values append/update/batchUpdate,
batchUpdate); a read they fall on is reset.

Like Google, a new tab is 1000 rows by 26 columns: values update/batchUpdate past
it answer 400 "exceeds grid limits" and write nothing, values append grows it, and
batchUpdate appendDimension requests add rows or columns.

Examples:
  $ sealed-survey sheets-server --key-out sheets-key.json
  $ sealed-survey sheets-server --port 0 --data /tmp/sheets --fail-rate 0.2 --seed 7 --write-quota 60
  $ sealed-survey sheets-server --fail-rate 0.3 --faults 503,late-write --late-write-ms 500
`,
    )
    .action(async (opts: Options) => {
      const port = wholeNumber('--port', opts.port, 0, 65535);
      const faults = faultOptions(opts);
      if (opts.data.trim() === '') throw new UserError('--data must name a folder, e.g. --data .sheets-data', EXIT_USAGE);
      let server: RunningSheetsServer;
      try {
        server = await startSheetsServer({ port, dataDir: opts.data, ...(faults ? { faults } : {}) });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`port ${port} is in use: choose another with --port (0 picks a free one)`);
        if (code === 'EACCES') throw new UserError(`port ${port} needs privileges: choose a port above 1023 with --port`);
        if (error instanceof SheetsDataError) throw new UserError(error.message);
        throw error;
      }
      try {
        if (opts.keyOut !== undefined) await writeKey(server, opts.keyOut);
      } catch (error) {
        await server.stop();
        throw error;
      }
      const key = opts.keyOut !== undefined ? `; key for it in ${opts.keyOut}` : '';
      process.stderr.write(`sheets-server (development and tests only; data unencrypted in ${opts.data}) listening on ${server.url}${key}; use SHEETS_API_URL=${server.url}\n`);
      await new Promise<void>((ok) => {
        const done = () => {
          process.off('SIGINT', done);
          process.off('SIGTERM', done);
          ok();
        };
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
      });
      await server.stop();
    });
}
