// The PII guard and one response laid out on the sheet's header row.
//
// Names are matched as FORMAT.md §5 matches columns (columnKey: NFC, case-
// and space-insensitive), and a parameter lands in the column with its exact
// name or, failing that, its columnKey. A parameter's column is therefore a
// PII column exactly when the parameter's own columnKey is in PII_COLUMNS: the
// guard protects destination columns, whatever the parameter is called
// (`Name`, `NAME`, `Téléphone` in NFD), and runs before any I/O, so nothing
// unchecked reaches the sheet or the queue. Every parameter lands in a column
// or the row is refused: nothing is dropped behind a 200.

import { columnKey, EnvelopeError, fieldMatchesColumn, parseToken, type ParsedToken } from '../envelope/index.js';
import type { PiiGuard } from './config.js';
import { EXECUTION_SID, RECEIVED_AT, type Problem, type Response } from './row.js';

export interface RowSettings {
  readonly pii: PiiGuard;
  readonly autoHeaders: boolean;
  /** Written into plain columns the response has no value for (PII columns get nothing: an empty cell). */
  readonly missingValue: string;
}

export interface RowPlan {
  /** Row 1 as it must be before the row is written: the sheet's, or extended by SHEET_AUTO_HEADERS. */
  readonly header: readonly string[];
  /** Whether `header` adds columns to the sheet's row 1. */
  readonly extendsHeader: boolean;
  /** The row's cells in header order, trailing blank-header cells cut. */
  readonly values: readonly string[];
}

/** Finds a field's column: the header's exact text first, then the same name under columnKey. */
export function columnFinder(header: readonly string[]): (name: string) => number | undefined {
  const exact = new Map<string, number>();
  const byKey = new Map<string, number>();
  header.forEach((h, i) => {
    if (h.trim() === '') return;
    if (!exact.has(h)) exact.set(h, i);
    const key = columnKey(h);
    if (!byKey.has(key)) byKey.set(key, i);
  });
  return (name) => exact.get(name) ?? byKey.get(columnKey(name));
}

const list = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/** The PII guard for one cell: a token for this key, sealed for this column. Messages never quote values. */
function checkSealed(value: string, column: string, pii: PiiGuard): ParsedToken | Problem {
  const refuse = (why: string): Problem => ({
    status: 422,
    code: 'PII_NOT_ENCRYPTED',
    message: `column "${column}" is a PII column (PII_COLUMNS) but ${why}; nothing was written. Send the encrypt Function's output ({{widgets.<encrypt widget>.parsed.<field>}}), not the answer itself`,
  });
  let token: ParsedToken;
  try {
    token = parseToken(value);
  } catch (error) {
    if (error instanceof EnvelopeError) return refuse('the value sent for it is not a sealed-survey token');
    throw error;
  }
  if (token.kid !== pii.kid || token.mode !== pii.mode) {
    return refuse(`its token was encrypted for another key (key id ${token.kid}; this Function's key id is ${pii.kid ?? 'none'})`);
  }
  if (!fieldMatchesColumn(token.field, column)) return refuse(`its token holds the answer to field "${token.field}"`);
  return token;
}

/**
 * Tokens of one row must come from one encrypt call, for this execution. A
 * voice survey seals each answer in its own call (voice-answer): tokens that
 * are all bound to this row's execution belong to it whatever call sealed them.
 */
function checkOneResponse(tokens: ReadonlyArray<readonly [string, ParsedToken]>, executionSid: string): Problem | undefined {
  const [first] = tokens;
  if (!first) return undefined;
  const boundHere = tokens.every(([, t]) => t.execution === executionSid);
  const others = boundHere ? [] : tokens.filter(([, t]) => t.binding !== first[1].binding).map(([column]) => column);
  if (others.length > 0) {
    return { status: 422, code: 'RESPONSE_MISMATCH', message: `the tokens in ${list(others)} come from another encrypt call than "${first[0]}": pass every sealed field from the same encrypt widget of this execution; nothing was written` };
  }
  const foreign = tokens.filter(([, t]) => t.execution !== undefined && t.execution !== executionSid).map(([column]) => column);
  if (foreign.length > 0) {
    return { status: 422, code: 'EXECUTION_MISMATCH', message: `the tokens in ${list(foreign)} were sealed for another execution than ${EXECUTION_SID}: pass {{flow.sid}} to both encrypt and publish; nothing was written` };
  }
  return undefined;
}

