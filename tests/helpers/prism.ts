// Stoplight Prism as a validating proxy between a client and a server, so a
// test also checks both sides against an OpenAPI document.
//
// With --errors, Prism answers a request that violates the document itself
// (422, or 401 without credentials) without forwarding it, and replaces a
// response whose error-severity violations it finds (body schema, an
// undeclared 2xx status) with a 500 application/problem+json of type
// VIOLATIONS; both are logged as "Request terminated with error". Warnings (an
// undeclared non-2xx status) pass through, marked by an sl-violations header
// and a "Violation:" log line. violations() collects both kinds from the log.
//
// Prism silently skips validation against any schema ajv cannot compile, so
// the proxy gets a copy of the document with that one known cause removed
// (see compilableSpec).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort, PROJECT_ROOT, stopper } from '../../src/dev/functions-server.js';

/** Twilio's Sync v1 OpenAPI document (MIT), vendored from twilio/twilio-oai: see tests/contracts/twilio-oai/SOURCE. */
export const SYNC_SPEC = join(PROJECT_ROOT, 'tests', 'contracts', 'twilio-oai', 'twilio_sync_v1.json');

export interface PrismViolation {
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

export interface RunningPrism {
  readonly url: string;
  /** Everything Prism printed so far, stdout and stderr. */
  output(): string;
  /** Violations and refused requests Prism logged so far; call settled() first to include the latest requests. */
  violations(): PrismViolation[];
  /** Resolves once Prism has printed nothing for quietMs: its log then covers every answered request. */
  settled(quietMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Prism's warning for a non-2xx status the document does not declare. Twilio's
 * documents declare no error responses, so every Twilio error answer (401,
 * 404, 409) draws one; an undeclared 2xx is an error and is not matched here.
 */
export function isUndeclaredErrorStatus(violation: PrismViolation): boolean {
  return violation.severity === 'warning' && violation.message.startsWith('response Unable to match the returned status code');
}

const LOG_LINE = /\b(error|warning|info)\s+(?:Violation: (.*)|(Request terminated with error: .*))$/gm;

export function parseViolations(output: string): PrismViolation[] {
  return [...output.matchAll(LOG_LINE)].map((m) => ({
    severity: m[1] as PrismViolation['severity'],
    message: (m[2] ?? m[3] ?? '').trim(),
  }));
}

/**
 * OpenAPI 3.0 `nullable: true` on a schema without `type` (Twilio's Sync Map
 * Item `data`) makes ajv refuse to compile the whole schema, and Prism then
 * validates nothing in those responses. Such a `nullable` has no effect (a
 * schema without `type` already admits null), so dropping it changes no
 * meaning and lets Prism check the rest.
 */
export function compilableSpec(document: unknown): unknown {
  if (Array.isArray(document)) return document.map(compilableSpec);
  if (typeof document !== 'object' || document === null) return document;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    if (key === 'nullable' && value === true && !('type' in document)) continue;
    out[key] = key === 'example' || key === 'examples' ? value : compilableSpec(value);
  }
  return out;
}

const tail = (text: string) => text.split('\n').slice(-30).join('\n');

export async function startPrismProxy(specPath: string, upstreamUrl: string, timeoutMs = 30_000): Promise<RunningPrism> {
  if (!existsSync(specPath)) throw new Error(`the OpenAPI document ${specPath} does not exist: check out twilio-oai next to the repository (../shared/twilio-oai)`);
  const bin = join(PROJECT_ROOT, 'node_modules', '.bin', 'prism');
  if (!existsSync(bin)) throw new Error('node_modules/.bin/prism is missing: run `npm install` (@stoplight/prism-cli is a dev dependency)');
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-prism-'));
  const spec = join(dir, basename(specPath));
  writeFileSync(spec, JSON.stringify(compilableSpec(JSON.parse(readFileSync(specPath, 'utf8')))));
  const port = await freePort();
  const child = spawn(bin, ['proxy', spec, upstreamUrl, '--errors', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let lastOutputAt = Date.now();
  const append = (d: Buffer) => {
    output += d.toString();
    lastOutputAt = Date.now();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = stopper(child, exited, () => rmSync(dir, { recursive: true, force: true }));

  const deadline = Date.now() + timeoutMs;
  while (!output.includes('Prism is listening')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`Prism exited (${child.exitCode ?? child.signalCode}) before listening on port ${port}:\n${tail(output)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prism did not start listening on port ${port} within ${timeoutMs} ms:\n${tail(output)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    violations: () => parseViolations(output),
    async settled(quietMs = 250) {
      while (Date.now() - lastOutputAt < quietMs) await new Promise((r) => setTimeout(r, quietMs / 5));
    },
    stop,
  };
}
