// Choosing the columns to transform: by name or 1-based index, or (decrypt)
// detected from a sample of the file.

import { cellBytes } from '../csv/scan.js';
import { columnKey } from '../envelope/index.js';
import { looksLikeLegacy, looksLikeToken } from './cell-kind.js';
import { looksIpaV2 } from '../envelope/ipa-v2.js';
import { UserError, EXIT_USAGE } from '../cli/common.js';
import type { Header, Sample } from './run.js';
import type { ColumnPlan } from './setup.js';

function listColumns(names: readonly string[]): string {
  const shown = names.slice(0, 20).map((n, i) => `${i + 1}:${n}`);
  return shown.join(', ') + (names.length > 20 ? ', …' : '');
}

/** Resolves `--columns a,b,3` against the header; errors list the columns there are. */
export function resolveColumns(spec: string, header: Header): ColumnPlan[] {
  const wanted = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (wanted.length === 0) throw new UserError('--columns is empty: give column names or numbers separated by commas, e.g. --columns name,phone', EXIT_USAGE);
  const plans: ColumnPlan[] = [];
  for (const w of wanted) {
    let index = header.names.indexOf(w);
    if (index !== -1 && header.names.indexOf(w, index + 1) !== -1) {
      throw new UserError(`two columns are called "${w}"; name it by its number instead (${listColumns(header.names)})`, EXIT_USAGE);
    }
    if (index === -1) {
      const lower = w.toLowerCase();
      const matches = header.names.flatMap((n, i) => (n.trim().toLowerCase() === lower ? [i] : []));
      if (matches.length === 1) index = matches[0] as number;
    }
    if (index === -1 && /^[0-9]+$/.test(w)) {
      const n = Number(w);
      if (n < 1 || n > header.names.length) throw new UserError(`column number ${n} is out of range: the file has ${header.names.length} columns`, EXIT_USAGE);
      index = n - 1;
    }
    if (index === -1) throw new UserError(`column "${w}" is not in the file's header; the columns are: ${listColumns(header.names)}`, EXIT_USAGE);
    if (!plans.some((p) => p.index === index)) plans.push({ index, name: header.names[index] as string });
  }
  return plans;
}

export interface Detected {
  /** Columns most of whose sampled cells are sealed (tokens, or old CryptoJS cells), with at least one token. */
  readonly sealed: ColumnPlan[];
  /** Columns most of whose sampled cells are old CryptoJS cells, and none a token. */
  readonly legacy: ColumnPlan[];
  /** Columns with some tokens among mostly other text: left as they are, with a warning. */
  readonly partly: ColumnPlan[];
}

/**
 * Columns to decrypt, judged on a sample: a column is sealed when most of its
 * non-empty cells are; every other cell in it is then an error, never skipped.
 */
export function detectColumns(header: Header, sample: Sample): Detected {
  const n = header.names.length;
  const tokens = new Array<number>(n).fill(0);
  const legacy = new Array<number>(n).fill(0);
  const nonEmpty = new Array<number>(n).fill(0);
  sample.forEachRecord((buf, cells) => {
    for (let i = 0; i < Math.min(n, cells.count); i++) {
      const raw = cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean);
      if (raw.length === 0) continue;
      nonEmpty[i] = (nonEmpty[i] ?? 0) + 1;
      if (looksLikeToken(raw) || looksIpaV2(raw)) tokens[i] = (tokens[i] ?? 0) + 1;
      else if (looksLikeLegacy(raw)) legacy[i] = (legacy[i] ?? 0) + 1;
    }
  });
  const detected: Detected = { sealed: [], legacy: [], partly: [] };
  header.names.forEach((name, index) => {
    const t = tokens[index] as number;
    const sealed = 2 * (t + (legacy[index] as number)) > (nonEmpty[index] as number);
    if (sealed && t > 0) detected.sealed.push({ index, name });
    else if (sealed) detected.legacy.push({ index, name });
    else if (t > 0) detected.partly.push({ index, name });
  });
  return detected;
}

/** The execution_sid column (FORMAT.md §5: the identifier rule, any case), or -1. */
export function executionColumn(header: Header): number {
  return header.names.findIndex((name) => columnKey(name) === 'execution_sid');
}
