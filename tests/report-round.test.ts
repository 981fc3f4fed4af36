// The report's numbers on hand-made exports and trackers, read from real CSV
// files as the command reads them: the funnel, median and p90 with known
// answers, UTC days, and each warning with its row numbers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { readTracker } from '../src/monitor/tracker.js';
import { readDeliveredCases } from '../src/report/monitor-file.js';
import { parseReceivedAt, readResponses } from '../src/report/responses.js';
import { readFlow } from '../src/flow/definition.js';
import { questionOrder } from '../src/flow/order.js';
import { computeRound, topStop, topStopAfter, type RoundReport } from '../src/report/round.js';
import { durationHistogram, quantile } from '../src/report/stats.js';
import { toCsv } from './helpers/csv.js';
import { HEADER, responsesCsv, sid, trackerCsv, type RowSpec, type TrackerSpec } from './helpers/round.js';

const dir = mkdtempSync(join(tmpdir(), 'report-round-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(text: string): string {
  const path = join(dir, `f${files++}.csv`);
  writeFileSync(path, text);
  return path;
}

async function round(rows: readonly RowSpec[], tracker?: readonly TrackerSpec[], header?: readonly string[], questions?: readonly string[]): Promise<RoundReport> {
  const responses = await readResponses(file(responsesCsv(rows, header)));
  return computeRound(responses, tracker === undefined ? undefined : await readTracker(file(trackerCsv(tracker))), undefined, questions);
}

const T0 = Date.parse('2026-11-23T08:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const launched = (n: number, sentMinutes = 0): TrackerSpec => ({ caseid: `C${n}`, status: 'launched', sid: sid(n), sentAt: at(sentMinutes) });
const warning = (report: RoundReport, id: string) => report.warnings.find((w) => w.id === id)?.lines;

describe('quantile (as a spreadsheet: PERCENTILE.INC, MEDIAN)', () => {
  it('interpolates between closest ranks', () => {
    const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(quantile(values, 0.5)).toBe(5.5);
    expect(quantile(values, 0.9)).toBeCloseTo(9.1, 10);
    expect(quantile([4, 1, 3], 0.5)).toBe(3);
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it('bins durations from minutes to days, a bound in the bin above it', () => {
    const min = 60_000;
    expect(durationHistogram([0, 4 * min, 5 * min, 59 * min, 60 * min, 25 * 60 * min, 3 * 24 * 60 * min])).toEqual([2, 1, 0, 1, 1, 0, 0, 1, 1]);
  });
});

describe('the export as XLSX', () => {
  it('is read as the CSV is (Excel or a Sheets download)', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('responses');
    sheet.addRow([...HEADER]);
    for (const [i, outcome] of ['complete', 'no_reply', 'complete'].entries()) sheet.addRow(HEADER.map((h) => (h === 'received_at' ? at(i) : h === 'execution_sid' ? sid(i + 1) : h === 'outcome' ? outcome : 'x')));
    const path = join(dir, 'responses.xlsx');
    await workbook.xlsx.writeFile(path);
    const report = computeRound(await readResponses(path));
    expect(report.funnel).toMatchObject({ executions: 3, delivered: 3, answered: 2, completed: 2 });
    expect(report.outcomesByDay.days).toEqual(['2026-11-23']);
  });
});

describe('received_at', () => {
  it('is read only as an ISO 8601 time with a zone, as publish writes it', () => {
    expect(parseReceivedAt('2026-11-23T08:00:00.000Z')).toBe(T0);
    expect(parseReceivedAt('2026-11-23T11:00:00+03:00')).toBe(T0);
    expect(parseReceivedAt('2026-11-23 08:00:00Z')).toBe(T0);
    for (const unzoned of ['2026-11-23T08:00:00', '23/11/2026 08:00', '45618.33', '', 'yesterday']) expect(parseReceivedAt(unzoned)).toBeUndefined();
  });
});

describe('the funnel', () => {
  it('counts launched from the tracker, delivered, answered and completed from the outcomes', async () => {
    const tracker = [1, 2, 3, 4, 5, 6, 7].map((n) => launched(n)).concat([{ caseid: 'C8', status: 'failed', sentAt: at(0) }]);
    const report = await round(
      [
        { sid: sid(1), at: at(10), outcome: 'complete' },
        { sid: sid(2), at: at(20), outcome: 'complete' },
        { sid: sid(3), at: at(30), outcome: 'declined' },
        { sid: sid(4), at: at(40), outcome: 'no_reply' },
        { sid: sid(5), at: at(50), outcome: 'undeliverable' },
        { sid: sid(6), at: at(60), outcome: 'incomplete' },
      ],
      tracker,
    );
    expect(report.funnel).toEqual({ launched: 7, delivered: 5, answered: 4, completed: 2, executions: 6, notLaunched: 1, noRowYet: 1 });
    expect(report.stops.map((s) => [s.outcome, s.count])).toEqual([
      ['undeliverable', 1],
      ['no_reply', 1],
      ['declined', 1],
      ['optout', 0],
      ['incomplete', 1],
      ['hung_up', 0],
      ['failed', 0],
    ]);
    expect(report.warnings).toEqual([]);
  });

  it("with monitor's file, counts executions still running whose opener was delivered or read", async () => {
    const tracker = [launched(1), launched(2), launched(3), launched(4)];
    const monitor = file(toCsv([['caseid', 'state', 'message_status'], ['C1', 'failed', 'failed'], ['C2', 'read', 'read'], ['C3', 'sent', 'sent'], ['C4', 'answered back', 'read']]));
    const responses = await readResponses(file(responsesCsv([{ sid: sid(1), at: at(10), outcome: 'undeliverable' }])));
    const report = computeRound(responses, await readTracker(file(trackerCsv(tracker))), await readDeliveredCases(monitor));
    // C1's row is final (undeliverable, whatever monitor says); C2 and C4 have no row yet and were reached; C3 was not.
    expect(report.funnel).toMatchObject({ launched: 4, delivered: 2, deliveredWithoutRow: 2, answered: 0, noRowYet: 3 });
    await expect(readDeliveredCases(file(trackerCsv(tracker)))).rejects.toThrow(/monitor's per-respondent file .* has no "state" column/);
  });

  it('without a tracker starts at the executions with a row, and has no time to complete', async () => {
    const report = await round([
      { sid: sid(1), at: at(10), outcome: 'complete' },
      { sid: sid(2), at: at(20), outcome: 'optout' },
      { sid: sid(3), at: at(30), outcome: 'failed' },
    ]);
    expect(report.funnel).toMatchObject({ launched: undefined, executions: 3, delivered: 3, answered: 3, completed: 1 });
    expect(report.timing).toBeUndefined();
    expect(report.caseidSource).toBeUndefined();
    expect(topStop(report)?.outcome).toBe('optout');
  });
});

describe('time to complete', () => {
  it("runs from the tracker's sent_at to the completed row's received_at: median and p90 of known durations", async () => {
    const minutes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const tracker = minutes.map((_, i) => launched(i + 1, i * 100));
    const rows = minutes.map((m, i) => ({ sid: sid(i + 1), at: at(i * 100 + m), outcome: 'complete' }));
    // Not completed: not timed, whatever their times.
    tracker.push(launched(11, 0), launched(12, 0));
    rows.push({ sid: sid(11), at: at(5000), outcome: 'incomplete' }, { sid: sid(12), at: at(9000), outcome: 'no_reply' });
    const report = await round(rows, tracker);
    expect(report.timing?.count).toBe(10);
    expect(report.timing?.medianMs).toBe(5.5 * 60_000);
    expect(report.timing?.p90Ms).toBeCloseTo(9.1 * 60_000, 6);
    expect(report.timing?.histogram).toEqual([4, 6, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('leaves out a completion received before its launch, naming the row', async () => {
    const report = await round([{ sid: sid(1), at: at(-5), outcome: 'complete' }, { sid: sid(2), at: at(7), outcome: 'complete' }], [launched(1), launched(2)]);
    expect(report.timing?.count).toBe(1);
    expect(warning(report, 'before-launch')).toEqual([2]);
  });
});

describe('by day', () => {
  it('buckets received_at into UTC days, offsets converted, empty days filled', async () => {
    const report = await round([
      { sid: sid(1), at: '2026-11-23T23:59:59.999Z', outcome: 'complete' },
      { sid: sid(2), at: '2026-11-24T02:30:00+03:00', outcome: 'declined' }, // 23:30 UTC on the 23rd
      { sid: sid(3), at: '2026-11-24T00:00:00.000Z', outcome: 'complete' },
      { sid: sid(4), at: '2026-11-26T12:00:00.000Z', outcome: 'no_reply' },
    ]);
    const o = report.outcomesByDay;
    expect(o.days).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26']);
    const series = (name: string) => o.series.find((s) => s.name === name)?.counts;
    expect(series('complete')).toEqual([1, 1, 0, 0]);
    expect(series('declined')).toEqual([1, 0, 0, 0]);
    expect(series('no_reply')).toEqual([0, 0, 0, 1]);
    const f = report.finalStatusByDay;
    expect(f.series.find((s) => s.name === 'incomplete')?.counts).toEqual([0, 0, 0, 1]);
    expect(f.series.find((s) => s.name === 'declined')?.counts).toEqual([1, 0, 0, 0]);
  });

  it('takes final_status from its column, or from the outcome when the export has none', async () => {
    const rows = [{ sid: sid(1), at: at(0), outcome: 'optout', finalStatus: 'declined' }];
    const withColumn = await round(rows);
    const without = await round(rows, undefined, HEADER.filter((h) => h !== 'final_status'));
    for (const report of [withColumn, without]) expect(report.finalStatusByDay.series.find((s) => s.name === 'declined')?.counts).toEqual([1]);
    const odd = await round([{ sid: sid(1), at: at(0), outcome: 'complete', finalStatus: 'whatever' }]);
    expect(odd.finalStatusByDay.series.find((s) => s.name === 'unknown')?.counts).toEqual([1]);
  });
});

describe('where people stopped, by last_answered', () => {
  const QUESTIONS = questionOrder(readFlow(join(import.meta.dirname, '..', 'flows', 'whatsapp-survey.json')));
  let n = 0;
  const rowsOf = (spec: ReadonlyArray<[outcome: string, lastAnswered: string, count: number]>): RowSpec[] =>
    spec.flatMap(([outcome, lastAnswered, count]) => Array.from({ length: count }, () => ({ sid: sid(++n), at: at(n), outcome, lastAnswered })));
  const rows = rowsOf([
    ['complete', 'q_comment', 5],
    ['failed', 'q_comment', 1],
    ['no_reply', '', 4],
    ['declined', 'q_consent', 2],
    ['incomplete', 'q_age', 3],
    ['optout', 'q_full_name', 1],
    ['incomplete', 'q_full_name', 3],
    ['hung_up', 'q_consent', 1],
  ]);
  const table = (report: RoundReport) => report.stoppedAfter?.rows.map((r) => `${r.label}: ${r.count}`);

  it("counts the executions that did not complete by the last question answered, in the flow's order with --flow", async () => {
    const report = await round(rows, undefined, undefined, QUESTIONS);
    expect(report.stoppedAfter?.orderedBy).toBe('flow');
    expect(table(report)).toEqual(['before the first question: 4', 'stopped after q_consent: 3', 'stopped after q_full_name: 4', 'stopped after q_age: 3', 'stopped after q_comment: 1']);
    expect(topStopAfter(report)).toMatchObject({ question: '', count: 4 });
    // The outcome breakdown stays.
    expect(report.stops.find((s) => s.outcome === 'incomplete')?.count).toBe(6);
    expect(report.warnings).toEqual([]);
  });

  it('a caller who hung up was reached; answered only after answering a question', async () => {
    const calls = rowsOf([
      ['hung_up', '', 2],
      ['hung_up', 'ask_id', 3],
      ['undeliverable', '', 1],
    ]);
    const report = await round(calls);
    expect(report.funnel).toMatchObject({ executions: 6, delivered: 5, answered: 3, completed: 0 });
  });

  it('without the flow, most first (ties by name)', async () => {
    const report = await round(rows);
    expect(report.stoppedAfter?.orderedBy).toBe('count');
    expect(table(report)).toEqual(['before the first question: 4', 'stopped after q_full_name: 4', 'stopped after q_age: 3', 'stopped after q_consent: 3', 'stopped after q_comment: 1']);
  });

  it('a value that is not a question is counted as unknown, with its row numbers, never shown', async () => {
    const odd = [{ sid: sid(1), at: at(1), outcome: 'incomplete', lastAnswered: 'Amina Wanjiru' }, { sid: sid(2), at: at(2), outcome: 'incomplete', lastAnswered: 'q_elsewhere' }, { sid: sid(3), at: at(3), outcome: 'incomplete', lastAnswered: 'q_age' }];
    const withFlow = await round(odd, undefined, undefined, QUESTIONS);
    expect(table(withFlow)).toEqual(['stopped after q_age: 1', 'a value that is not a question of the survey (see the warnings): 2']);
    expect(warning(withFlow, 'unknown-last-answered')).toEqual([2, 3]);
    const without = await round(odd);
    expect(warning(without, 'unknown-last-answered')).toEqual([2]);
    expect(JSON.stringify(without)).not.toContain('Amina');
  });

  it('an export without the column (an older flow): no stop question, the outcome breakdown as before', async () => {
    const report = await round(rows, undefined, HEADER.filter((h) => h !== 'last_answered'));
    expect(report.stoppedAfter).toBeUndefined();
    expect(topStopAfter(report)).toBeUndefined();
    expect(report.stops.filter((s) => s.count > 0).map((s) => `${s.outcome} ${s.count}`)).toEqual(['no_reply 4', 'declined 2', 'optout 1', 'incomplete 6', 'hung_up 1', 'failed 1']);
  });
});

describe('warnings, by row number', () => {
  it('repeated execution_sid: counted once, from its last row', async () => {
    const report = await round([
      { sid: sid(1), at: at(1), outcome: 'failed' },
      { sid: sid(2), at: at(2), outcome: 'complete' },
      { sid: sid(1), at: at(3), outcome: 'complete' },
    ]);
    expect(warning(report, 'duplicate-execution')).toEqual([2, 4]);
    expect(report.funnel).toMatchObject({ executions: 2, completed: 2 });
  });

  it('rows whose execution the tracker does not have: no case id, left out', async () => {
    const report = await round([{ sid: sid(1), at: at(1), outcome: 'complete' }, { sid: sid(9), at: at(2), outcome: 'complete' }, { sid: '', at: at(3), outcome: 'complete' }], [launched(1)]);
    expect(warning(report, 'not-in-tracker')).toEqual([3]);
    expect(warning(report, 'no-execution-sid')).toEqual([4]);
    expect(report.funnel).toMatchObject({ launched: 1, executions: 1, completed: 1 });
  });

  it('a tracker that shares no execution with the export is refused, not reported as zeros', async () => {
    await expect(round([{ sid: sid(1), at: at(1), outcome: 'complete' }], [launched(2)])).rejects.toThrow(/none of the export's executions is in the tracker: is it this round's tracker/);
  });

  it("the export's own caseid column: blank and repeated case ids", async () => {
    const header = [...HEADER, 'caseid'];
    const path = file(
      toCsv([
        header,
        ...[
          ['C1', 1],
          ['', 2],
          ['C1', 3],
          ['C2', 4],
        ].map(([caseid, n]) => [...HEADER.map((h) => (h === 'received_at' ? at(n as number) : h === 'execution_sid' ? sid(n as number) : h === 'outcome' ? 'complete' : '')), caseid as string]),
      ]),
    );
    const report = computeRound(await readResponses(path));
    expect(report.caseidSource).toBe('export');
    expect(warning(report, 'no-caseid')).toEqual([3]);
    expect(warning(report, 'duplicate-caseid')).toEqual([2, 4]);
    expect(report.funnel.executions).toBe(4);
  });

  it('unreadable received_at and unknown outcomes: counted, in no day', async () => {
    const report = await round([
      { sid: sid(1), at: '24/11/2026 09:00', outcome: 'complete' },
      { sid: sid(2), at: '2026-11-24T09:00:00', outcome: 'complete' },
      { sid: sid(3), at: at(0), outcome: 'maybe' },
      { sid: sid(4), at: at(0), outcome: '' },
    ]);
    expect(warning(report, 'bad-received-at')).toEqual([2, 3]);
    expect(warning(report, 'unknown-outcome')).toEqual([4, 5]);
    expect(report.undated).toBe(2);
    expect(report.funnel).toMatchObject({ executions: 4, completed: 2, answered: 2, delivered: 2 });
    expect(report.stops.find((s) => s.outcome === 'unknown')?.count).toBe(2);
  });
});
