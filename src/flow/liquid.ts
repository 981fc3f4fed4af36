// Liquid as Studio renders it, on liquidjs. What Studio's documentation says
// and this relies on:
// - dates: "When you're using Liquid time and date templates in Studio, the
//   timezone used is PST" (Twilio support, "How do I use Liquid with Twilio
//   Studio?"): rendered in America/Los_Angeles, so PST or PDT by the date (that
//   daylight time applies is an assumption: the note only says PST).
// - `to_json` exists in Studio's Liquid; liquidjs has `json` but not it.
// Assumptions (not documented): an object or array output renders as its JSON
// (Studio shows `{{flow.data}}` as JSON, liquidjs as "[object Object]"); a
// filter Studio does not have is an error rather than text passed through.

import { Liquid } from 'liquidjs';

export const STUDIO_TIME_ZONE = 'America/Los_Angeles';

const json = (value: unknown): string => JSON.stringify(value ?? null);

function output(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return json(value);
  return String(value);
}

export function studioLiquid(): Liquid {
  const liquid = new Liquid({ cache: true, timezoneOffset: STUDIO_TIME_ZONE, outputEscape: output, strictFilters: true });
  liquid.registerFilter('to_json', json);
  return liquid;
}
