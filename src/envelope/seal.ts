// Sealing one response: every field of one encrypt call, for one recipient.

import { createCipheriv, randomBytes } from 'node:crypto';
import { generateKeyPair, setupBaseS, type X25519KeyPair } from '../crypto/hpke.js';
import { toB64u } from '../encoding.js';
import type { Recipient } from '../keys/keys.js';
import { EXECUTION_ID, FIELD_NAME, HPKE_INFO, MAX_FIELDS, MAX_VALUE_BYTES, TOKEN_PREFIX } from './token.js';

/** Where sealing gets its randomness; replaced only by known-answer tests. */
export interface SealRandomness {
  ephemeralKeyPair(): X25519KeyPair;
  bytes(length: number): Buffer;
}

export const systemRandomness: SealRandomness = { ephemeralKeyPair: generateKeyPair, bytes: randomBytes };

export class SealInputError extends Error {
  override readonly name = 'SealInputError';
}

/**
 * Seals each field into an ss1 token. All tokens of one call share one binding
 * (the HPKE encapsulation, or a random response id in shared mode), which is how
 * a decryptor tells that cells belong to the same response; with `execution`
 * (the Studio flow.sid) every token also carries it in its authenticated prefix
 * (modes pkx/skx), which binds the response to its sheet row. Field order sets
 * the HPKE sequence numbers, so no (key, nonce) pair is ever used twice.
 */
export function sealResponse(
  fields: ReadonlyArray<readonly [string, string]>,
  recipient: Recipient,
  random: SealRandomness = systemRandomness,
  execution?: string,
): Map<string, string> {
  if (fields.length > MAX_FIELDS) throw new SealInputError(`at most ${MAX_FIELDS} fields can be sealed in one response`);
  if (execution !== undefined && !EXECUTION_ID.test(execution)) throw new SealInputError('the execution id must be 1-64 letters, digits, "_" or "-"');
  const seen = new Set<string>();
  const plaintexts = fields.map(([name, value]) => {
    if (!FIELD_NAME.test(name)) throw new SealInputError('field names are identifiers: letters, digits and _, not starting with a digit, at most 64 characters');
    if (seen.has(name)) throw new SealInputError(`field "${name}" appears twice`);
    seen.add(name);
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > MAX_VALUE_BYTES) throw new SealInputError(`field "${name}" is larger than ${MAX_VALUE_BYTES} bytes`);
    return [name, bytes] as const;
  });
  const out = new Map<string, string>();
  // pk/sk + "x" and the execution after the field name when bound.
  const x = execution === undefined ? '' : 'x';
  const named = (name: string) => (execution === undefined ? `${recipient.kid}.${name}` : `${recipient.kid}.${name}.${execution}`);
  if (recipient.mode === 'sealed') {
    const { enc, context } = setupBaseS(recipient.publicKey, HPKE_INFO, random.ephemeralKeyPair(), recipient.publicRaw);
    const encText = toB64u(enc);
    plaintexts.forEach(([name, bytes], seq) => {
      const aad = `${TOKEN_PREFIX}pk${x}.${named(name)}.${encText}.${seq}.`;
      out.set(name, aad + toB64u(context.seal(seq, Buffer.from(aad, 'latin1'), bytes)));
    });
  } else {
    const rid = toB64u(random.bytes(16));
    for (const [name, bytes] of plaintexts) {
      const nonce = random.bytes(12);
      const aad = `${TOKEN_PREFIX}sk${x}.${named(name)}.${rid}.${toB64u(nonce)}.`;
      const cipher = createCipheriv('aes-256-gcm', recipient.key, nonce);
      cipher.setAAD(Buffer.from(aad, 'latin1'));
      const body = Buffer.concat([cipher.update(bytes), cipher.final(), cipher.getAuthTag()]);
      out.set(name, aad + toB64u(body));
    }
  }
  return out;
}
