// Small helpers shared by the benchmarks.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandArgs } from '../src/cli/command-args.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function summarize(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN, n: s.length };
}

/** Peak resident set size of a live process (Linux), in MB. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const fmt = (n: number | undefined, digits = 2): string => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));

export function row(label: string, value: string, target = ''): void {
  console.log(`  ${label.padEnd(46)} ${value.padStart(14)}  ${target}`);
}

export interface MeasuredRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** Seconds from spawn to exit. */
  readonly wall: number;
  /** Peak RSS of the command's process, polled every 100 ms (MB). */
  readonly peakMb: number;
}

/** Runs the built `sealed-survey` with `args` as a user would, timing it and polling its peak memory. */
export async function runSealedSurvey(args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): Promise<MeasuredRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let peakMb = 0;
  const poll = setInterval(() => (peakMb = Math.max(peakMb, peakRssMb(child.pid) ?? 0)), 100);
  const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
  clearInterval(poll);
  return { code, out, err, wall: (performance.now() - started) / 1000, peakMb };
}
