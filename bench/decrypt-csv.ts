// decrypt-csv on a 200,000-row survey export in each mode, against a
// crypto-only loop that opens the same cells with no CSV work; then peak
// memory on a file of more than 1 GB.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { commandArgs } from '../src/cli/command-args.js';
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

/** Runs the built decrypt-csv and samples its peak RSS (VmHWM: a high-water mark, so the last sample is the peak). */
function runDecryptCsv(args: string[]): Promise<RunResult> {
  return new Promise((ok) => {
    const t = performance.now();
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'decrypt-csv'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
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

/** A file of more than 1 GB made of copies of the shared-mode export's rows. */
/**
 * A file over 1 GiB of distinct responses: copies of one export would repeat
 * every response, which decrypt-csv rightly refuses (DUPLICATE_RESPONSE), so
 * each part is sealed from its own seed.
 */
async function bigFile(keys: ReturnType<typeof benchKeys>): Promise<string> {
  const path = join(CACHE, 'big-shared.csv');
  const fd = openSync(path, 'w');
  let size = 0;
  for (let part = 1; size < 1.05 * 2 ** 30; part++) {
    const source = await surveyExport('shared', ROWS, SEED + part, keys);
    const body = readFileSync(source);
    const headerEnd = body.indexOf(0x0a) + 1;
    const chunk = size === 0 ? body : body.subarray(headerEnd);
    writeSync(fd, chunk);
    size += chunk.length;
  }
  closeSync(fd);
  return path;
}

export async function benchDecryptCsv(): Promise<void> {
  console.log(`\ndecrypt-csv, ${ROWS.toLocaleString('en-US')} rows x 11 columns, 4 PII columns (${availableParallelism()} cores)`);
  const keys = benchKeys(SEED);
  const out = join(CACHE, 'out.csv');
  for (const mode of ['legacy', 'shared', 'sealed'] as const) {
    const file = await surveyExport(mode, ROWS, SEED, keys);
    const mb = statSync(file).size / 1e6;
    const sample = cellsOf(file, mode === 'sealed' ? 40_000 : ROWS);
    const yard = cryptoOnlyRowsPerSecond(mode, sample, keys);
    const run = await runDecryptCsv(['-q', '--force', ...keyArgs(mode, keys), file, '-o', out]);
    if (run.code !== 0) throw new Error(`decrypt-csv failed: ${run.stderr}`);
    const target = mode === 'sealed' ? 'target >= 25,000 rows/s' : 'target <= 2.5 s (Python: ~9.3 s)';
    console.log(`  ${mode} (${fmt(mb, 0)} MB)`);
    row('    decrypt-csv wall time', `${fmt(run.seconds)} s`, target);
    row('    decrypt-csv rows/s', Math.round(ROWS / run.seconds).toLocaleString('en-US'));
    row('    decrypt-csv peak RSS', `${fmt(run.peakMb, 0)} MB`, 'target <= 150 MB');
    row('    yardstick: crypto only, 1 thread, rows/s', Math.round(yard).toLocaleString('en-US'));
    row('    ratio decrypt-csv / crypto-only time', `${fmt(run.seconds / (ROWS / yard), 2)}x`, '< 1: the CSV work costs less than the threads gain');
    if (mode === 'legacy') {
      row('    csv-parse alone, parsing the same file', `${fmt(await csvParseSeconds(file))} s`, 'why we scan bytes ourselves');
      row('    our scanner alone, same file', `${fmt(scannerSeconds(file))} s`);
    }
  }
  if (process.env.BENCH_QUICK) return;
  const big = await bigFile(keys);
  try {
    const gb = statSync(big).size / 2 ** 30;
    const run = await runDecryptCsv(['-q', '--force', '--key-file', keys.sharedKeyFile, big, '-o', out]);
    if (run.code !== 0) throw new Error(`decrypt-csv failed: ${run.stderr}`);
    console.log(`  shared, ${fmt(gb, 2)} GB file`);
    row('    decrypt-csv wall time', `${fmt(run.seconds, 1)} s`, `${fmt((statSync(big).size / 1e6) / run.seconds, 0)} MB/s`);
    row('    decrypt-csv peak RSS', `${fmt(run.peakMb, 0)} MB`, 'target <= 150 MB whatever the size');
  } finally {
    rmSync(big, { force: true });
    rmSync(out, { force: true });
  }
}
