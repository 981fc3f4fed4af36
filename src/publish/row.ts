// From untrusted Run Function parameters to one sheet row: validation, the
// PII guard, and the mapping of fields onto the sheet's header.

import { EnvelopeError, FIELD_NAME, identifierFor, parseToken } from '../envelope/index.js';
import { isSid } from '../twilio/sid.js';
import type { PiiGuard } from './config.js';

export const EXECUTION_SID = 'execution_sid';
export const RECEIVED_AT = 'received_at';
export const RESPONDENT_ID = 'respondent_id';

const MAX_PARAMS = 200;
/** Google Sheets refuses cells over 50,000 characters. */
export const MAX_CELL_CHARS = 50_000;

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** One response: its execution SID and its cells by field name, in the order received. */
export interface Response {
  readonly executionSid: string;
  readonly columns: Readonly<Record<string, string>>;
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'status' in value;
}

/** Every value in a PII column must be an ss1 token for the configured key, for that field. Messages never quote values. */
export function checkPii(columns: Readonly<Record<string, string>>, pii: PiiGuard): Problem | undefined {
  for (const name of pii.columns) {
    const value = columns[name];
    if (value === undefined || value === '') continue;
    const refuse = (why: string): Problem => ({
      status: 422,
      code: 'PII_NOT_ENCRYPTED',
      message: `column "${name}" is listed in PII_COLUMNS but ${why}; nothing was written. Send the encrypt Function's output ({{widgets.<encrypt widget>.parsed.${name}}}), not the answer itself`,
    });
    let token;
    try {
      token = parseToken(value);
    } catch (error) {
      if (error instanceof EnvelopeError) return refuse('its value is not a sealed-survey token');
      throw error;
    }
    if (token.kid !== pii.kid || token.mode !== pii.mode) {
      return refuse(`its token was encrypted for another key (key id ${token.kid}; this Function's key id is ${pii.kid ?? 'none'})`);
    }
    if (token.field !== name) return refuse(`its token holds the answer to field "${token.field}"`);
  }
  return undefined;
}

/** Validates the parameters of one publish call and stamps received_at. */
export function readResponse(params: Readonly<Record<string, unknown>>, pii: PiiGuard, now: Date = new Date()): Response | Problem {
  const entries = Object.entries(params);
  if (entries.length > MAX_PARAMS) return { status: 400, code: 'TOO_MANY_FIELDS', message: `${entries.length} parameters were sent; at most ${MAX_PARAMS} columns can be published in one row` };
  const columns: Record<string, string> = { [RECEIVED_AT]: now.toISOString() };
  for (const [index, [name, value]] of entries.entries()) {
    if (!FIELD_NAME.test(name)) {
      return { status: 400, code: 'BAD_FIELD_NAME', message: `parameter ${index + 1} has a name that is not an identifier: use letters, digits and _, not starting with a digit, at most 64 characters` };
    }
    if (name === RECEIVED_AT) return { status: 400, code: 'RESERVED_FIELD', message: `"${RECEIVED_AT}" is set by this Function; do not send it` };
    if (typeof value !== 'string') return { status: 400, code: 'NOT_TEXT', message: `parameter "${name}" is not a single text value (sent more than once?)` };
    if (value.length > MAX_CELL_CHARS) return { status: 413, code: 'VALUE_TOO_LARGE', message: `parameter "${name}" is longer than the ${MAX_CELL_CHARS} characters a Google Sheets cell holds` };
    columns[name] = value;
  }
  const executionSid = columns[EXECUTION_SID];
  if (executionSid === undefined || executionSid === '') {
    return { status: 400, code: 'EXECUTION_SID_REQUIRED', message: `add the parameter ${EXECUTION_SID} = {{flow.sid}} to the Run Function widget: it is how publish keeps one row per response` };
  }
  if (!isSid(executionSid)) return { status: 400, code: 'BAD_EXECUTION_SID', message: `${EXECUTION_SID} is not a Twilio SID: set it to {{flow.sid}}` };
  const problem = checkPii(columns, pii);
  if (problem) return problem;
  return { executionSid, columns };
}

/** Field name → column index; a header matches its exact text or the identifier it stands for. */
export function headerIndex(header: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    if (h !== '' && !index.has(h)) index.set(h, i);
  });
  header.forEach((h, i) => {
    const id = identifierFor(h);
    if (h.trim() !== '' && !index.has(id)) index.set(id, i);
  });
  return index;
}

/** Fields missing from the header, in the order they were sent. */
export function unmappedFields(columns: Readonly<Record<string, string>>, header: readonly string[]): string[] {
  const index = headerIndex(header);
  return Object.keys(columns).filter((name) => !index.has(name));
}

/** The row in header order; columns without a value get `missing`. */
export function toRow(columns: Readonly<Record<string, string>>, header: readonly string[], missing: string): string[] {
  const index = headerIndex(header);
  const row = header.map(() => missing);
  for (const [name, value] of Object.entries(columns)) {
    const at = index.get(name);
    if (at !== undefined) row[at] = value;
  }
  // Trailing blank header cells need no cells.
  let end = row.length;
  while (end > 0 && (header[end - 1] ?? '').trim() === '') end--;
  return row.slice(0, end);
}
