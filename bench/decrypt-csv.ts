// decrypt-csv on a 200,000-row survey export in each mode, against a
// crypto-only loop that opens the same cells with no CSV work; then peak
// memory on a file of more than 1 GB.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { commandArgs } from '../src/cli/command-args.js';
import { DECRYPT_PATH_VARIABLE, type DecryptPath } from '../src/csvcrypt/decrypt-path.js';
import { cellBytes, newRecordCells, scanRecord } from '../src/csv/scan.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { legacyKey, Opener, openLegacy, type ResponseCell } from '../src/envelope/index.js';
import { loadKeyFiles } from '../src/keys/files.js';
import { fmt, row } from './stats.js';
import { benchKeys, CACHE, HEADER, LEGACY_PASSPHRASE, PII, surveyExport, type BenchKeys, type Mode } from './survey-data.js';

const SEED = 20261123;
const ROWS = 200_000;

interface RunResult {
  readonly seconds: number;
  readonly peakMb: number;
  readonly code: number | null;
  readonly stderr: string;
}

/**
 * Runs a command and samples its peak RSS (VmHWM: a high-water mark, so the
 * last sample is the peak). decrypt-csv is one process: its worker threads'
 * memory is in that figure.
 */
function runMeasured(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((ok) => {
    const t = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited between polls
      }
    }, 25);
    child.on('close', (code) => {
      clearInterval(poll);
      ok({ seconds: (performance.now() - t) / 1000, peakMb: peakKb / 1024, code, stderr });
    });
  });
}

function runDecryptCsv(args: string[], path: DecryptPath = 'fast'): Promise<RunResult> {
  const command = [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'decrypt-csv'), ...args];
  return runMeasured(process.execPath, command, { ...process.env, [DECRYPT_PATH_VARIABLE]: path });
}

const PYTHON = '/usr/bin/python3';
const PYTHON_SCRIPT = join(PROJECT_ROOT, 'bench', 'python', 'decrypt_csv.py');

/** Whether the Python yardstick can run: pandas and pycryptodome (either import name) importable. */
function pythonPresent(): boolean {
  const probe = 'import pandas\ntry:\n import Cryptodome\nexcept ImportError:\n import Crypto.Cipher';
  return spawnSync(PYTHON, ['-c', probe], { stdio: 'ignore' }).status === 0;
}

async function runPython(mode: 'legacy' | 'shared', keys: BenchKeys, file: string, out: string): Promise<RunResult> {
  const keyFile = mode === 'legacy' ? keys.passphraseFile : keys.sharedKeyFile;
  const run = await runMeasured(PYTHON, [PYTHON_SCRIPT, mode, keyFile, file, out, ...PII]);
  if (run.code !== 0) throw new Error(`the Python decryptor failed: ${run.stderr}`);
  return run;
}

function keyArgs(mode: Mode, keys: BenchKeys): string[] {
  if (mode === 'legacy') return ['--legacy-passphrase-file', keys.passphraseFile, '--columns', PII.join(',')];
  return ['--key-file', mode === 'sealed' ? keys.privatePem : keys.sharedKeyFile];
}

/** The PII cells of the first `limit` rows, read outside any timing. */
function cellsOf(file: string, limit: number): string[][] {
  const buf = readFileSync(file);
  const cells = newRecordCells();
  const idx = PII.map((p) => HEADER.indexOf(p));
  const rows: string[][] = [];
  let pos = scanRecord(buf, 0, buf.length, cells, 0);
  while (pos < buf.length && rows.length < limit) {
    pos = scanRecord(buf, pos, buf.length, cells, 0);
    rows.push(idx.map((i) => cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean).toString('latin1')));
  }
  return rows;
}

/** Yardstick: rows per second opening the same cells in one thread, no CSV work. */
function cryptoOnlyRowsPerSecond(mode: Mode, rows: string[][], keys: BenchKeys): number {
  const t = performance.now();
  if (mode === 'legacy') {
    const key = legacyKey(LEGACY_PASSPHRASE);
    for (const r of rows) for (const c of r) openLegacy(c, key);
  } else {
    const opener = new Opener(loadKeyFiles([mode === 'sealed' ? keys.privatePem : keys.sharedKeyFile]).keyring);
    for (const r of rows) {
      const cells: ResponseCell[] = r.map((token, i) => ({ column: PII[i] as string, token }));
      for (const result of opener.openResponse(cells)) if (!result.ok) throw result.error;
    }
  }
  return rows.length / ((performance.now() - t) / 1000);
}

async function csvParseSeconds(file: string): Promise<number> {
  const t = performance.now();
  const { createReadStream } = await import('node:fs');
  let n = 0;
  for await (const _record of createReadStream(file).pipe(parse())) n++;
  if (n !== ROWS + 1) throw new Error(`csv-parse read ${n} records`);
  return (performance.now() - t) / 1000;
}

function scannerSeconds(file: string): number {
  const buf = readFileSync(file);
  const t = performance.now();
  const cells = newRecordCells();
  let pos = 0;
  let n = 0;
  while (pos < buf.length) {
    pos = scanRecord(buf, pos, buf.length, cells, n++);
  }
  if (n !== ROWS + 1) throw new Error(`scanner read ${n} records`);
  return (performance.now() - t) / 1000;
}

