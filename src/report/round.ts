// A round in numbers, from the sheet export's system columns and, when given,
// launch's tracker: the funnel, outcomes and final status by UTC day, time to
// complete, where non-completed executions stopped (by outcome and, when the
// export has last_answered, by the last question answered), and what in the files
// looks wrong (by row number, never by value). docs/REPORT.md defines each
// number. Pure: no file, no clock. A tracker that shares no execution with
// the export is refused (a wrong file), rather than reported as all zeros.

import { UserError } from '../cli/common.js';
import { FINAL_STATUS, FINAL_STATUSES, OUTCOME_NAMES, type Outcome } from '../flow/outcomes.js';
import type { TrackerRow } from '../monitor/tracker.js';
import type { ResponseRow, Responses } from './responses.js';
import { durationHistogram, quantile, utcDay } from './stats.js';

export const UNKNOWN = 'unknown';

/** The respondent replied at least once: every outcome but never answering and never reached. */
export const ANSWERED_OUTCOMES: readonly Outcome[] = ['complete', 'declined', 'optout', 'incomplete', 'failed'];
const ANSWERED: ReadonlySet<string> = new Set(ANSWERED_OUTCOMES);
/** The opener reached the phone (or the call was picked up): Studio's deliveryFailure would otherwise have ended the execution as undeliverable. */
const DELIVERED: ReadonlySet<string> = new Set<Outcome>([...ANSWERED, 'no_reply', 'hung_up'] as Outcome[]);
/** A caller who hung up replied when they had answered a question before; without last_answered that cannot be told, and they are not counted. */
const answeredRow = (r: ResponseRow): boolean => ANSWERED.has(r.outcome) || (r.outcome === 'hung_up' && (r.lastAnswered ?? '') !== '');

/** Where an execution that did not complete stopped, in the order a respondent goes through the survey. */
export const STOP_POINTS: ReadonlyArray<{ readonly outcome: string; readonly where: string }> = [
  { outcome: 'undeliverable', where: 'the invitation could not be delivered' },
  { outcome: 'no_reply', where: 'never answered the invitation or the consent question' },
  { outcome: 'declined', where: 'said no at the consent question' },
  { outcome: 'optout', where: 'sent a stop word at a question' },
  { outcome: 'incomplete', where: 'stopped answering after consenting (timed out, or three invalid answers)' },
  { outcome: 'hung_up', where: 'hung up during the survey (a call)' },
  { outcome: 'failed', where: 'answered everything, but the answers could not be stored (the system, not the respondent)' },
  { outcome: UNKNOWN, where: 'an outcome this report does not know (see the warnings)' },
];

/** The stop point of executions that answered no question (last_answered empty). */
export const BEFORE_FIRST_QUESTION = 'before the first question';

export type WarningId = 'no-execution-sid' | 'duplicate-execution' | 'not-in-tracker' | 'no-caseid' | 'duplicate-caseid' | 'bad-received-at' | 'unknown-outcome' | 'unknown-last-answered' | 'before-launch';

export interface RoundWarning {
  readonly id: WarningId;
  readonly message: string;
  /** Row numbers of the export, as a spreadsheet shows them. */
  readonly lines: readonly number[];
}

export interface ByDay {
  /** Every UTC day from the first row's to the last's. */
  readonly days: readonly string[];
  /** Category → count per day, in the order of `days`. */
  readonly series: ReadonlyArray<{ readonly name: string; readonly counts: readonly number[] }>;
}

export interface Funnel {
  /** Executions the tracker launched; undefined without a tracker. */
  readonly launched: number | undefined;
  readonly delivered: number;
  readonly answered: number;
  readonly completed: number;
  /** Executions counted: one per execution_sid (of the tracker's, when there is one). */
  readonly executions: number;
  /** Tracker contacts launch could not start (failed, or pending after a crash); undefined without a tracker. */
  readonly notLaunched: number | undefined;
  /** Launched executions with no row in the export yet (still running, or their row was lost). */
  readonly noRowYet: number | undefined;
  /** Of those, the ones monitor saw delivered or read, counted in `delivered`; undefined without monitor's file. */
  readonly deliveredWithoutRow: number | undefined;
}

