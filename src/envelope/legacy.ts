// Read-only support for the CryptoJS cells of the widely copied
// twilio_encrypt_fields.js: AES-CBC + PKCS#7, token = base64(IV || ciphertext).
// Unauthenticated: a wrong passphrase usually fails the padding check, but an
// altered cell can decrypt to different text unnoticed. Callers must say so.

import { createDecipheriv } from 'node:crypto';
import { fromB64, utf8Strict } from '../encoding.js';
import { KeyError } from '../keys/keys.js';
import { EnvelopeError } from './errors.js';

/**
 * The legacy key derivation, exactly as the JavaScript did it: the passphrase's
 * first 16 UTF-16 code units, right-padded with "0" to 16, then UTF-8 encoded.
 * An ASCII passphrase gives AES-128; CryptoJS also accepted 24 or 32 bytes.
 */
export function legacyKey(passphrase: string): Buffer {
  const cut = passphrase.length > 16 ? passphrase.substring(0, 16) : passphrase.padEnd(16, '0');
  const key = Buffer.from(cut, 'utf8');
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new KeyError(`the legacy passphrase becomes a ${key.length}-byte key, which the legacy format cannot have used; check the passphrase file`);
  }
  return key;
}

/** A cheap shape test: canonical base64 of a 16-byte IV plus at least one AES block. */
export function looksLegacy(cell: string): boolean {
  if (cell.length < 44 || cell.length % 4 !== 0) return false;
  const bytes = fromB64(cell);
  return bytes !== undefined && bytes.length >= 32 && bytes.length % 16 === 0;
}

export function openLegacy(cell: string, key: Buffer): string {
  const bytes = fromB64(cell.trim());
  if (!bytes || bytes.length < 32 || bytes.length % 16 !== 0) {
    throw new EnvelopeError('LEGACY_FAILED', 'not a legacy encrypted cell (expected base64 of a 16-byte IV and AES blocks)');
  }
  const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, bytes.subarray(0, 16));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(bytes.subarray(16)), decipher.final()]);
  } catch {
    throw new EnvelopeError('LEGACY_FAILED', 'legacy decryption failed (wrong passphrase, or the cell was altered)');
  }
  const text = utf8Strict(plaintext);
  if (text === undefined) throw new EnvelopeError('LEGACY_FAILED', 'legacy decryption gave non-text bytes (wrong passphrase, or the cell was altered)');
  return text;
}
