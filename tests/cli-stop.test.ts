// Stopping a command early, as people do: Ctrl-C (a real SIGINT, and the key
// at a prompt in a real terminal) and a reader that closed the output
// (`| head`). Each exits quietly with its own status and leaves nothing running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandArgs } from '../src/cli/command-args.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { AUTH_TOKEN, startTestFunctions } from './helpers/functions.js';

const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-stop-'));
const spawned: ChildProcess[] = [];
afterAll(() => {
  // Only after a failed test: a command that did not stop is stopped as an operator would.
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const CLI = commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey');
const QUIET = /error|unexpected|EPIPE|Abort|at .*\.js:\d+/i;

interface Run {
  readonly child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Settles once `pattern` has appeared on stdout or stderr. */
  ready(pattern: RegExp): Promise<void>;
  exited: Promise<number | null>;
}

/** Its own TMPDIR: the local Functions keep their environment file there until they are stopped. */
function run(command: string, args: readonly string[], options: { env?: Record<string, string>; stdout?: number } = {}): Run {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SHELL: '/bin/sh', ...options.env },
    stdio: ['pipe', options.stdout ?? 'pipe', 'pipe'],
  });
  spawned.push(child);
  let stdout = '';
  let stderr = '';
  const waiting: Array<{ pattern: RegExp; ok: () => void }> = [];
  const check = () => {
    for (const w of waiting.splice(0)) (w.pattern.test(stdout) || w.pattern.test(stderr) ? w.ok : () => waiting.push(w))();
  };
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const exited = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    ready: (pattern) =>
      new Promise((ok, fail) => {
        waiting.push({ pattern, ok });
        check();
        void exited.then(() => fail(new Error(`exited before ${pattern}:\n${stdout}\n${stderr}`)));
      }),
  };
}

/** The local Functions' environment files still present under `tmp`: one per twilio-run not yet stopped. */
const liveFunctions = (tmp: string) => readdirSync(tmp).filter((f) => f.startsWith('sealed-survey-env-'));

/** A terminal for the command (util-linux or BSD script), so readline is in raw mode as for a person. */
function inTerminal(argv: readonly string[], env: Record<string, string>): Run {
  const line = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return process.platform === 'darwin' ? run('script', ['-q', '/dev/null', ...argv], { env }) : run('script', ['-qefc', line, '/dev/null'], { env });
}

/** A FIFO whose only reader has gone: every write to the returned descriptor fails with EPIPE. */
function closedPipe(): number {
  const fifo = join(mkdtempSync(join(dir, 'fifo-')), 'out');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  return writer;
}

describe('Ctrl-C', () => {
  it('simulate, running executions on its local stack, stops them and its Functions and exits 130 quietly', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const sim = run(process.execPath, [...CLI, 'simulate', 'flows/whatsapp-survey.json', '--respondents', '100000', '--keys', join(dir, 'keys')], { env: { TMPDIR: tmp } });
    await sim.ready(/Running 100000 executions/);
    expect(liveFunctions(tmp)).toHaveLength(1);
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(130);
    const { stdout, stderr } = sim.output();
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(QUIET);
    expect(liveFunctions(tmp)).toEqual([]);
  }, 60_000);

  it('simulate --interactive: Ctrl-C at the prompt of a real terminal exits 130, without "unexpected error (AbortError)"', async () => {
    const functions = await startTestFunctions({});
    try {
      const sim = inTerminal([process.execPath, ...CLI, 'simulate', 'flows/whatsapp-survey.json', '--functions-url', functions.url], { AUTH_TOKEN, TERM: 'dumb' });
      await sim.ready(/You are the respondent[\s\S]*> /);
      sim.child.stdin?.write('\u0003');
      expect(await sim.exited).toBe(130);
      const { stdout, stderr } = sim.output();
      expect(`${stdout}${stderr}`).not.toMatch(QUIET);
    } finally {
      await functions.stop();
    }
  }, 60_000);

  it('sheets-server, which stops itself on Ctrl-C, exits 130 too', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const server = run(process.execPath, [...CLI, 'sheets-server', '--port', '0', '--data', join(tmp, 'data')], { env: { TMPDIR: tmp } });
    await server.ready(/listening on/);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(130);
    expect(server.output().stderr).not.toMatch(/unexpected|at .*\.js:\d+/);
  }, 60_000);
});

describe('a closed output pipe (`| head`)', () => {
  it('--help and keygen exit 141 quietly, like any Unix tool whose reader left', async () => {
    for (const args of [['--help'], ['simulate', '--help'], ['keygen', '--out', join(dir, 'keygen-out')]]) {
      const out = closedPipe();
      const cmd = run(process.execPath, [...CLI, ...args], { stdout: out });
      closeSync(out);
      expect(await cmd.exited, args.join(' ')).toBe(141);
      expect(cmd.output().stderr).not.toMatch(QUIET);
    }
  });

  it('simulate stops its local stack and exits 141 quietly', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const out = closedPipe();
    const sim = run(process.execPath, [...CLI, 'simulate', 'flows/whatsapp-survey.json', '--answers', 'flows/answers/demo.json', '--keys', join(dir, 'keys')], { stdout: out, env: { TMPDIR: tmp } });
    closeSync(out);
    expect(await sim.exited).toBe(141);
    expect(sim.output().stderr).not.toMatch(QUIET);
    expect(liveFunctions(tmp)).toEqual([]);
  }, 60_000);
});