export interface Timing {
  readonly count: number;
  readonly medianMs: number | undefined;
  readonly p90Ms: number | undefined;
  readonly histogram: readonly number[];
}

/** Executions that did not complete, by the last question they answered (the last_answered column). */
export interface StoppedAfter {
  /** flow: in the order of the flow's questions (--flow), unanswered first; count: most first. */
  readonly orderedBy: 'flow' | 'count';
  /** Only the stop points some execution has. `question`: a question's name, '' (none answered) or `unknown`. */
  readonly rows: ReadonlyArray<{ readonly question: string; readonly label: string; readonly count: number }>;
}

export interface RoundReport {
  readonly funnel: Funnel;
  readonly outcomesByDay: ByDay;
  readonly finalStatusByDay: ByDay;
  /** Counted executions whose received_at could not be read: in the totals, not in any day. */
  readonly undated: number;
  /** From the tracker's sent_at to the completed row's received_at; undefined without a tracker. */
  readonly timing: Timing | undefined;
  readonly stops: ReadonlyArray<{ readonly outcome: string; readonly where: string; readonly count: number }>;
  /** undefined when the export has no last_answered column: flows from before it record no question. */
  readonly stoppedAfter: StoppedAfter | undefined;
  readonly warnings: readonly RoundWarning[];
  /** Where each row's case id came from, or undefined when none could be checked. */
  readonly caseidSource: 'export' | 'tracker' | undefined;
}

const DAY_MS = 86_400_000;
/** Beyond this many days the axis keeps only the days that have rows (a stray year-old row would otherwise draw a year of empty days). */
const MAX_FILLED_DAYS = 120;

function byDay(rows: readonly ResponseRow[], categories: readonly string[], categoryOf: (r: ResponseRow) => string): ByDay {
  // Days as whole numbers since the epoch (UTC), formatted once each.
  const dayOf = (ms: number) => Math.floor(ms / DAY_MS);
  const present = [...new Set(rows.flatMap((r) => (r.receivedAt === undefined ? [] : [dayOf(r.receivedAt)])))].sort((a, b) => a - b);
  const first = present[0] ?? 0;
  const span = present.length === 0 ? 0 : (present.at(-1) as number) - first + 1;
  const dayNumbers = span <= MAX_FILLED_DAYS ? Array.from({ length: span }, (_, i) => first + i) : present;
  const index = new Map(dayNumbers.map((d, i) => [d, i]));
  const counts = new Map(categories.map((c) => [c, dayNumbers.map(() => 0)]));
  for (const r of rows) {
    if (r.receivedAt === undefined) continue;
    const series = counts.get(categoryOf(r)) as number[];
    const i = index.get(dayOf(r.receivedAt)) as number;
    series[i] = (series[i] as number) + 1;
  }
  return { days: dayNumbers.map((d) => utcDay(d * DAY_MS)), series: categories.map((name) => ({ name, counts: counts.get(name) as number[] })) };
}

const outcomeOf = (r: ResponseRow) => ((OUTCOME_NAMES as readonly string[]).includes(r.outcome) ? r.outcome : UNKNOWN);

function finalStatusOf(r: ResponseRow, hasColumn: boolean): string {
  if (hasColumn) return (FINAL_STATUSES as readonly string[]).includes(r.finalStatus) ? r.finalStatus : UNKNOWN;
  const o = outcomeOf(r);
  return o === UNKNOWN ? UNKNOWN : FINAL_STATUS[o as Outcome];
}

/** A widget name as Studio allows it: anything else in last_answered is not shown (it could be anything typed into the sheet). */
const WIDGET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/**
 * Counts `stopped` by last_answered; in `questions`' order when given (the
 * flow's, order.ts), a value that is not one of them then being unknown.
 */
