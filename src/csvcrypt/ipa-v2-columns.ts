// The columns of a requests_to_twilio_v2 export that hold its `v2:` tokens,
// judged like decrypt-csv's detection: most non-empty sampled cells are tokens.

import { cellBytes } from '../csv/scan.js';
import { looksIpaV2 } from '../envelope/ipa-v2.js';
import type { Header, Sample } from './run.js';
import type { ColumnPlan } from './setup.js';

export function detectIpaV2Columns(header: Header, sample: Sample): ColumnPlan[] {
  const tokens = header.names.map(() => 0);
  const nonEmpty = header.names.map(() => 0);
  sample.forEachRecord((buf, cells) => {
    for (let i = 0; i < Math.min(header.names.length, cells.count); i++) {
      const raw = cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean);
      if (raw.length === 0) continue;
      nonEmpty[i] = (nonEmpty[i] as number) + 1;
      if (looksIpaV2(raw)) tokens[i] = (tokens[i] as number) + 1;
    }
  });
  return header.names.flatMap((name, index) => (2 * (tokens[index] as number) > (nonEmpty[index] as number) ? [{ index, name }] : []));
}
