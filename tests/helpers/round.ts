// A survey round as files: the sheet export (the real flow's header, with
// sentinel values in every non-system column, sealed-looking or in clear) and
// launch's tracker. For the report's tests and its screenshot.

import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/dev/functions-server.js';
import { prng } from '../../src/dev/prng.js';
import { sheetHeader } from '../../src/flow/columns.js';
import { readFlow } from '../../src/flow/definition.js';
import { FINAL_STATUS, type Outcome } from '../../src/flow/outcomes.js';
import { TRACKER_HEADER } from '../../src/launch/tracker.js';
import { toCsv } from './csv.js';

export const HEADER = sheetHeader(readFlow(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json')));
const SYSTEM = new Set(['received_at', 'execution_sid', 'outcome', 'final_status', 'last_answered']);

/** A Studio execution SID, FN + 32 hex digits, from a number. */
export const sid = (n: number) => `FN${n.toString(16).padStart(32, '0')}`;

/** Marks a cell the report must never copy: any of these in its output is a leak. */
export const SENTINEL = 'SENTINEL';

export interface RowSpec {
  readonly sid: string;
  readonly at: string;
  readonly outcome: string;
  readonly finalStatus?: string;
  /** Default: q_comment for a completed execution, else '' (no question answered). */
  readonly lastAnswered?: string;
  /** Cells of the non-system columns are sentinels: sealed-looking tokens, or clear text. */
  readonly sealed?: boolean;
}

export function responseRow(spec: RowSpec, index: number): string[] {
  return HEADER.map((column) => {
    if (column === 'received_at') return spec.at;
    if (column === 'execution_sid') return spec.sid;
    if (column === 'outcome') return spec.outcome;
    if (column === 'final_status') return spec.finalStatus ?? FINAL_STATUS[spec.outcome as Outcome] ?? '';
    if (column === 'last_answered') return spec.lastAnswered ?? (spec.outcome === 'complete' ? 'q_comment' : '');
    if (SYSTEM.has(column)) return '';
    return spec.sealed === false ? `${SENTINEL}-${column}-${index} +254711${String(index).padStart(6, '0')}` : `ss1.pkx.k1.${column}.${spec.sid}.${SENTINEL}${index}.1.${SENTINEL}ct${index}`;
  });
}

export const responsesCsv = (rows: readonly RowSpec[], header: readonly string[] = HEADER) => toCsv([header, ...rows.map((r, i) => responseRow(r, i))]);

export interface TrackerSpec {
  readonly caseid: string;
  readonly status: 'launched' | 'failed' | 'pending';
  readonly sid?: string;
  readonly sentAt: string;
}

export const trackerCsv = (rows: readonly TrackerSpec[]) => toCsv([[...TRACKER_HEADER], ...rows.map((r) => [r.caseid, r.status, r.sid ?? '', r.status === 'failed' ? 'Twilio refused the request' : '', r.sentAt])]);

/** The WhatsApp survey's questions, in order, as last_answered names them. */
export const SAMPLE_QUESTIONS = ['invite', 'q_consent', 'q_full_name', 'q_national_id', 'q_age', 'q_district', 'q_visited', 'q_comment'] as const;

/** Where an execution with this outcome plausibly stopped: attrition falls off question by question. */
function lastAnsweredFor(outcome: Outcome, random: () => number): string {
  if (outcome === 'complete' || outcome === 'failed') return 'q_comment';
  if (outcome === 'declined') return 'q_consent';
  if (outcome === 'no_reply' || outcome === 'undeliverable') return random() < 0.2 && outcome === 'no_reply' ? 'invite' : '';
  // incomplete and optout: after consenting, more often early than late.
  const after = SAMPLE_QUESTIONS.slice(1, -1);
  return after[Math.min(after.length - 1, Math.floor(random() * random() * after.length))] as string;
}

/**
 * A demo-like round, the same for a given seed: `contacts` launched over two
 * mornings, rows over three days, every outcome represented, a few
 * executions still running, and a few warnings (a repeated row, one outside the
 * tracker, one unreadable time).
 */
export function sampleRound(contacts = 240, seed = 13): { responses: string; tracker: string } {
  const random = prng(seed);
  const start = Date.parse('2026-11-23T07:00:00Z');
  const trackerRows: TrackerSpec[] = [];
  const rows: RowSpec[] = [];
  const pick = (): Outcome => {
    const x = random();
    if (x < 0.55) return 'complete';
    if (x < 0.62) return 'declined';
    if (x < 0.66) return 'optout';
    if (x < 0.78) return 'incomplete';
    if (x < 0.92) return 'no_reply';
    if (x < 0.97) return 'undeliverable';
    return 'failed';
  };
  for (let i = 0; i < contacts; i++) {
    // Two mornings of launches, a contact every 30 s.
    const sentAt = start + (i % 2) * 86_400_000 + i * 30_000;
    if (i % 60 === 7) {
      trackerRows.push({ caseid: `C${1000 + i}`, status: 'failed', sentAt: new Date(sentAt).toISOString() });
      continue;
    }
    trackerRows.push({ caseid: `C${1000 + i}`, status: 'launched', sid: sid(i + 1), sentAt: new Date(sentAt).toISOString() });
    if (i % 40 === 3) continue; // still running: no row yet
    const outcome = pick();
    // Minutes for most, hours for some, the next day for a few (long-tailed, as real rounds are).
    const r = random();
    const delay = r < 0.6 ? 3 * 60_000 + random() * 25 * 60_000 : r < 0.9 ? 30 * 60_000 + random() * 5 * 3_600_000 : 20 * 3_600_000 + random() * 30 * 3_600_000;
    const waited = outcome === 'no_reply' || outcome === 'incomplete' ? 2 * 3_600_000 + delay : outcome === 'undeliverable' ? 30_000 : delay;
    rows.push({ sid: sid(i + 1), at: new Date(sentAt + waited).toISOString(), outcome, lastAnswered: lastAnsweredFor(outcome, random) });
  }
  const repeated = rows[5] as RowSpec;
  rows.push({ ...repeated });
  rows.push({ sid: sid(99_999), at: '2026-11-24T09:00:00.000Z', outcome: 'complete' });
  rows.splice(20, 1, { ...(rows[20] as RowSpec), at: '24/11/2026 09:00' });
  return { responses: responsesCsv(rows), tracker: trackerCsv(trackerRows) };
}
