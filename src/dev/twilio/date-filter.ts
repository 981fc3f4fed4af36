// The 2010 API's date filters, as Messages (DateSent) and Recordings
// (DateCreated) take them: Name=day, Name<=… and Name>=… (the parameter's name
// keeps its < or >; '=' is the separator), each value a day (YYYY-MM-DD, GMT)
// or an instant.

import { invalid } from './http.js';

/** A filter value as the range [from, to) it stands for: a whole day, or the second of an instant. */
function range(name: string, value: string): { from: number; to: number } {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const at = Date.parse(day ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(at)) throw invalid(name, 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time');
  return { from: at, to: at + (day ? 86_400_000 : 1000) };
}

/** The tests `query`'s `name`, `name<` and `name>` filters put on a resource's time (`at`, ms since the epoch). */
export function dateFilters<T>(query: URLSearchParams, name: string, at: (resource: T) => number): Array<(resource: T) => boolean> {
  const tests: Array<(resource: T) => boolean> = [];
  const on = query.get(name);
  const before = query.get(`${name}<`);
  const after = query.get(`${name}>`);
  if (on !== null) {
    const r = range(name, on);
    tests.push((x) => at(x) >= r.from && at(x) < r.to);
  }
  if (before !== null) {
    const r = range(`${name}<`, before);
    tests.push((x) => at(x) < r.to);
  }
  if (after !== null) {
    const r = range(`${name}>`, after);
    tests.push((x) => at(x) >= r.from);
  }
  return tests;
}