function stoppedAfter(stopped: readonly ResponseRow[], questions: readonly string[] | undefined): { result: StoppedAfter; unknownLines: number[] } {
  const known = (q: string) => (questions === undefined ? WIDGET_NAME.test(q) : questions.includes(q));
  const counts = new Map<string, number>();
  const unknownLines: number[] = [];
  for (const r of stopped) {
    const q = r.lastAnswered ?? '';
    const key = q === '' || known(q) ? q : UNKNOWN;
    if (key === UNKNOWN) unknownLines.push(r.line);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const label = (q: string) => (q === '' ? BEFORE_FIRST_QUESTION : q === UNKNOWN ? 'a value that is not a question of the survey (see the warnings)' : `stopped after ${q}`);
  const keys = [...counts.keys()];
  const order = questions === undefined ? keys.sort((a, b) => (counts.get(b) as number) - (counts.get(a) as number) || a.localeCompare(b)) : ['', ...questions, UNKNOWN].filter((q) => counts.has(q));
  return { result: { orderedBy: questions === undefined ? 'count' : 'flow', rows: order.map((question) => ({ question, label: label(question), count: counts.get(question) as number })) }, unknownLines };
}

/**
 * `delivered` (caseids), from monitor's file: openers Twilio reported
 * delivered or read, counted as delivered even before their execution wrote a
 * row. Only with a tracker (it maps caseids to executions). `questions`: the
 * flow's questions in order (questionOrder), to order the stop points by.
 */
export function computeRound(responses: Responses, tracker?: readonly TrackerRow[], delivered?: ReadonlySet<string>, questions?: readonly string[]): RoundReport {
  const warnings: RoundWarning[] = [];
  const warn = (id: WarningId, lines: number[], message: string) => {
    if (lines.length > 0) warnings.push({ id, message, lines: [...lines].sort((a, b) => a - b) });
  };

  warn('no-execution-sid', responses.rows.filter((r) => r.executionSid === '').map((r) => r.line), 'rows without an execution_sid: left out (publish never writes one; was the sheet edited by hand?)');

  // One execution, one row: publish keeps it so, but a hand edit or a flush after a 503 can repeat one. The last row counts.
  const latest = new Map<string, ResponseRow>();
  const linesOf = new Map<string, number[]>();
  for (const r of responses.rows) {
    if (r.executionSid === '') continue;
    latest.delete(r.executionSid);
    latest.set(r.executionSid, r);
    const lines = linesOf.get(r.executionSid);
    if (lines) lines.push(r.line);
    else linesOf.set(r.executionSid, [r.line]);
  }
  warn('duplicate-execution', [...linesOf.values()].filter((l) => l.length > 1).flat(), 'rows that repeat another row\'s execution_sid: each execution is counted once, from its last row');

  let rows = [...latest.values()];
  const launchedBySid = new Map((tracker ?? []).filter((t) => t.executionSid !== '').map((t) => [t.executionSid, t]));
  if (tracker) {
    const outside = rows.filter((r) => !launchedBySid.has(r.executionSid));
    warn('not-in-tracker', outside.map((r) => r.line), 'rows without a case id: their execution is not in the tracker (a respondent who wrote first, or another round): left out of every number');
    rows = rows.filter((r) => launchedBySid.has(r.executionSid));
    if (rows.length === 0 && outside.length > 0) throw new UserError("none of the export's executions is in the tracker: is it this round's tracker (<contacts>.launch.csv, written by launch) and this round's sheet?");
  }

  const caseidSource = responses.hasCaseid ? 'export' : tracker ? 'tracker' : undefined;
  const caseOf = (r: ResponseRow) => (responses.hasCaseid ? (r.caseid ?? '') : (launchedBySid.get(r.executionSid)?.caseid ?? ''));
  if (responses.hasCaseid) warn('no-caseid', rows.filter((r) => caseOf(r) === '').map((r) => r.line), 'rows without a case id (the caseid column is blank): counted, but they cannot be matched to a contact');
  if (caseidSource !== undefined) {
    const byCase = new Map<string, number[]>();
    for (const r of rows) {
      const id = caseOf(r);
      if (id === '') continue;
      const lines = byCase.get(id);
      if (lines) lines.push(r.line);
      else byCase.set(id, [r.line]);
    }
    warn('duplicate-caseid', [...byCase.values()].filter((l) => l.length > 1).flat(), 'rows whose case id another execution also has: the contact was surveyed more than once; each execution is counted');
  }
  warn('unknown-outcome', rows.filter((r) => outcomeOf(r) === UNKNOWN).map((r) => r.line), 'rows whose outcome is blank or not one the survey declares (src/flow/outcomes.ts): counted as executions, in no stage after launched');
  warn('bad-received-at', rows.filter((r) => r.receivedAt === undefined).map((r) => r.line), 'rows whose received_at is not an ISO 8601 time with a zone (as publish writes it): counted, but in no day and no time to complete');

  // A row's outcome is final; monitor's state counts only for executions still running (no row yet).
  const withRow = new Set(rows.map((r) => r.executionSid));
  const reachedWithoutRow = delivered === undefined || !tracker ? undefined : [...launchedBySid.values()].filter((t) => !withRow.has(t.executionSid) && delivered.has(t.caseid)).length;
  const funnel: Funnel = {
    launched: tracker ? launchedBySid.size : undefined,
    delivered: rows.filter((r) => DELIVERED.has(r.outcome)).length + (reachedWithoutRow ?? 0),
    answered: rows.filter(answeredRow).length,
    completed: rows.filter((r) => r.outcome === 'complete').length,
    executions: rows.length,
    notLaunched: tracker ? tracker.filter((t) => t.executionSid === '').length : undefined,
    noRowYet: tracker ? launchedBySid.size - rows.length : undefined,
    deliveredWithoutRow: reachedWithoutRow,
  };

  const outcomeNames = [...OUTCOME_NAMES, ...(rows.some((r) => outcomeOf(r) === UNKNOWN) ? [UNKNOWN] : [])];
  const finalOf = (r: ResponseRow) => finalStatusOf(r, responses.hasFinalStatus);
  const finalNames = [...FINAL_STATUSES, ...(rows.some((r) => finalOf(r) === UNKNOWN) ? [UNKNOWN] : [])];

  let timing: Timing | undefined;
  if (tracker) {
    const durations: number[] = [];
    const early: number[] = [];
    for (const r of rows) {
      const sentAt = launchedBySid.get(r.executionSid)?.sentAt;
      if (r.outcome !== 'complete' || r.receivedAt === undefined || sentAt === undefined) continue;
      if (r.receivedAt < sentAt) early.push(r.line);
      else durations.push(r.receivedAt - sentAt);
    }
    warn('before-launch', early, "completed rows received before the tracker's sent_at for their execution: left out of the time to complete (is it this round's tracker?)");
    timing = { count: durations.length, medianMs: quantile(durations, 0.5), p90Ms: quantile(durations, 0.9), histogram: durationHistogram(durations) };
  }

  const stopped = rows.filter((r) => r.outcome !== 'complete');
  const stops = STOP_POINTS.map((s) => ({ ...s, count: stopped.filter((r) => outcomeOf(r) === s.outcome).length })).filter((s) => s.outcome !== UNKNOWN || s.count > 0);
  let after: StoppedAfter | undefined;
  if (responses.hasLastAnswered) {
    const { result, unknownLines } = stoppedAfter(stopped, questions);
    after = result;
    warn('unknown-last-answered', unknownLines, `rows whose last_answered is not ${questions === undefined ? 'a widget name' : 'a question of the flow given with --flow'}: counted as unknown in where people stopped (is it this survey's flow?)`);
  }

  return {
    funnel,
    outcomesByDay: byDay(rows, outcomeNames, outcomeOf),
    finalStatusByDay: byDay(rows, finalNames, finalOf),
    undated: rows.filter((r) => r.receivedAt === undefined).length,
    timing,
    stops,
    stoppedAfter: after,
    warnings,
    caseidSource,
  };
}

/** The question after which most executions stopped, undefined without last_answered or when every execution completed. */
export function topStopAfter(report: RoundReport): StoppedAfter['rows'][number] | undefined {
  return [...(report.stoppedAfter?.rows ?? [])].sort((a, b) => b.count - a.count)[0];
}

/** The stop point with the most executions, undefined when every execution completed. */
export function topStop(report: RoundReport): RoundReport['stops'][number] | undefined {
  return [...report.stops].sort((a, b) => b.count - a.count).find((s) => s.count > 0);
}
