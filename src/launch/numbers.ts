// Phone numbers as a launch needs them: parsed with libphonenumber-js (full
// metadata, so a landline is told from a mobile), written in E.164, and never
// shown whole: every number printed or stored in a report keeps its last 4
// digits only.

import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

export { maskNumber, maskNumbersIn } from '../mask.js';

export type ParsedNumber = { readonly ok: true; readonly e164: string } | { readonly ok: false; readonly reason: string };

/** Types WhatsApp cannot reach, with the reason given in the review file. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  FIXED_LINE: 'a landline: WhatsApp needs a mobile number',
  TOLL_FREE: 'a toll-free number',
  PREMIUM_RATE: 'a premium-rate number',
  SHARED_COST: 'a shared-cost number',
  PAGER: 'a pager number',
  UAN: 'a company switchboard number (UAN)',
  VOICEMAIL: 'a voicemail number',
};

export function isCountry(code: string): code is CountryCode {
  return isSupportedCountry(code);
}

/**
 * A contact's number in E.164, or why it cannot be sent to. A number without
 * its `+` (254711…) is tried as international when it is not valid as a
 * national number of `defaultCountry` (trunk zeros, 0711…, are national).
 */
export function parseNumber(text: string, defaultCountry: CountryCode | undefined): ParsedNumber {
  const raw = text.trim();
  if (raw === '') return { ok: false, reason: 'no number' };
  const candidates = [parsePhoneNumberFromString(raw, defaultCountry)];
  if (!raw.startsWith('+') && /^\d/.test(raw)) candidates.push(parsePhoneNumberFromString(`+${raw}`));
  const valid = candidates.find((n) => n?.isValid());
  if (!valid) {
    const hint = defaultCountry === undefined && !raw.startsWith('+') ? ' (no country code: add --default-country, e.g. KE)' : '';
    return { ok: false, reason: `not a valid phone number${hint}` };
  }
  const why = UNREACHABLE[valid.getType() ?? ''];
  return why ? { ok: false, reason: why } : { ok: true, e164: valid.number };
}
