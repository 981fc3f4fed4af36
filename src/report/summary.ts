// The report's short form: an aligned table for the terminal and the same
// numbers as JSON for scripts. Counts and durations only, as in the page.

import { fmtInt } from '../cli/terminal.js';
import { topStop, topStopAfter, type RoundReport } from './round.js';
import { formatDuration, percent } from './stats.js';

export function summaryLines(report: RoundReport): string {
  const f = report.funnel;
  const base = f.launched ?? f.executions;
  const rows: Array<[string, string, string]> = [
    f.launched === undefined ? ['executions with a row', fmtInt(f.executions), '100.0%'] : ['launched', fmtInt(f.launched), '100.0%'],
    ['delivered', fmtInt(f.delivered), percent(f.delivered, base)],
    ['answered', fmtInt(f.answered), percent(f.answered, base)],
    ['completed', fmtInt(f.completed), percent(f.completed, base)],
  ];
  const t = report.timing;
  const top = topStop(report);
  const byOutcome = top === undefined ? 'none' : `${top.outcome} (${fmtInt(top.count)}): ${top.where}`;
  const after = topStopAfter(report);
  const stops: Array<[string, string]> =
    report.stoppedAfter === undefined
      ? [['top stop point', byOutcome], ['stop question', 'not recorded: the export has no last_answered column (older flows do not publish it)']]
      : [['top stop point', after === undefined ? 'none' : `${after.label} (${fmtInt(after.count)})`], ['top stop outcome', byOutcome]];
  const extra: Array<[string, string]> = [
    ['completion rate', percent(f.completed, base)],
    ['time to complete', t === undefined ? 'needs --tracker' : t.count === 0 ? 'none timed' : `median ${formatDuration(t.medianMs as number)}, p90 ${formatDuration(t.p90Ms as number)} (${fmtInt(t.count)} timed)`],
    ...stops,
    ['warnings', report.warnings.length === 0 ? 'none' : report.warnings.map((w) => `${fmtInt(w.lines.length)} ${w.id}`).join(', ')],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length), ...extra.map((e) => e[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length), 'executions'.length);
  const lines = [`${'stage'.padEnd(w0)}  ${'executions'.padStart(w1)}   share`];
  for (const [name, n, share] of rows) lines.push(`${name.padEnd(w0)}  ${n.padStart(w1)}  ${share.padStart(6)}`);
  lines.push('');
  for (const [name, value] of extra) lines.push(`${name.padEnd(w0)}  ${value}`);
  return `${lines.join('\n')}\n`;
}

/** `--json`: the report's numbers, for scripts. */
export function summaryJson(report: RoundReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`;
}
