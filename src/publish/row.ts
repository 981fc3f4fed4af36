// Untrusted Run Function parameters validated into one response (the PII
// guard and the layout on the sheet's header are in header.ts).

import { FIELD_NAME } from '../envelope/index.js';
import { isSid } from '../twilio/sid.js';

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

/** Validates the parameters of one publish call and stamps received_at. */
export function readResponse(params: Readonly<Record<string, unknown>>, now: Date = new Date()): Response | Problem {
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
  return { executionSid, columns };
}
