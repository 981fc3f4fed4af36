// The text form of an ss1 token (docs/FORMAT.md §Tokens):
//
//   ss1.pkx.<kid>.<field>.<exec>.<enc>.<seq>.<ct>      sealed (HPKE), bound to its execution
//   ss1.skx.<kid>.<field>.<exec>.<rid>.<nonce>.<ct>    shared (AES-256-GCM), bound to its execution
//   ss1.pk.<kid>.<field>.<enc>.<seq>.<ct>              sealed, unbound (older flows; still read)
//   ss1.sk.<kid>.<field>.<rid>.<nonce>.<ct>            shared, unbound
//
// The AEAD's associated data is every character before <ct>, final dot included.

import { fromB64u } from '../encoding.js';
import { EnvelopeError } from './errors.js';

export const TOKEN_PREFIX = 'ss1.';
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_FIELDS = 64;
/** Largest plaintext, in UTF-8 bytes: a 4,096-character WhatsApp message of 4-byte characters. */
export const MAX_VALUE_BYTES = 16_384;
export const HPKE_INFO = Buffer.from('sealed-survey ss1');

const KID = /^[0-9a-f]{8}$/;
/** What a token may carry as its execution: a Studio execution SID (FN + 32 hex) fits; so does any id of up to 64 such characters. */
export const EXECUTION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEQ = /^(?:0|[1-9][0-9]?)$/;
// Twice the base64url length of MAX_VALUE_BYTES + tag, a generous bound that stops absurd cells early.
const MAX_TOKEN_LENGTH = 24_000;

export interface SealedToken {
  readonly mode: 'sealed';
  readonly kid: string;
  readonly field: string;
  /** The execution (Studio flow.sid) the response belongs to; undefined for unbound (pk) tokens. */
  readonly execution: string | undefined;
  /** base64url of enc; identifies the response. */
  readonly binding: string;
  readonly enc: Buffer;
  readonly seq: number;
  readonly aad: Buffer;
  readonly ct: Buffer;
}

export interface SharedToken {
  readonly mode: 'shared';
  readonly kid: string;
  readonly field: string;
  /** The execution the response belongs to; undefined for unbound (sk) tokens. */
  readonly execution: string | undefined;
  /** base64url of the response id. */
  readonly binding: string;
  readonly nonce: Buffer;
  readonly aad: Buffer;
  readonly ct: Buffer;
}

export type ParsedToken = SealedToken | SharedToken;

/**
 * The field name a column header stands for: the header itself when it is an
 * identifier, else (after Unicode NFC) runs of other characters turned into
 * "_" ("Full Name" → "Full_Name"), "_" prefixed before a leading digit, cut
 * to 64 characters.
 */
export function identifierFor(header: string): string {
  return identifierOf(header.normalize('NFC'));
}

function identifierOf(header: string): string {
  let id = header.trim().replace(/[^A-Za-z0-9_]+/g, '_');
  if (id === '' || /^[0-9]/.test(id)) id = `_${id}`;
  return id.slice(0, 64);
}

/**
 * How a name is matched against a column header: Unicode NFC, then the
 * identifier rule above, ignoring case (`Téléphone` typed in NFD ≡
 * `téléphone`; `Full Name` ≡ `full_name`).
 */
export function columnKey(name: string): string {
  return identifierFor(name).toLowerCase();
}

/** Whether a token sealed for `field` belongs in the column headed `header` (FORMAT.md §5, check 1). */
export function fieldMatchesColumn(field: string, header: string): boolean {
  // identifierOf without NFC: files sealed before headers were normalized.
  return field === header || columnKey(field) === columnKey(header) || field === identifierOf(header);
}

export function isToken(cell: string): boolean {
  return cell.startsWith(TOKEN_PREFIX);
}

function malformed(what: string): EnvelopeError {
  return new EnvelopeError('MALFORMED', `not a valid sealed-survey token: ${what} (the cell may be cut short or edited)`);
}

export function parseToken(token: string): ParsedToken {
  if (!token.startsWith(TOKEN_PREFIX)) {
    if (/^ss[0-9]+\./.test(token)) {
      throw new EnvelopeError('UNKNOWN_VERSION', `token version "${token.slice(0, token.indexOf('.'))}" is not supported by this version of sealed-survey (upgrade it)`);
    }
    throw malformed('it does not start with "ss1."');
  }
  if (token.length > MAX_TOKEN_LENGTH) throw malformed('it is longer than any token sealed-survey writes');
  const modeEnd = token.indexOf('.', 4);
  if (modeEnd === -1) throw malformed('it has 2 dot-separated parts instead of 8');
  const mode = token.slice(4, modeEnd);
  const bound = mode === 'pkx' || mode === 'skx';
  if (!bound && mode !== 'pk' && mode !== 'sk') {
    throw new EnvelopeError('UNKNOWN_VERSION', 'token mode is not "pkx", "skx", "pk" or "sk" (written by a newer sealed-survey?)');
  }
  const parts = bound ? 8 : 7;
  // Dots at the ends of parts 2..parts-1; indexOf rather than split: this runs once per cell.
  const d: number[] = [3, modeEnd];
  for (let i = 2; i < parts - 1; i++) {
    const at = token.indexOf('.', (d[i - 1] as number) + 1);
    if (at === -1) throw malformed(`it has ${i + 1} dot-separated parts instead of ${parts}`);
    d.push(at);
  }
  const last = d[parts - 2] as number;
  if (token.indexOf('.', last + 1) !== -1) throw malformed(`it has more than ${parts} dot-separated parts`);
  const kid = token.slice((d[1] as number) + 1, d[2]);
  if (!KID.test(kid)) throw malformed('the key id is not 8 hex digits');
  const field = token.slice((d[2] as number) + 1, d[3]);
  if (!FIELD_NAME.test(field)) throw malformed('the field name is not an identifier');
  let execution: string | undefined;
  let at = 3;
  if (bound) {
    execution = token.slice((d[3] as number) + 1, d[4]);
    if (!EXECUTION_ID.test(execution)) throw malformed('the execution id is not 1-64 letters, digits, "_" or "-"');
    at = 4;
  }
  const [bindingEnd, sixthEnd] = [d[at + 1] as number, d[at + 2] as number];
  const ct = fromB64u(token, last + 1);
  if (!ct || ct.length < 16) throw malformed('the ciphertext is not valid base64url');
  const aad = Buffer.from(token.slice(0, last + 1), 'latin1');
  const binding = token.slice((d[at] as number) + 1, bindingEnd);
  const bindingBytes = fromB64u(binding);
  if (mode === 'pk' || mode === 'pkx') {
    if (!bindingBytes || bindingBytes.length !== 32) throw malformed('the encapsulated key is not 32 bytes of base64url');
    const seq = token.slice(bindingEnd + 1, sixthEnd);
    if (!SEQ.test(seq) || Number(seq) >= MAX_FIELDS) throw malformed('the sequence number is out of range');
    return { mode: 'sealed', kid, field, execution, binding, enc: bindingBytes, seq: Number(seq), aad, ct };
  }
  if (!bindingBytes || bindingBytes.length !== 16) throw malformed('the response id is not 16 bytes of base64url');
  const nonce = fromB64u(token, bindingEnd + 1, sixthEnd);
  if (!nonce || nonce.length !== 12) throw malformed('the nonce is not 12 bytes of base64url');
  return { mode: 'shared', kid, field, execution, binding, nonce, aad, ct };
}
