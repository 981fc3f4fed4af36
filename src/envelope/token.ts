// The text form of an ss1 token (docs/FORMAT.md §Tokens):
//
//   ss1.pk.<kid>.<field>.<enc>.<seq>.<ct>      sealed (HPKE)
//   ss1.sk.<kid>.<field>.<rid>.<nonce>.<ct>    shared (AES-256-GCM)
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
const SEQ = /^(?:0|[1-9][0-9]?)$/;
// Twice the base64url length of MAX_VALUE_BYTES + tag, a generous bound that stops absurd cells early.
const MAX_TOKEN_LENGTH = 24_000;

export interface SealedToken {
  readonly mode: 'sealed';
  readonly kid: string;
  readonly field: string;
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
  /** base64url of the response id. */
  readonly binding: string;
  readonly nonce: Buffer;
  readonly aad: Buffer;
  readonly ct: Buffer;
}

export type ParsedToken = SealedToken | SharedToken;

/**
 * The field name a column header stands for: the header itself when it is an
 * identifier, else runs of other characters turned into "_" ("Full Name" →
 * "Full_Name"), "_" prefixed before a leading digit, cut to 64 characters.
 */
export function identifierFor(header: string): string {
  let id = header.trim().replace(/[^A-Za-z0-9_]+/g, '_');
  if (id === '' || /^[0-9]/.test(id)) id = `_${id}`;
  return id.slice(0, 64);
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
  // Dots at the ends of parts 2..6; indexOf rather than split: this runs once per cell.
  const d: number[] = [3];
  for (let i = 0; i < 5; i++) {
    const at = token.indexOf('.', (d[i] as number) + 1);
    if (at === -1) throw malformed(`it has ${i + 2} dot-separated parts instead of 7`);
    d.push(at);
  }
  const [, d2, d3, d4, d5, d6] = d as [number, number, number, number, number, number];
  if (token.indexOf('.', d6 + 1) !== -1) throw malformed('it has more than 7 dot-separated parts');
  const mode = token.slice(4, d2);
  if (mode !== 'pk' && mode !== 'sk') {
    throw new EnvelopeError('UNKNOWN_VERSION', 'token mode is not "pk" or "sk" (written by a newer sealed-survey?)');
  }
  const kid = token.slice(d2 + 1, d3);
  if (!KID.test(kid)) throw malformed('the key id is not 8 hex digits');
  const field = token.slice(d3 + 1, d4);
  if (!FIELD_NAME.test(field)) throw malformed('the field name is not an identifier');
  const ct = fromB64u(token, d6 + 1);
  if (!ct || ct.length < 16) throw malformed('the ciphertext is not valid base64url');
  const aad = Buffer.from(token.slice(0, d6 + 1), 'latin1');
  const binding = token.slice(d4 + 1, d5);
  const bindingBytes = fromB64u(binding);
  if (mode === 'pk') {
    if (!bindingBytes || bindingBytes.length !== 32) throw malformed('the encapsulated key is not 32 bytes of base64url');
    const seq = token.slice(d5 + 1, d6);
    if (!SEQ.test(seq) || Number(seq) >= MAX_FIELDS) throw malformed('the sequence number is out of range');
    return { mode: 'sealed', kid, field, binding, enc: bindingBytes, seq: Number(seq), aad, ct };
  }
  if (!bindingBytes || bindingBytes.length !== 16) throw malformed('the response id is not 16 bytes of base64url');
  const nonce = fromB64u(token, d5 + 1, d6);
  if (!nonce || nonce.length !== 12) throw malformed('the nonce is not 12 bytes of base64url');
  return { mode: 'shared', kid, field, binding, nonce, aad, ct };
}
