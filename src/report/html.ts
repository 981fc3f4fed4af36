// The report as one self-contained HTML page: Chart.js (its UMD build, read
// from node_modules) and the page's own script are inlined and allowed by
// their SHA-256 hashes in a Content-Security-Policy that fetches nothing, so
// the page works offline and cannot call out. Every chart has a table with the
// same numbers (for screen readers, for copying, for the tests). Only counts,
// days, durations and row numbers go in: no cell of the export.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OUTCOMES } from '../flow/outcomes.js';
import { plural } from '../plural.js';
import { ANSWERED_OUTCOMES, type ByDay, type RoundReport } from './round.js';
import { DURATION_BINS, formatDuration, percent } from './stats.js';

export interface PageContext {
  /** What the report is about: the export's file name. */
  readonly title: string;
  readonly sources: readonly string[];
  readonly generatedAt: Date;
}

/** Chart.js's UMD build, without its source-map comment (a browser's tools would fetch the map). */
function chartJs(): string {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (n: number) => n.toLocaleString('en-US');
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
/** JSON inside <script type="application/json">: no `<` can end the element. */
const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const COLORS: Readonly<Record<string, string>> = {
  complete: '#1a7f37',
  declined: '#d4a72c',
  optout: '#8250df',
  incomplete: '#fb8500',
  no_reply: '#8c959f',
  undeliverable: '#6e1a1a',
  failed: '#cf222e',
  unknown: '#24292f',
};

// Runs in the page: draws each chart from the embedded JSON. No animation, so
// a chart is drawn when the page has loaded (and a screenshot shows it whole).
const PAGE_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, sans-serif';
  data.charts.forEach(function (c) {
    var canvas = document.getElementById(c.id);
    if (!canvas) return;
    new Chart(canvas, {
      type: 'bar',
      data: { labels: c.labels, datasets: c.datasets },
      options: {
        indexAxis: c.horizontal ? 'y' : 'x',
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: c.datasets.length > 1, position: 'bottom' } },
        scales: { x: { stacked: !!c.stacked, beginAtZero: true }, y: { stacked: !!c.stacked, beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  });
})();
`;

interface ChartSpec {
  readonly id: string;
  readonly labels: readonly string[];
  readonly datasets: ReadonlyArray<{ label: string; data: readonly number[]; backgroundColor: string | readonly string[] }>;
  readonly stacked?: boolean;
  readonly horizontal?: boolean;
}

function table(caption: string, head: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = ''): string {
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table${cls === '' ? '' : ` class="${cls}"`}><caption>${esc(caption)}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function figure(id: string, label: string, tableHtml: string, tall = false): string {
  return `<figure><div class="chart${tall ? ' tall' : ''}"><canvas id="${id}" role="img" aria-label="${esc(label)} (the same numbers are in the table below)"></canvas></div>\n${tableHtml}</figure>`;
}

function dayChart(id: string, byDay: ByDay): ChartSpec {
  return { id, labels: byDay.days, stacked: true, datasets: byDay.series.map((s) => ({ label: s.name, data: s.counts, backgroundColor: COLORS[s.name] ?? '#57606a' })) };
}

function dayTable(caption: string, byDay: ByDay): string {
  const totals = byDay.series.map((s) => s.counts.reduce((a, b) => a + b, 0));
  const rows = byDay.days.map((d, i) => [d, ...byDay.series.map((s) => fmt(s.counts[i] as number)), fmt(byDay.series.reduce((n, s) => n + (s.counts[i] as number), 0))]);
  rows.push(['total', ...totals.map(fmt), fmt(totals.reduce((a, b) => a + b, 0))]);
  return table(caption, ['day (UTC)', ...byDay.series.map((s) => s.name), 'all'], rows, 'by-day');
}

export function renderPage(report: RoundReport, context: PageContext): string {
  const f = report.funnel;
  const charts: ChartSpec[] = [];
  const base = f.launched ?? f.executions;
  const baseName = f.launched === undefined ? 'executions with a row' : 'launched';
  const stages: Array<[string, number]> = [
    ...(f.launched === undefined ? [] : ([['launched', f.launched]] as Array<[string, number]>)),
    ...(f.launched === undefined ? ([['executions with a row', f.executions]] as Array<[string, number]>) : []),
    ['delivered', f.delivered],
    ['answered', f.answered],
    ['completed', f.completed],
  ];
  charts.push({ id: 'chart-funnel', labels: stages.map((s) => s[0]), horizontal: true, datasets: [{ label: 'executions', data: stages.map((s) => s[1]), backgroundColor: ['#0969da', '#218bff', '#54aeff', '#1a7f37'] }] });
  const funnelRows = stages.map(([name, n], i) => [name, fmt(n), percent(n, base), i === 0 ? '' : percent(n, stages[i - 1]?.[1] ?? 0)]);
  const funnelNotes = [
    f.notLaunched !== undefined && f.notLaunched > 0 ? `${plural(f.notLaunched, 'contact')} of the tracker ${f.notLaunched === 1 ? 'was' : 'were'} never launched (launch failed, or stopped before the request was answered).` : '',
    f.noRowYet !== undefined && f.noRowYet > 0 ? `${plural(f.noRowYet, 'launched execution')} ${f.noRowYet === 1 ? 'has' : 'have'} no row in the export yet: still running, or the row was not stored.` : '',
    f.deliveredWithoutRow !== undefined && f.deliveredWithoutRow > 0 ? `Of those, ${fmt(f.deliveredWithoutRow)} count as delivered: monitor saw their opener delivered or read.` : '',
    f.launched === undefined ? 'Without --tracker the funnel starts at the executions that wrote a row: launched contacts whose execution is still running are not in it, and there is no time to complete.' : '',
  ].filter((s) => s !== '');

  charts.push(dayChart('chart-outcomes', report.outcomesByDay));
  charts.push(dayChart('chart-final', report.finalStatusByDay));

  let timingHtml: string;
  const t = report.timing;
  if (t === undefined) timingHtml = '<p class="note">Time to complete needs the launch tracker (<code>--tracker</code>): the export does not say when an execution started.</p>';
  else if (t.count === 0) timingHtml = '<p class="note">No completed execution has both a received_at and a launch time: nothing to time.</p>';
  else {
    charts.push({ id: 'chart-timing', labels: DURATION_BINS.map((b) => b.label), datasets: [{ label: 'completed executions', data: t.histogram, backgroundColor: '#1a7f37' }] });
    timingHtml = `<p class="stats">median <strong id="median">${esc(formatDuration(t.medianMs as number))}</strong> · 90th percentile <strong id="p90">${esc(formatDuration(t.p90Ms as number))}</strong> · over ${esc(fmt(t.count))} completed executions, from launch's sent_at to the row's received_at</p>\n${figure(
      'chart-timing',
      'time to complete, completed executions per duration',
      table('Time to complete', ['duration', 'completed executions', 'share'], DURATION_BINS.map((b, i) => [b.label, fmt(t.histogram[i] as number), percent(t.histogram[i] as number, t.count)]), 'timing'),
    )}`;
  }

  const stopped = report.stops.reduce((n, s) => n + s.count, 0);
  charts.push({ id: 'chart-stops', labels: report.stops.map((s) => s.outcome), horizontal: true, datasets: [{ label: 'executions', data: report.stops.map((s) => s.count), backgroundColor: report.stops.map((s) => COLORS[s.outcome] ?? '#57606a') }] });
  const after = report.stoppedAfter;
  let afterHtml: string;
  if (after === undefined) {
    afterHtml = '<p class="note" id="no-last-answered">The export has no last_answered column: older flows do not record the question an execution stopped at, so only its outcome says where (below). Run <code>npx tsx tools/flow-outcomes.ts</code> on the flow and deploy it to record it.</p>';
  } else {
    const order = after.orderedBy === 'flow' ? "in the order of the flow's questions" : 'most first (give the flow with --flow to order them as the survey asks them)';
    charts.push({ id: 'chart-stopped-after', labels: after.rows.map((r) => r.label), horizontal: true, datasets: [{ label: 'executions', data: after.rows.map((r) => r.count), backgroundColor: '#fb8500' }] });
    afterHtml = `<p class="note">By the last question each answered (last_answered), ${esc(order)}. An answer counts whether or not it was valid; on a call, only an accepted answer.</p>\n${figure(
      'chart-stopped-after',
      'the last question answered by executions that did not complete',
      table('Stopped after', ['last question answered', 'executions', 'share of those that did not complete'], after.rows.map((r) => [r.label, fmt(r.count), percent(r.count, stopped)]), 'stopped-after'),
      after.rows.length > 6,
    )}`;
  }

  const warningsHtml =
    report.warnings.length === 0
      ? '<p class="ok">No duplicates, no rows without a case id, every received_at readable.</p>'
      : `<ul class="warnings">${report.warnings
          .map((w) => `<li data-warning="${esc(w.id)}"><strong>${esc(fmt(w.lines.length))}</strong> ${esc(w.message)}. Rows ${esc(w.lines.slice(0, 50).join(', '))}${w.lines.length > 50 ? ' …' : ''}.</li>`)
          .join('\n')}</ul>`;

  const data = { charts };
  const dataJson = jsonForScript(data);
  const lib = chartJs();
  const csp = `default-src 'none'; script-src ${sha256(lib)} ${sha256(PAGE_SCRIPT)}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  const generated = context.generatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const outcomeLegend = Object.entries(OUTCOMES).map(([name, meaning]) => `<dt>${esc(name)}</dt><dd>${esc(meaning)}</dd>`).join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Round report: ${esc(context.title)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; color: #1f2328; margin: 0 auto; max-width: 1080px; padding: 24px; }
h1 { font-size: 1.6em; margin-bottom: 0; } h2 { margin-top: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.meta, .note { color: #57606a; } .ok { color: #1a7f37; }
.chart { position: relative; height: 260px; } .chart.tall { height: 320px; }
figure { margin: 0; }
table { border-collapse: collapse; margin: 12px 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border: 1px solid #d0d7de; padding: 3px 10px; } td { text-align: right; } thead th { background: #f6f8fa; }
.stops td:last-child { text-align: left; }
.warnings li { margin-bottom: 6px; } .warnings { color: #9a6700; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; } dt { font-weight: 600; } dd { margin: 0; }
</style>
</head>
<body>
<h1>Round report: ${esc(context.title)}</h1>
<p class="meta">Generated ${esc(generated)} from ${context.sources.map((s) => `<code>${esc(s)}</code>`).join(' and ')}. Days are UTC days of received_at. Nothing personal is in this page: counts, days, durations and row numbers only.</p>

<h2 id="funnel">Funnel</h2>
${figure('chart-funnel', 'funnel: executions at each stage', table('Funnel', ['stage', 'executions', `share of ${baseName}`, 'share of the stage before'], funnelRows, 'funnel'))}
${funnelNotes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<p class="stats">completion rate <strong id="completion-rate">${esc(percent(f.completed, base))}</strong> (completed of ${esc(baseName)})</p>

<h2 id="outcomes">Outcomes by day</h2>
${figure('chart-outcomes', 'outcomes by day, stacked', dayTable('Outcomes by day', report.outcomesByDay), true)}
${report.undated > 0 ? `<p class="note">${esc(plural(report.undated, 'execution'))} with an unreadable received_at ${report.undated === 1 ? 'is' : 'are'} in no day (see the warnings).</p>` : ''}

<h2 id="final-status">Final status by day</h2>
${figure('chart-final', 'final status by day, stacked', dayTable('Final status by day', report.finalStatusByDay), true)}

<h2 id="timing">Time to complete</h2>
${timingHtml}

<h2 id="stops">Where people stopped</h2>
<p class="note">The ${esc(fmt(stopped))} executions that did not complete.</p>
${afterHtml}
<h3 id="stops-by-outcome">By outcome</h3>
<p class="note">By where their outcome says they ended, in the order of the survey.</p>
${figure('chart-stops', 'where executions that did not complete stopped', table('Where people stopped', ['outcome', 'executions', 'share of those that did not complete', 'where'], report.stops.map((s) => [s.outcome, fmt(s.count), percent(s.count, stopped), s.where]), 'stops'))}

<h2 id="warnings">Warnings</h2>
${warningsHtml}

<h2 id="definitions">Definitions</h2>
<dl>
<dt>launched</dt><dd>contacts of the tracker whose execution started (it has an execution_sid)</dd>
<dt>delivered</dt><dd>executions whose row has a known outcome other than undeliverable${f.deliveredWithoutRow === undefined ? '' : '; and executions without a row yet whose opener monitor saw delivered or read'}</dd>
<dt>answered</dt><dd>executions whose respondent replied at least once: outcome ${esc(ANSWERED_OUTCOMES.join(', '))}, and hung_up after answering a question</dd>
<dt>completed</dt><dd>outcome complete</dd>
${outcomeLegend}
</dl>

<script type="application/json" id="report-data">${dataJson}</script>
<script>${lib}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
