// The corpus of Studio flows others exported (tests/corpus/sources.json) and
// what lint and simulate make of each, offline: Run Functions reach a local
// stand-in and every other request is answered here, so no flow ever reaches
// the network. `npx tsx tests/corpus/harness.ts` prints one line per flow.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFlow, type FlowDefinition } from '../../src/flow/definition.js';
import { lintFlow, type Finding } from '../../src/flow/lint.js';
import { ScriptedChat } from '../../src/flow/respondents.js';
import { runExecution, type ExecutionResult, type Trigger } from '../../src/flow/runner.js';
import type { StubAnswer, Stubs } from '../../src/flow/stubs.js';

export const CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

export interface Source {
  readonly file: string;
  readonly repository: string;
  readonly path: string;
  readonly commit: string;
  readonly licence: string;
  readonly licenceText?: string;
  readonly channel: string;
}

export function sources(): { vendored: Source[]; fetchOnly: Source[] } {
  return JSON.parse(readFileSync(join(CORPUS_DIR, 'sources.json'), 'utf8')) as { vendored: Source[]; fetchOnly: Source[] };
}

export const flowPath = (file: string) => join(CORPUS_DIR, 'flows', file);

export function corpusFlow(file: string): FlowDefinition {
  return readFlow(flowPath(file));
}

export function lintCorpusFlow(file: string): Finding[] {
  return lintFlow(corpusFlow(file), flowPath(file));
}

/** The trigger events a flow connects to a widget. */
export function triggerEvents(flow: FlowDefinition): string[] {
  const trigger = flow.states.find((w) => w.type === 'trigger');
  return (trigger?.transitions ?? []).filter((t) => t.next).map((t) => t.event);
}

/** A stand-in for whatever Functions a flow calls: every path answers 200 with an empty JSON object. */
export interface FunctionStandIn {
  readonly url: string;
  readonly paths: string[];
  stop(): Promise<void>;
}

export async function startFunctionStandIn(): Promise<FunctionStandIn> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(new URL(req.url ?? '/', 'http://x').pathname);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, paths, stop: () => new Promise((ok) => server.close(() => ok())) };
}

/**
 * Keeps the process off the network: a fetch to anything but this machine is
 * recorded (origin only) and answered 200 with an empty JSON object.
 */
export function guardNetwork(): { readonly outside: string[]; restore(): void } {
  const real = globalThis.fetch;
  const outside: string[] = [];
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return real(input, init);
    outside.push(url.origin);
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { outside, restore: () => void (globalThis.fetch = real) };
}

export interface Run {
  readonly result: ExecutionResult;
  readonly transcript: ScriptedChat['transcript'];
}

/** The Trigger widget's event each kind of trigger starts: the runner's own table. */
export { TRIGGER_EVENTS as EVENT_OF } from '../../src/flow/runner.js';

/** Offline answers by URL: a string is answered as text/plain, anything else as JSON (status 200). */
export function stubsOf(answers: Readonly<Record<string, unknown>>): Stubs {
  const answer = (body: unknown): StubAnswer =>
    typeof body === 'string' ? { status: 200, contentType: 'text/plain', body } : { status: 200, contentType: 'application/json', body: JSON.stringify(body) };
  return new Map(Object.entries(answers).map(([url, body]) => [url, answer(body)]));
}

export async function runCorpusFlow(flow: FlowDefinition, functionsUrl: string, trigger: Trigger, replies: readonly string[], stubs?: Stubs): Promise<Run> {
  const chat = new ScriptedChat(replies);
  const result = await runExecution({ flow, functionsUrl, authToken: 'corpus-token', trigger, flowAddress: '+15005550006', chat, ...(stubs ? { stubs } : {}) });
  return { result, transcript: chat.transcript };
}

/** The trigger a first look uses: the first event the flow routes. */
function firstTrigger(flow: FlowDefinition): Trigger {
  const from = '+15005550001';
  switch (triggerEvents(flow)[0]) {
    case 'incomingRequest':
      return { kind: 'rest', to: from, data: {} };
    case 'incomingConversationMessage':
      return { kind: 'conversation', from, body: 'Hi' };
    case 'incomingCall':
      return { kind: 'call', from };
    case 'incomingParent':
      return { kind: 'parent', from, parameters: {} };
    default:
      return { kind: 'message', from, body: 'Hi' };
  }
}

async function main(): Promise<void> {
  const fns = await startFunctionStandIn();
  const net = guardNetwork();
  try {
    for (const s of sources().vendored) {
      const flow = corpusFlow(s.file);
      const findings = lintFlow(flow, flowPath(s.file));
      const { result } = await runCorpusFlow(flow, fns.url, firstTrigger(flow), ['1', 'yes', '1', '1', 'Amina Otieno', '1', '1', '1', '1', '1', '1', '1', '1', '1']);
      const last = result.steps.at(-1);
      console.log(`\n## ${s.file} (${s.channel}; trigger events: ${triggerEvents(flow).join(', ')})`);
      for (const f of findings) console.log(`  ${f.severity.padEnd(7)} ${f.widget} ${f.property}: ${f.message}`);
      console.log(`  simulate: ${result.outcome} after ${result.steps.length} widgets (last: ${last ? `${last.widget} [${last.type}] → ${last.event}` : 'none'})${result.error ? `; ${result.error}` : ''}`);
    }
    console.log(`\nrequests kept off the network: ${net.outside.length} (${[...new Set(net.outside)].join(', ')}); stand-in Function calls: ${fns.paths.length}`);
  } finally {
    net.restore();
    await fns.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