/** The PII guard: every PII cell is a token for this key and its column, and the row's tokens are one response of this execution. */
export function guardResponse(response: Response, pii: PiiGuard): Problem | undefined {
  const piiKeys = new Set(pii.columns.map(columnKey));
  const tokens: Array<readonly [string, ParsedToken]> = [];
  for (const [name, value] of Object.entries(response.columns)) {
    if (piiKeys.has(columnKey(name))) {
      if (value === '') continue;
      const checked = checkSealed(value, name, pii);
      if ('status' in checked) return checked;
      tokens.push([name, checked]);
    } else if (value.startsWith('ss1.')) {
      // A token in a plain column (the flow sealed more than PII_COLUMNS lists) still belongs to this response.
      try {
        tokens.push([name, parseToken(value)]);
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error;
      }
    }
  }
  return checkOneResponse(tokens, response.executionSid);
}

/**
 * Lays a guarded response out on `sheetHeader`. Problems: row 1 lacks
 * execution_sid or a PII column (500: set-up), a parameter has no column
 * (422, unless SHEET_AUTO_HEADERS adds it).
 */
export function planRow(response: Response, sheetHeader: readonly string[], settings: RowSettings): RowPlan | Problem {
  const blank = sheetHeader.every((h) => h.trim() === '');
  if (blank && !settings.autoHeaders) {
    return { status: 500, code: 'SHEET_HAS_NO_HEADER', message: 'row 1 of the sheet is empty: type the column names into it (execution_sid, received_at and the fields), or set SHEET_AUTO_HEADERS=1' };
  }
  const header = blank ? [RECEIVED_AT, EXECUTION_SID] : [...sheetHeader];
  let find = columnFinder(header);
  if (find(EXECUTION_SID) === undefined && !settings.autoHeaders) {
    return { status: 500, code: 'NO_EXECUTION_SID_COLUMN', message: 'the sheet has no execution_sid column: add one to row 1 (it keeps one row per response), or set SHEET_AUTO_HEADERS=1' };
  }
  const unmapped = Object.keys(response.columns).filter((name) => find(name) === undefined);
  if (unmapped.length > 0) {
    if (!settings.autoHeaders) {
      return {
        status: 422,
        code: 'UNMAPPED_FIELDS',
        message: `the sheet has no column for ${list(unmapped)}: add them to row 1 (or set SHEET_AUTO_HEADERS=1); nothing was written, so no answer is lost without notice`,
      };
    }
    header.push(...unmapped);
    find = columnFinder(header);
  }
  const piiKeys = new Set(settings.pii.columns.map(columnKey));
  const missingPii = settings.pii.columns.filter((c) => !header.some((h) => columnKey(h) === columnKey(c)));
  if (missingPii.length > 0 && !settings.autoHeaders) {
    return {
      status: 500,
      code: 'PII_COLUMNS_NOT_IN_SHEET',
      message: `PII_COLUMNS names ${list(missingPii)}, which row 1 of the sheet does not have: fix PII_COLUMNS or the header (names match ignoring case and spacing); nothing was written`,
    };
  }
  const values = header.map((h) => (h.trim() !== '' && piiKeys.has(columnKey(h)) ? '' : settings.missingValue));
  for (const [name, value] of Object.entries(response.columns)) values[find(name) as number] = value;
  let end = values.length;
  while (end > 0 && (header[end - 1] ?? '').trim() === '') end--;
  return { header, extendsHeader: blank || header.length !== sheetHeader.length, values: values.slice(0, end) };
}
