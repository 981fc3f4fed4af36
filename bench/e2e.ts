// The whole survey under load: generated respondents through the flow, the
// real local Functions and Sheets server, with and without 30% injected
// faults (the fault-free run is the yardstick).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { FAULT_KINDS } from '../src/dev/sheets-server.js';
import { startLocalStack } from '../src/dev/stack.js';
import { piiAnswerWidgets } from '../src/flow/columns.js';
import { readFlow } from '../src/flow/definition.js';
import { GeneratedChat, rng } from '../src/flow/respondents.js';
import { simulate, type Summary } from '../src/flow/simulate.js';
import { fmt, peakRssMb, row } from './stats.js';

async function load(respondents: number, concurrency: number, faultRate: number): Promise<{ summary: Summary; rss: number | undefined; queued: number }> {
  const flow = readFlow(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'));
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-bench-e2e-'));
  const stack = await startLocalStack({ flow, keysDir: join(dir, 'keys'), ...(faultRate > 0 ? { faults: { rate: faultRate, kinds: FAULT_KINDS, seed: 3 } } : {}) });
  try {
    const random = rng(7);
    const piiWidgets = piiAnswerWidgets(flow);
    const jobs = Array.from({ length: respondents }, (_, i) => ({
      trigger: { kind: 'message' as const, from: `whatsapp:+2547${String(10_000_000 + i).slice(-8)}`, body: 'Hi' },
      chat: new GeneratedChat(flow, { random, piiWidgets }),
    }));
    const { summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency });
    return { summary, rss: peakRssMb(stack.functions.pid), queued: stack.sync.items().length };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchEndToEnd(): Promise<void> {
  console.log('\nend to end: generated respondents → flows/whatsapp-survey.json → local Functions → local Sheets server');
  const base = await load(1000, 100, 0);
  const storm = await load(1000, 100, 0.3);
  for (const [label, r] of [['no faults (yardstick)', base], ['30% Sheets faults', storm]] as const) {
    const s = r.summary;
    row(`${label}: executions/s`, fmt(s.executions / s.seconds, 1), `${s.completed} completed, ${s.handedOff} handed off, ${s.failed} failed; ${s.stored} stored, ${r.queued} queued`);
    row(`${label}: last answer → row, p50 / p99`, `${fmt(s.lastAnswerToPublish.p50, 0)} / ${fmt(s.lastAnswerToPublish.p99, 0)} ms`, label.startsWith('30') ? `${fmt(s.lastAnswerToPublish.p50 / base.summary.lastAnswerToPublish.p50, 1)}x / ${fmt(s.lastAnswerToPublish.p99 / base.summary.lastAnswerToPublish.p99, 1)}x the fault-free run` : '');
    row(`${label}: peak RSS of the Functions server`, `${fmt(r.rss, 0)} MB`);
  }
}
