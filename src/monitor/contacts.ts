// The contact list, read only to join Twilio's messages to caseids: each
// number becomes E.164 in memory and is never printed or written. Numbers are
// parsed by launch's own parser (libphonenumber-js, --default-country for
// national numbers); one that does not parse was never sent and joins nothing.

import type { CountryCode } from 'libphonenumber-js';
import { EXIT_USAGE, UserError } from '../cli/common.js';
import { NUMBER_COLUMNS } from '../launch/contacts.js';
import { isCountry, parseNumber } from '../launch/numbers.js';
import { columnsOf, readTableFile } from './table-file.js';

export interface Contacts {
  /** caseid by E.164 number. */
  readonly caseOf: ReadonlyMap<string, string>;
  /** Rows whose number does not parse (they were never sent). */
  readonly unparsable: number;
}

export function countryCode(value: string | undefined): CountryCode | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!isCountry(upper)) throw new UserError(`--default-country ${value} is not a country code: give two letters, e.g. KE or GH`, EXIT_USAGE);
  return upper;
}

/** A Twilio address (whatsapp:+2547…, +2547…) as E.164. */
export const e164Of = (address: string | null | undefined): string => (address ?? '').replace(/^[a-z]+:/i, '');

export async function readContacts(file: string, options: { numberColumn?: string; defaultCountry?: CountryCode }): Promise<Contacts> {
  const table = await readTableFile(file, 'the contact list');
  const lower = table.header.map((h) => h.toLowerCase());
  const numberName = options.numberColumn ?? NUMBER_COLUMNS.find((n) => lower.includes(n));
  if (numberName === undefined) {
    throw new UserError(`the contact list ${file} has no number column (looked for ${NUMBER_COLUMNS.join(', ')}; its columns: ${table.header.join(', ')}): name it with --number-column`, EXIT_USAGE);
  }
  const at: Record<string, number> = columnsOf(table, ['caseid', numberName], file, 'the contact list');
  const caseAt = at.caseid as number;
  const numberAt = at[numberName] as number;
  const caseOf = new Map<string, string>();
  let unparsable = 0;
  for (const { cells } of table.rows) {
    const caseid = cells[caseAt] ?? '';
    // Parsed exactly as launch parsed it, or the join would miss.
    const parsed = parseNumber(e164Of(cells[numberAt] ?? ''), options.defaultCountry);
    if (caseid === '' || !parsed.ok) {
      unparsable += 1;
      continue;
    }
    // The first caseid keeps a number listed twice (launch refuses such lists; an old one may have it).
    if (!caseOf.has(parsed.e164)) caseOf.set(parsed.e164, caseid);
  }
  return { caseOf, unparsable };
}
