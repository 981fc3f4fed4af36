// Read-only support for the `v2:` cells of IPA's requests_to_twilio_v2: an
// X25519 sealed box (that project's docs/encryption.md). Authenticated, but
// bound to nothing: a token moved to another column or row still opens, so
// callers must say so and suggest re-sealing as ss1.

import { createDecipheriv, diffieHellman, hkdfSync } from 'node:crypto';
import { fromB64, utf8Strict } from '../encoding.js';
import { publicKeyFromRaw } from '../crypto/hpke.js';
import type { IpaV2Key } from '../keys/ipa-v2-key.js';
import { EnvelopeError } from './errors.js';

export const IPA_V2_PREFIX = 'v2:';
const INFO = Buffer.from('requests-to-twilio/v2', 'latin1');
const EPHEMERAL = 32;
const NONCE = 12;
const TAG = 16;

const V2 = [0x76, 0x32, 0x3a];

/** `v2:` and at least one more byte: a requests_to_twilio_v2 token (or a damaged one). */
export function looksIpaV2(raw: Uint8Array): boolean {
  return raw.length > 3 && raw[0] === V2[0] && raw[1] === V2[1] && raw[2] === V2[2];
}

/**
 * Opens a `v2:` token with the first key it authenticates under. Errors name
 * what is wrong, never the token or the plaintext.
 */
export function openIpaV2(token: string, keys: readonly IpaV2Key[]): string {
  if (!token.startsWith(IPA_V2_PREFIX)) throw new EnvelopeError('MALFORMED', 'not a requests_to_twilio_v2 token (it does not start with "v2:")');
  const bytes = fromB64(token.slice(IPA_V2_PREFIX.length));
  if (!bytes) throw new EnvelopeError('MALFORMED', 'a damaged requests_to_twilio_v2 token: "v2:" is not followed by standard base64');
  if (bytes.length < EPHEMERAL + NONCE + TAG) {
    throw new EnvelopeError('MALFORMED', `a requests_to_twilio_v2 token cut short: ${bytes.length} bytes where at least ${EPHEMERAL + NONCE + TAG} are needed`);
  }
  if (keys.length === 0) throw new EnvelopeError('WRONG_MODE', 'a requests_to_twilio_v2 token, but no requests_to_twilio_v2 private key was given (add --key-file rtt_private_key.txt)');
  const ephemeralRaw = bytes.subarray(0, EPHEMERAL);
  const nonce = bytes.subarray(EPHEMERAL, EPHEMERAL + NONCE);
  const sealed = bytes.subarray(EPHEMERAL + NONCE, bytes.length - TAG);
  const tag = bytes.subarray(bytes.length - TAG);
  const ephemeral = publicKeyFromRaw(ephemeralRaw);
  for (const key of keys) {
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: key.privateKey, publicKey: ephemeral });
    } catch {
      // OpenSSL refuses a low-order point (an all-zero shared secret), as the peer's library does.
      throw new EnvelopeError('MALFORMED', 'a damaged requests_to_twilio_v2 token: its ephemeral key is not usable');
    }
    const aesKey = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, key.publicRaw]), INFO, 32));
    const decipher = createDecipheriv('aes-256-gcm', aesKey, nonce, { authTagLength: TAG });
    decipher.setAAD(INFO);
    decipher.setAuthTag(tag);
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(sealed), decipher.final()]);
    } catch {
      continue; // not this key (or altered): try the next
    }
    const text = utf8Strict(plaintext);
    if (text === undefined) throw new EnvelopeError('MALFORMED', 'the decrypted requests_to_twilio_v2 value is not UTF-8 text');
    return text;
  }
  throw new EnvelopeError(
    'AUTH_FAILED',
    'the requests_to_twilio_v2 token did not decrypt (authentication failed): the key file is not the private key this sheet was sealed for, or the cell was altered',
  );
}
