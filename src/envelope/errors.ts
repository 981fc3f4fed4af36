// Typed errors of the envelope. Messages name fields, key ids and columns,
// never a token's content or a plaintext.

export type EnvelopeErrorCode =
  | 'MALFORMED' // not a well-formed ss1 token (cut short, damaged, extra characters)
  | 'UNKNOWN_VERSION' // looks like a token of a format this version does not know
  | 'WRONG_MODE' // sealed token but only shared keys given, or the reverse
  | 'UNKNOWN_KEY' // no key with the token's key id
  | 'AUTH_FAILED' // wrong key or altered cell
  | 'FIELD_MISMATCH' // the cell was sealed for another field: moved or swapped between columns
  | 'RESPONSE_MISMATCH' // the cell comes from another response than the rest of its row
  | 'EXECUTION_MISMATCH' // the cell is bound to another execution than its row's execution_sid
  | 'DUPLICATE_RESPONSE' // the same response appears in more than one row
  | 'LEGACY_FAILED'; // a legacy CryptoJS cell did not decrypt

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
