// Starts the real local Functions server (twilio-run serving build/) for
// `npm start`, the tests, the benchmarks and the demo.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICE_DIR = join(PROJECT_ROOT, 'build');

/**
 * --no-logs: twilio-run's request log prints full URLs, query strings
 * included, and a misconfigured flow could put answers there (pass --logs to
 * turn it back on).
 * --no-live: serve the built bundle from memory instead of clearing the
 * require cache on every request (the bundle only changes on rebuild).
 * --no-fork-process: one warm process, like a warm Twilio Functions instance,
 * instead of a fresh Node process per request.
 */
const DEFAULT_FLAGS = ['--no-logs', '--no-live', '--no-fork-process'];

export function twilioRunBin(): string {
  return createRequire(import.meta.url).resolve('twilio-run/bin/twilio-run.js');
}

/** twilio-run resolves --env against the service folder; users mean their own working directory. */
export function twilioRunArgs(userArgs: readonly string[], cwd = process.cwd(), serviceDir = SERVICE_DIR): string[] {
  const args = [...userArgs];
  const envAt = args.findIndex((a) => a === '--env' || a.startsWith('--env='));
  if (envAt >= 0) {
    if (args[envAt] === '--env' && args[envAt + 1] !== undefined) args[envAt + 1] = resolve(cwd, args[envAt + 1] as string);
    else if (args[envAt]?.startsWith('--env=')) args[envAt] = `--env=${resolve(cwd, (args[envAt] as string).slice(6))}`;
  } else if (existsSync(join(PROJECT_ROOT, '.env'))) {
    args.push('--env', join(PROJECT_ROOT, '.env'));
  }
  return ['start', '--cwd', serviceDir, ...DEFAULT_FLAGS, ...args];
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

export interface RunningFunctions {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Everything the server printed so far, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Environment of the Functions (the .env content); written to a private temp file. */
  readonly env: Readonly<Record<string, string>>;
  readonly port?: number;
  readonly timeoutMs?: number;
  /** A service folder other than build/ (the benchmarks add a no-op Function to a copy). */
  readonly serviceDir?: string;
}

function envFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (/[\r\n]/.test(v)) throw new Error(`environment variable ${k} must be a single line`);
      // dotenv takes single-quoted values literally (a JSON key file has double quotes and backslashes).
      if (!v.includes("'")) return `${k}='${v}'`;
      if (!/["\\]/.test(v)) return `${k}="${v}"`;
      throw new Error(`environment variable ${k} holds both quote kinds, which a .env file cannot carry literally`);
    })
    .join('\n');
}

/** An idempotent stop for a child server: SIGTERM, SIGKILL after 5 s, then `cleanup`. */
export function stopper(child: ChildProcess, exited: Promise<void>, cleanup: () => void): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    cleanup();
  };
}

/** Starts twilio-run on build/ with the given environment; resolves once it accepts connections. */
export async function startFunctions(options: StartOptions): Promise<RunningFunctions> {
  const serviceDir = options.serviceDir ?? SERVICE_DIR;
  if (!existsSync(join(serviceDir, 'functions'))) {
    throw new Error('build/ is missing: run `npm run build` first');
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-env-'));
  const envPath = join(dir, '.env');
  writeFileSync(envPath, envFileText(options.env), { mode: 0o600 });
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [twilioRunBin(), ...twilioRunArgs(['--port', String(port), '--env', envPath], process.cwd(), serviceDir)], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), NODE_ENV: 'development', FORCE_COLOR: '0', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = stopper(child, exited, () => rmSync(dir, { recursive: true, force: true }));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the local Functions server did not start on port ${port}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://localhost:${port}`, port, pid: child.pid, output: () => output, stop };
}
