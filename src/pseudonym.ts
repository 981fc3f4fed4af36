// respondent_id: a keyed hash of the respondent's address, so analysts can
// count and link respondents without decrypting anything (docs/FORMAT.md §Pseudonyms).

import { createHmac } from 'node:crypto';

export const RESPONDENT_ID_PREFIX = 'rid1_';
const ID_BYTES = 12;

/**
 * whatsapp:+254 700-123.456 and +254700123456 are the same respondent: drop a
 * channel prefix ("whatsapp:", "sms:", "tel:" …), white space and the
 * punctuation people type in phone numbers, and lower-case the rest.
 */
export function normalizeAddress(address: string): string {
  return address
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:/i, '')
    .replace(/[\s\-.()]/g, '')
    .toLowerCase();
}

/** rid1_ + 24 hex digits: the first 96 bits of HMAC-SHA256(pseudonym key, normalized address). */
export function respondentId(pseudonymKey: Buffer, address: string): string {
  const mac = createHmac('sha256', pseudonymKey).update(normalizeAddress(address), 'utf8').digest();
  return RESPONDENT_ID_PREFIX + mac.subarray(0, ID_BYTES).toString('hex');
}
