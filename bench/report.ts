// `report` over a 200,000-row sealed export (the flow's header, tokens in
// every non-system column) and its tracker, as a child process like a user
// runs it. Reported: wall clock and peak memory of the command. Yardstick:
// a Node process that only reads the export's bytes into memory (what any
// reader of the file must pay); the report should stay within a small
// multiple of it, since it decodes the system columns only.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandArgs } from '../src/cli/command-args.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { sampleRound } from '../tests/helpers/round.js';
import { fmt, peakRssMb, row } from './stats.js';

const ROWS = 200_000;

async function measure(args: readonly string[], cwd: string): Promise<{ code: number | null; seconds: number; peakMb: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, peakRssMb(child.pid) ?? 0)), 50);
  const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
  clearInterval(poll);
  return { code, seconds: (performance.now() - started) / 1000, peakMb: peak };
}

export async function benchReport(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-bench-report-'));
  try {
    const round = sampleRound(ROWS);
    writeFileSync(join(dir, 'responses.csv'), round.responses);
    writeFileSync(join(dir, 'contacts.launch.csv'), round.tracker);
    const mb = statSync(join(dir, 'responses.csv')).size / 1e6;
    const baseline = await measure(['-e', `require('node:fs').readFileSync('responses.csv'); setTimeout(() => {}, 200)`], dir);
    const report = await measure([...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), 'report', 'responses.csv', '--tracker', 'contacts.launch.csv', '-o', 'round.html'], dir);
    console.log(`\nreport: ${ROWS.toLocaleString('en-US')} rows, ${fmt(mb, 0)} MB sealed export, with its tracker`);
    if (report.code !== 0) console.log(`  exit ${report.code}`);
    row('wall clock incl. start-up (s)', fmt(report.seconds, 1));
    row('peak RSS of the report process (MB)', fmt(report.peakMb, 0), `yardstick: reading the file alone ${fmt(baseline.peakMb, 0)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
