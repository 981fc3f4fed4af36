// Many executions of one flow: concurrency, transcripts and a summary.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { plural } from '../plural.js';
import type { FlowDefinition } from './definition.js';
import type { RecordingChat } from './respondents.js';
import { OUTCOMES, runExecution, type ExecutionResult, type Outcome, type Trigger } from './runner.js';
import { OUTCOME_NAMES, OUTCOME_VARIABLE } from './outcomes.js';
import type { Stubs } from './stubs.js';

export interface Job {
  readonly trigger: Trigger;
  readonly chat: RecordingChat;
}

export interface SimulationOptions {
  readonly flow: FlowDefinition;
  readonly functionsUrl: string;
  readonly authToken: string;
  /** The flow's own sender; Twilio's WhatsApp sandbox number by default. */
  readonly flowAddress?: string;
  readonly concurrency: number;
  /** Where to write one transcript per execution (the respondent's own chat: keep it private). */
  readonly transcriptDir?: string | undefined;
  readonly onResult?: (result: ExecutionResult, job: Job) => void;
  /** Stops the run (Ctrl-C): no new executions start, running ones stop, and simulate rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Offline answers by URL; live HTTP instead; subflow definitions (see ExecutionOptions). */
  readonly stubs?: Stubs;
  readonly liveHttp?: boolean;
  readonly subflows?: ReadonlyMap<string, FlowDefinition>;
}

export const DEFAULT_FLOW_ADDRESS = 'whatsapp:+14155238886';

export interface Summary {
  readonly executions: number;
  /** By outcome: ran to an end of the flow, ended at a hand-off (Flex, TwiML, Autopilot), failed. */
  readonly completed: number;
  readonly handedOff: number;
  readonly failed: number;
  /** publish answered 2xx: the response is in the sheet or queued for it. */
  readonly stored: number;
  /** How many executions ended at each widget, and with which outcome. */
  readonly endedAt: ReadonlyMap<string, ReadonlyMap<Outcome, number>>;
  /** How many executions ended with each survey outcome (flow.variables.outcome, outcomes.ts); "(none)" where the flow set none. */
  readonly outcomes: ReadonlyMap<string, number>;
  /** Each distinct reason an execution failed, with how many failed for it. */
  readonly errors: ReadonlyMap<string, number>;
  readonly widgetCounts: ReadonlyMap<string, number>;
  readonly lastAnswerToPublish: { readonly p50: number; readonly p99: number; readonly n: number };
  readonly seconds: number;
}

const total = (by: ReadonlyMap<Outcome, number>) => [...by.values()].reduce((a, b) => a + b, 0);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export function writeTranscript(dir: string, result: ExecutionResult, job: Job): void {
  const lines = job.chat.transcript.map((l) => `${l.from.padEnd(10)} [${l.widget}] ${l.text}`);
  lines.push(`-- ${result.outcome}${result.endedAt ? ` at ${result.endedAt}` : ''}${result.error ? `: ${result.error}` : ''}`);
  writeFileSync(join(dir, `${result.executionSid}.txt`), `${lines.join('\n')}\n`, { mode: 0o600 });
}

export async function simulate(jobs: readonly Job[], options: SimulationOptions): Promise<{ results: ExecutionResult[]; summary: Summary }> {
  if (options.transcriptDir) mkdirSync(options.transcriptDir, { recursive: true, mode: 0o700 });
  const results: ExecutionResult[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !options.signal?.aborted) {
      const job = jobs[next++] as Job;
      const result = await runExecution({
        flow: options.flow,
        functionsUrl: options.functionsUrl,
        authToken: options.authToken,
        flowAddress: options.flowAddress ?? DEFAULT_FLOW_ADDRESS,
        trigger: job.trigger,
        chat: job.chat,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.stubs ? { stubs: options.stubs } : {}),
        ...(options.liveHttp ? { liveHttp: true } : {}),
        ...(options.subflows ? { subflows: options.subflows } : {}),
      });
      results.push(result);
      if (options.transcriptDir) writeTranscript(options.transcriptDir, result, job);
      options.onResult?.(result, job);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, jobs.length)) }, worker));
  options.signal?.throwIfAborted();
  const seconds = (performance.now() - started) / 1000;
  const widgetCounts = new Map<string, number>();
  const errors = new Map<string, number>();
  const endedAt = new Map<string, Map<Outcome, number>>();
  const outcomes = new Map<string, number>();
  for (const r of results) {
    const outcome = typeof r.variables[OUTCOME_VARIABLE] === 'string' ? (r.variables[OUTCOME_VARIABLE] as string) : '(none)';
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const at = endedAt.get(r.endedAt ?? '(start)') ?? new Map<Outcome, number>();
    at.set(r.outcome, (at.get(r.outcome) ?? 0) + 1);
    endedAt.set(r.endedAt ?? '(start)', at);
    for (const s of r.steps) widgetCounts.set(s.widget, (widgetCounts.get(s.widget) ?? 0) + 1);
    if (r.outcome === 'failed') {
      const reason = r.error ?? 'no reason recorded';
      errors.set(reason, (errors.get(reason) ?? 0) + 1);
    }
  }
  const latencies = results.flatMap((r) => (r.lastAnswerToPublishMs === undefined ? [] : [r.lastAnswerToPublishMs])).sort((a, b) => a - b);
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  return {
    results,
    summary: {
      executions: results.length,
      completed: count('completed'),
      handedOff: count('handed-off'),
      failed: count('failed'),
      stored: results.filter((r) => r.stored).length,
      endedAt,
      outcomes,
      errors,
      widgetCounts,
      lastAnswerToPublish: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length },
      seconds,
    },
  };
}

/** The summary: totals by outcome, stored, the survey outcomes (a flow that sets none shows no line), where executions ended, latency, one line per distinct failure reason (most frequent first), and unless `widgets` is false the widgets run. */
export function formatSummary(s: Summary, { widgets = true } = {}): string {
  const lines = [
    `${plural(s.executions, 'execution')} in ${s.seconds.toFixed(1)} s (${(s.executions / Math.max(s.seconds, 1e-9)).toFixed(1)}/s): ${s.completed} completed, ${s.handedOff} handed off, ${s.failed} failed; ${s.stored} stored by publish`,
  ];
  const ends = [...s.endedAt].sort((a, b) => total(b[1]) - total(a[1]));
  if (ends.length > 0) lines.push('ended at: ' + ends.map(([w, by]) => `${w} ${OUTCOMES.filter((o) => by.has(o)).map((o) => `${by.get(o)} ${o}`).join(' + ')}`).join(', '));
  if (s.outcomes.size > 0 && !(s.outcomes.size === 1 && s.outcomes.has('(none)'))) {
    const rank = (o: string) => (OUTCOME_NAMES as readonly string[]).indexOf(o) >>> 0;
    lines.push('outcomes: ' + [...s.outcomes].sort((a, b) => rank(a[0]) - rank(b[0])).map(([o, n]) => `${o} ${n}`).join(', '));
  }
  if (s.lastAnswerToPublish.n > 0) lines.push(`last answer → publish stored: p50 ${s.lastAnswerToPublish.p50.toFixed(0)} ms, p99 ${s.lastAnswerToPublish.p99.toFixed(0)} ms (n=${s.lastAnswerToPublish.n})`);
  for (const [reason, n] of [...s.errors].sort((a, b) => b[1] - a[1])) lines.push(`${plural(n, 'execution')} failed: ${reason}`);
  if (widgets) lines.push('widgets run: ' + [...s.widgetCounts].map(([w, n]) => `${w} ${n}`).join(', '));
  return lines.join('\n');
}
