// The few statistics the report shows, defined as a spreadsheet defines them
// so a team can check the page against its own sheet.

/**
 * The p-th quantile (0 ≤ p ≤ 1) by linear interpolation between closest
 * ranks: Excel's PERCENTILE.INC and MEDIAN, R's type 7, numpy's default.
 * undefined for no values.
 */
export function quantile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const below = sorted[lo] as number;
  const above = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return below + (h - lo) * (above - below);
}

/** The UTC calendar day of a time, as YYYY-MM-DD. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Time-to-complete bins, from minutes to days: a survey answered at once and one answered the next morning both show. */
export const DURATION_BINS: ReadonlyArray<{ readonly label: string; readonly upTo: number }> = [
  { label: '< 5 min', upTo: 5 * MINUTE },
  { label: '5–15 min', upTo: 15 * MINUTE },
  { label: '15–30 min', upTo: 30 * MINUTE },
  { label: '30–60 min', upTo: HOUR },
  { label: '1–2 h', upTo: 2 * HOUR },
  { label: '2–6 h', upTo: 6 * HOUR },
  { label: '6–24 h', upTo: DAY },
  { label: '1–2 days', upTo: 2 * DAY },
  { label: '≥ 2 days', upTo: Infinity },
];

/** How many durations fall in each of DURATION_BINS (a bin holds its lower bound, not its upper). */
export function durationHistogram(durations: readonly number[]): number[] {
  const counts = DURATION_BINS.map(() => 0);
  for (const d of durations) {
    const i = DURATION_BINS.findIndex((b) => d < b.upTo);
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

/** A duration for people: "42 s", "12.5 min", "3.2 h", "1.4 days". */
export function formatDuration(ms: number): string {
  if (ms < MINUTE) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR) return `${(ms / MINUTE).toFixed(1)} min`;
  if (ms < DAY) return `${(ms / HOUR).toFixed(1)} h`;
  return `${(ms / DAY).toFixed(1)} days`;
}

/** n of total as a percentage with one decimal, '—' when total is 0. */
export const percent = (n: number, total: number): string => (total === 0 ? '—' : `${((100 * n) / total).toFixed(1)}%`);
