// Twilio's `encryption_details` of an encrypted recording: where it comes
// from (the Recording resource's `encryption_details` object, or the status
// callback's `EncryptionDetails` parameter, a JSON string) and what it holds:
// the SID of the public key Twilio wrapped the content key with, the wrapped
// key (RSA-OAEP) and the AES-GCM IV, both base64.
//
// Twilio's guide shows two spellings: `public_key_sid` / `encrypted_cek` in
// the callback (and in its decryption samples reading the resource), and
// `encryption_public_key_sid` / `encryption_cek` in its one example of the
// resource. Both are accepted; the OpenAPI document leaves the object untyped.

import { z } from 'zod';
import { RecordingError } from './errors.js';

export const PUBLIC_KEY_SID = /^CR[0-9a-fA-F]{32}$/;
export const RECORDING_SID = /^RE[0-9a-fA-F]{32}$/;
export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

/** AES-GCM's IV as Twilio sends it: 12 bytes (16 base64 characters). */
export const IV_BYTES = 12;
/** AES-256's key. */
export const CEK_BYTES = 32;
/** GCM's tag, which Twilio appends to the encrypted media. */
export const TAG_BYTES = 16;

export interface EncryptionDetails {
  readonly type: 'rsa-aes';
  readonly publicKeySid: string;
  readonly encryptedCek: Buffer;
  readonly iv: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const b64 = (name: string) => z.string().regex(BASE64, `${name} is not base64`);

const Raw = z
  .object({
    type: z.literal('rsa-aes', { message: 'type must be "rsa-aes" (the only kind of recording encryption Twilio has)' }).optional(),
    public_key_sid: z.string().optional(),
    encryption_public_key_sid: z.string().optional(),
    encrypted_cek: b64('encrypted_cek').optional(),
    encryption_cek: b64('encryption_cek').optional(),
    iv: b64('iv'),
  })
  .passthrough();

/**
 * Reads encryption details from an object or its JSON text (`source` names
 * where they came from, for messages). Throws RecordingError naming the
 * problem, never repeating a value but a public key SID.
 */
export function parseEncryptionDetails(value: unknown, source: string): EncryptionDetails {
  let data = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch {
      throw new RecordingError(`${source}: the encryption details are not JSON (copy EncryptionDetails or encryption_details whole)`);
    }
  }
  if (data === null || data === undefined) {
    throw new RecordingError(`${source}: the recording has no encryption details, so it is not encrypted (Voice Recording Encryption was off when it was made)`);
  }
  const parsed = Raw.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new RecordingError(`${source}: the encryption details are not what Twilio sends (${problems.join('; ')})`);
  }
  const d = parsed.data;
  const publicKeySid = d.public_key_sid ?? d.encryption_public_key_sid;
  const cek = d.encrypted_cek ?? d.encryption_cek;
  if (publicKeySid === undefined || !PUBLIC_KEY_SID.test(publicKeySid)) throw new RecordingError(`${source}: public_key_sid is missing or is not a public key SID (CR + 32 hex digits)`);
  if (cek === undefined) throw new RecordingError(`${source}: encrypted_cek (the wrapped content key) is missing`);
  const iv = Buffer.from(d.iv, 'base64');
  if (iv.length !== IV_BYTES) throw new RecordingError(`${source}: iv is ${iv.length} bytes; Twilio's is ${IV_BYTES}`);
  return { type: 'rsa-aes', publicKeySid, encryptedCek: Buffer.from(cek, 'base64'), iv };
}

/** The details as Twilio's status callback sends them (the JSON text of EncryptionDetails). */
export function formatEncryptionDetails(d: EncryptionDetails): Record<string, string> {
  return { type: d.type, public_key_sid: d.publicKeySid, encrypted_cek: d.encryptedCek.toString('base64'), iv: d.iv.toString('base64') };
}
