// Cells: what a value becomes when written (RAW or USER_ENTERED) and how it
// reads back (FORMATTED_VALUE, UNFORMATTED_VALUE, FORMULA, grid data).
// Formulas are stored but only plain arithmetic is evaluated.

import { z } from 'zod';
import { invalid } from './errors.js';

export const CellSchema = z.union([
  z.strictObject({ stringValue: z.string() }),
  z.strictObject({ numberValue: z.number() }),
  z.strictObject({ boolValue: z.boolean() }),
  z.strictObject({ formulaValue: z.string() }),
]);
export type Cell = z.infer<typeof CellSchema>;

export type ValueInputOption = 'RAW' | 'USER_ENTERED';
export type RenderOption = 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE' | 'FORMULA';
/** undefined: leave the cell as it is; null: clear it. */
export type Input = Cell | null | undefined;
export type Rendered = string | number | boolean;

const MAX_CELL_CHARS = 50_000;
const NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

export function inputCell(value: unknown, option: ValueInputOption, where: string): Input {
  if (value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`Invalid value at '${where}': numbers must be finite`);
    return { numberValue: value };
  }
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value !== 'string') throw invalid(`Invalid value at '${where}' (type.googleapis.com/google.protobuf.ListValue): a cell value must be a string, number, boolean or null`);
  if (value.length > MAX_CELL_CHARS) throw invalid(`Your input contains more than the maximum of ${MAX_CELL_CHARS} characters in a single cell.`);
  if (value === '') return null;
  if (option === 'RAW') return { stringValue: value };
  // USER_ENTERED, like typing into the UI (dates, percents and currencies are not parsed here).
  if (value.startsWith("'")) return value.length > 1 ? { stringValue: value.slice(1) } : null;
  if (value.startsWith('=') && value.length > 1) return { formulaValue: value };
  if (NUMBER.test(value)) return { numberValue: Number(value) };
  if (/^(true|false)$/i.test(value)) return { boolValue: value.toUpperCase() === 'TRUE' };
  return { stringValue: value };
}

/** Plain arithmetic (numbers, + - * /, parentheses); undefined for anything else. */
function evaluate(formula: string): number | undefined {
  const s = formula.slice(1).replace(/\s+/g, '');
  let i = 0;
  const expr = (): number | undefined => {
    let v = term();
    while (v !== undefined && (s[i] === '+' || s[i] === '-')) {
      const op = s[i++];
      const w = term();
      v = w === undefined ? undefined : op === '+' ? v + w : v - w;
    }
    return v;
  };
  const term = (): number | undefined => {
    let v = factor();
    while (v !== undefined && (s[i] === '*' || s[i] === '/')) {
      const op = s[i++];
      const w = factor();
      v = w === undefined ? undefined : op === '*' ? v * w : v / w;
    }
    return v;
  };
  const factor = (): number | undefined => {
    if (s[i] === '-' || s[i] === '+') {
      const sign = s[i++] === '-' ? -1 : 1;
      const v = factor();
      return v === undefined ? undefined : sign * v;
    }
    if (s[i] === '(') {
      i++;
      const v = expr();
      return s[i++] === ')' ? v : undefined;
    }
    const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const v = expr();
  return v !== undefined && i === s.length && Number.isFinite(v) ? v : undefined;
}

export function render(cell: Cell | null | undefined, option: RenderOption): Rendered {
  if (!cell) return '';
  if ('stringValue' in cell) return cell.stringValue;
  if ('numberValue' in cell) return option === 'FORMATTED_VALUE' ? String(cell.numberValue) : cell.numberValue;
  if ('boolValue' in cell) return option === 'FORMATTED_VALUE' ? (cell.boolValue ? 'TRUE' : 'FALSE') : cell.boolValue;
  if (option === 'FORMULA') return cell.formulaValue;
  const v = evaluate(cell.formulaValue);
  // Formulas beyond arithmetic are not evaluated: their text stands in for the result.
  return v === undefined ? cell.formulaValue : option === 'FORMATTED_VALUE' ? String(v) : v;
}

/** A CellData of `spreadsheets.get` with grid data. */
export function gridCell(cell: Cell | null | undefined): Record<string, unknown> {
  if (!cell) return {};
  const formatted = render(cell, 'FORMATTED_VALUE') as string;
  let effective: Record<string, unknown> | undefined;
  if ('formulaValue' in cell) {
    const v = evaluate(cell.formulaValue);
    if (v !== undefined) effective = { numberValue: v };
  } else {
    effective = cell;
  }
  return { userEnteredValue: cell, ...(effective ? { effectiveValue: effective } : {}), formattedValue: formatted };
}

/** The cell as entered, as text (for RunningSheetsServer.rows). */
export function cellText(cell: Cell | null | undefined): string {
  if (!cell) return '';
  const v = render(cell, 'FORMULA');
  return typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v);
}

/** Without trailing empty cells and rows, as Google answers. */
export function trimmed<T>(matrix: T[][], empty: (v: T) => boolean): T[][] {
  const rows = matrix.map((row) => {
    let end = row.length;
    while (end > 0 && empty(row[end - 1] as T)) end--;
    return row.slice(0, end);
  });
  let end = rows.length;
  while (end > 0 && (rows[end - 1] as T[]).length === 0) end--;
  return rows.slice(0, end);
}

export function transpose<T>(matrix: T[][], fill: T): T[][] {
  const width = Math.max(0, ...matrix.map((r) => r.length));
  return Array.from({ length: width }, (_, c) => matrix.map((r) => (c < r.length ? (r[c] as T) : fill)));
}
