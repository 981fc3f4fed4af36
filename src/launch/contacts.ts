// The contact list a launch sends to: a caseid per row (required, unique,
// non-empty), a number column, and the --param-columns that become flow.data.
// Every other column stays on this machine. Numbers that cannot be sent to
// (unparsable, landlines, one number under two caseids) go to the review list
// with a reason instead of being sent.

import type { CountryCode } from 'libphonenumber-js/max';
import { plural } from '../plural.js';
import { maskNumber, parseNumber } from './numbers.js';
import type { Table } from './table.js';

export const CASEID = 'caseid';
/** Tried in this order when --number-column is not given. */
export const NUMBER_COLUMNS = ['phone', 'phone_number', 'number', 'msisdn', 'mobile', 'whatsapp'];

export interface Contact {
  readonly caseid: string;
  readonly line: number;
  /** E.164, with `whatsapp:` when the sender is WhatsApp; held in memory only. */
  readonly to: string;
  readonly parameters: Readonly<Record<string, string>>;
}

export interface ReviewRow {
  readonly line: number;
  readonly caseid: string;
  /** The last 4 digits only. */
  readonly masked: string;
  readonly reason: string;
}

export interface ContactList {
  readonly contacts: readonly Contact[];
  readonly review: readonly ReviewRow[];
}

export interface ContactOptions {
  readonly numberColumn?: string | undefined;
  readonly paramColumns: readonly string[];
  readonly defaultCountry?: CountryCode | undefined;
  readonly whatsapp: boolean;
}

/** "rows 3, 5 and 9" (at most 10 listed). */
function rowList(lines: readonly number[]): string {
  const shown = lines.slice(0, 10).map(String);
  const more = lines.length > 10 ? ` and ${lines.length - 10} more` : '';
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')}${more ? ', ' : ' and '}${shown.at(-1)}`;
  return `${lines.length === 1 ? 'row' : 'rows'} ${list}${more}`;
}

/** A column that differs only in case or spacing, for the hint. */
const lookalike = (header: readonly string[], name: string) => header.find((h) => h.toLowerCase().replace(/[\s_-]/g, '') === name.toLowerCase().replace(/[\s_-]/g, ''));

/** The problems that stop a launch (every one listed), or the contacts and the review list. */
export function contactList(table: Table, options: ContactOptions): { problems: string[]; list: ContactList } {
  const problems: string[] = [];
  const column = (name: string, what: string): number => {
    const i = table.header.indexOf(name);
    if (i < 0) {
      const like = lookalike(table.header, name);
      problems.push(`the contacts have no "${name}" column (${what})${like !== undefined ? `: there is "${like}"; column names are case-sensitive, rename it to "${name}"` : `: add it to row 1`}`);
    }
    return i;
  };
  const caseidAt = column(CASEID, 'one unique id per respondent, joining the tracker and the sheet without a phone number');
  let numberAt: number;
  if (options.numberColumn !== undefined) numberAt = column(options.numberColumn, 'the numbers, named by --number-column');
  else {
    numberAt = table.header.findIndex((h) => NUMBER_COLUMNS.includes(h.toLowerCase()));
    if (numberAt < 0) problems.push(`the contacts have no number column: name it one of ${NUMBER_COLUMNS.join(', ')}, or give --number-column`);
  }
  const params = options.paramColumns.map((name) => ({ name, at: column(name, 'named in --param-columns') }));
  const empty: ContactList = { contacts: [], review: [] };
  if (problems.length > 0) return { problems, list: empty };
  if (table.rows.length === 0) return { problems: ['the contacts have no rows under the header'], list: empty };

  const cell = (cells: readonly string[], at: number) => (cells[at] ?? '').trim();
  const blank = table.rows.filter((r) => cell(r.cells, caseidAt) === '').map((r) => r.line);
  if (blank.length > 0) problems.push(`${rowList(blank)}: caseid is empty; give every respondent a caseid`);
  const firstLine = new Map<string, number>();
  const repeated: string[] = [];
  for (const r of table.rows) {
    const id = cell(r.cells, caseidAt);
    if (id === '') continue;
    const first = firstLine.get(id);
    if (first === undefined) firstLine.set(id, r.line);
    else repeated.push(`row ${r.line} repeats the caseid of row ${first}`);
  }
  if (repeated.length > 0) problems.push(`${plural(repeated.length, 'duplicate caseid')}: ${repeated.slice(0, 10).join('; ')}${repeated.length > 10 ? '; …' : ''}: each caseid must be unique`);
  if (problems.length > 0) return { problems, list: empty };

  const contacts: Contact[] = [];
  const review: ReviewRow[] = [];
  const byNumber = new Map<string, string>();
  for (const r of table.rows) {
    const caseid = cell(r.cells, caseidAt);
    const raw = cell(r.cells, numberAt);
    const masked = maskNumber(raw);
    const parsed = parseNumber(raw, options.defaultCountry);
    if (!parsed.ok) {
      review.push({ line: r.line, caseid, masked, reason: parsed.reason });
      continue;
    }
    const other = byNumber.get(parsed.e164);
    if (other !== undefined) {
      review.push({ line: r.line, caseid, masked, reason: `the same number as caseid ${other}: Twilio runs one execution per contact` });
      continue;
    }
    byNumber.set(parsed.e164, caseid);
    const parameters = Object.fromEntries(params.map((p) => [p.name, cell(r.cells, p.at)]));
    contacts.push({ caseid, line: r.line, to: options.whatsapp ? `whatsapp:${parsed.e164}` : parsed.e164, parameters });
  }
  return { problems, list: { contacts, review } };
}