/**
 * A file over 1 GiB of distinct responses: copies of one export would repeat
 * every response, which decrypt-csv rightly refuses (DUPLICATE_RESPONSE), so
 * each part is sealed from its own seed.
 */
async function bigFile(keys: ReturnType<typeof benchKeys>): Promise<{ path: string; rows: number }> {
  const path = join(CACHE, 'big-shared.csv');
  const fd = openSync(path, 'w');
  let size = 0;
  let rows = 0;
  for (let part = 1; size < 1.05 * 2 ** 30; part++) {
    const source = await surveyExport('shared', ROWS, SEED + part, keys);
    const body = readFileSync(source);
    const headerEnd = body.indexOf(0x0a) + 1;
    const chunk = size === 0 ? body : body.subarray(headerEnd);
    writeSync(fd, chunk);
    size += chunk.length;
    rows += ROWS;
  }
  closeSync(fd);
  return { path, rows };
}

const TARGET: Record<Mode, string> = { legacy: 'target <= 1.0 s', shared: 'target <= 2.0 s', sealed: 'target >= 27,000 rows/s' };
const RSS_TARGET = 'target <= 128 MB';

export async function benchDecryptCsv(): Promise<void> {
  console.log(`\ndecrypt-csv, ${ROWS.toLocaleString('en-US')} rows x 11 columns, 4 PII columns (${availableParallelism()} cores)`);
  const keys = benchKeys(SEED);
  const out = join(CACHE, 'out.csv');
  const python = pythonPresent();
  if (!python) console.log('  Python: absent (apt-get install python3-pandas python3-pycryptodome)');
  for (const mode of ['legacy', 'shared', 'sealed'] as const) {
    const file = await surveyExport(mode, ROWS, SEED, keys);
    const mb = statSync(file).size / 1e6;
    const sample = cellsOf(file, mode === 'sealed' ? 40_000 : ROWS);
    const yard = cryptoOnlyRowsPerSecond(mode, sample, keys);
    const run = await runDecryptCsv(['-q', '--force', ...keyArgs(mode, keys), file, '-o', out]);
    if (run.code !== 0) throw new Error(`decrypt-csv failed: ${run.stderr}`);
    console.log(`  ${mode} (${fmt(mb, 0)} MB)`);
    row('    decrypt-csv wall time', `${fmt(run.seconds)} s`, mode === 'sealed' ? '' : TARGET[mode]);
    row('    decrypt-csv rows/s', Math.round(ROWS / run.seconds).toLocaleString('en-US'), mode === 'sealed' ? TARGET[mode] : '');
    row('    decrypt-csv peak RSS', `${fmt(run.peakMb, 0)} MB`, RSS_TARGET);
    row('    yardstick: crypto only, 1 thread, rows/s', Math.round(yard).toLocaleString('en-US'), 'the reference per-cell crypto, no CSV');
    row('    ratio decrypt-csv / crypto-only time', `${fmt(run.seconds / (ROWS / yard), 2)}x`, '< 1: the CSV work costs less than the threads gain');
    if (mode !== 'sealed') {
      // The reference path (decrypt-path.ts), same file; sealed is left out: X25519 dominates both paths there and its run is the longest.
      const reference = await runDecryptCsv(['-q', '--force', ...keyArgs(mode, keys), file, '-o', out], 'reference');
      if (reference.code !== 0) throw new Error(`decrypt-csv (reference path) failed: ${reference.stderr}`);
      const what = mode === 'legacy' ? 'per-cell CBC' : 'per-cell GCM';
      row(`    reference path (${what}) wall time`, `${fmt(reference.seconds)} s`, `${fmt(reference.seconds / run.seconds, 2)}x the fast path's`);
    }
    if (python && mode !== 'sealed') {
      const py = await runPython(mode, keys, file, out);
      row('    Python (pandas + pycryptodome) wall time', `${fmt(py.seconds)} s`, `decrypt-csv is ${fmt(py.seconds / run.seconds, 1)}x faster`);
      row('    Python peak RSS', `${fmt(py.peakMb, 0)} MB`);
    }
    if (mode === 'legacy') {
      row('    csv-parse alone, parsing the same file', `${fmt(await csvParseSeconds(file))} s`, 'why we scan bytes ourselves');
      row('    our scanner alone, same file', `${fmt(scannerSeconds(file))} s`);
    }
  }
  if (process.env.BENCH_QUICK) return;
  const { path: big, rows: bigRows } = await bigFile(keys);
  try {
    const gb = statSync(big).size / 2 ** 30;
    const run = await runDecryptCsv(['-q', '--force', '--key-file', keys.sharedKeyFile, big, '-o', out]);
    if (run.code !== 0) throw new Error(`decrypt-csv failed: ${run.stderr}`);
    console.log(`  shared, ${fmt(gb, 2)} GB file`);
    row('    decrypt-csv wall time', `${fmt(run.seconds, 1)} s`, `${fmt(statSync(big).size / 1e6 / run.seconds, 0)} MB/s`);
    row('    decrypt-csv rows/s', Math.round(bigRows / run.seconds).toLocaleString('en-US'));
    row('    decrypt-csv peak RSS', `${fmt(run.peakMb, 0)} MB`, `${RSS_TARGET} whatever the size`);
  } finally {
    rmSync(big, { force: true });
    rmSync(out, { force: true });
  }
}
