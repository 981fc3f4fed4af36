// Key types and their text forms. docs/FORMAT.md §Keys is the normative description.

import { createHmac, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { fromB64, fromB64u } from '../encoding.js';
import { generateKeyPair, keyPairFromPrivate, publicKeyFromRaw, type X25519KeyPair } from '../crypto/hpke.js';

export type Mode = 'sealed' | 'shared';

/** Who a response is sealed for. Functions hold one of these. */
export type Recipient =
  | { readonly mode: 'sealed'; readonly kid: string; readonly publicKey: KeyObject; readonly publicRaw: Buffer }
  | { readonly mode: 'shared'; readonly kid: string; readonly key: Buffer };

/** Keys that open tokens. Only the analyst's machine holds one. */
export interface Keyring {
  readonly sealed: ReadonlyMap<string, X25519KeyPair>;
  readonly shared: ReadonlyMap<string, Buffer>;
}

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

export const PUBLIC_KEY_PREFIX = 'sspk1.';
const KID_LABEL = 'sealed-survey kid v1';
export const SHARED_KEY_BYTES = 32;

/** kid = first 4 bytes of HMAC-SHA256(key = raw public key or shared key, "sealed-survey kid v1"), hex. */
export function keyId(rawKey: Uint8Array): string {
  return createHmac('sha256', rawKey).update(KID_LABEL).digest().subarray(0, 4).toString('hex');
}

export function formatPublicKey(publicRaw: Uint8Array): string {
  return PUBLIC_KEY_PREFIX + Buffer.from(publicRaw).toString('base64url');
}

/** Parses SURVEY_PUBLIC_KEY (`sspk1.` + 43 base64url characters). The message never repeats the input. */
export function parsePublicKey(text: string): Recipient & { mode: 'sealed' } {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PUBLIC_KEY_PREFIX)) {
    throw new KeyError(`a public key starts with "${PUBLIC_KEY_PREFIX}" (copy the line printed by \`sealed-survey keygen\`)`);
  }
  const raw = fromB64u(trimmed.slice(PUBLIC_KEY_PREFIX.length));
  if (!raw || raw.length !== 32) {
    throw new KeyError(`a public key is "${PUBLIC_KEY_PREFIX}" followed by 43 base64url characters; this one is damaged or cut short`);
  }
  return { mode: 'sealed', kid: keyId(raw), publicKey: publicKeyFromRaw(raw), publicRaw: raw };
}

/** Parses a shared key: standard base64 of 32 random bytes (SURVEY_SECRET_KEY or a key file). */
export function parseSharedKey(text: string): Recipient & { mode: 'shared' } {
  const raw = fromB64(text.trim());
  if (!raw || raw.length !== SHARED_KEY_BYTES) {
    throw new KeyError('a shared key is the base64 form of 32 random bytes (44 characters ending in "="), as written by `sealed-survey keygen --mode shared`');
  }
  return { mode: 'shared', kid: keyId(raw), key: raw };
}

export function formatSharedKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

export function newSharedKey(): Buffer {
  return randomBytes(SHARED_KEY_BYTES);
}

export interface SealedKeyPair {
  readonly kid: string;
  readonly pair: X25519KeyPair;
  readonly publicKeyText: string;
  readonly privatePem: string;
}

export function newSealedKeyPair(): SealedKeyPair {
  return describeKeyPair(generateKeyPair());
}

function describeKeyPair(pair: X25519KeyPair): SealedKeyPair {
  return {
    kid: keyId(pair.publicRaw),
    pair,
    publicKeyText: formatPublicKey(pair.publicRaw),
    privatePem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** Parses a PKCS#8 PEM X25519 private key. */
export function parsePrivateKeyPem(pem: string): SealedKeyPair {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new KeyError('the private key file is not a readable PEM key (it may be damaged or cut short)');
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new KeyError(`the private key is of type ${key.asymmetricKeyType ?? 'unknown'}; sealed-survey keys are X25519 (make one with \`sealed-survey keygen\`)`);
  }
  return describeKeyPair(keyPairFromPrivate(key));
}

export function emptyKeyring(): { sealed: Map<string, X25519KeyPair>; shared: Map<string, Buffer> } {
  return { sealed: new Map(), shared: new Map() };
}

/** The keyring that opens what a shared-mode Recipient seals (shared mode is symmetric). */
export function keyringOf(...keys: Array<SealedKeyPair | (Recipient & { mode: 'shared' })>): Keyring {
  const ring = emptyKeyring();
  for (const k of keys) {
    if ('pair' in k) ring.sealed.set(k.kid, k.pair);
    else ring.shared.set(k.kid, k.key);
  }
  return ring;
}

export function recipientOf(pair: SealedKeyPair): Recipient {
  return { mode: 'sealed', kid: pair.kid, publicKey: pair.pair.publicKey, publicRaw: pair.pair.publicRaw };
}
