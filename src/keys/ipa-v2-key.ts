// The private key file of IPA's requests_to_twilio_v2 (`rtt keygen` writes
// rtt_private_key.txt: urlsafe base64 of the raw 32-byte X25519 key and a
// newline; its .env may hold the same text as ENCRYPTION_PRIVATE_KEY=…).
// Told apart from our own key files by content. Messages never quote the key.

import type { KeyObject } from 'node:crypto';
import { keyPairFromRawPrivate } from '../crypto/hpke.js';

export interface IpaV2Key {
  readonly privateKey: KeyObject;
  readonly publicRaw: Buffer;
}

/** One alphabet or the other (the peer's decoder maps -_ to +/ and accepts both), padding optional. */
const KEY_TEXT = /^[A-Za-z0-9_+/-]{43}=?$/;
const ENV_LINE = /^[ \t]*(?:export[ \t]+)?ENCRYPTION_PRIVATE_KEY[ \t]*=[ \t]*(.*)$/m;
const ENV_FILE_LINE = /^[ \t]*(?:export[ \t]+)?ENCRYPTION_PRIVATE_KEY_FILE[ \t]*=[ \t]*(.*)$/m;

export type IpaV2KeyText =
  | { readonly kind: 'key'; readonly raw: Buffer; readonly from: 'key file' | '.env' }
  /** A .env that names its key file instead of holding the key: the path (not a secret) to point --key-file at. */
  | { readonly kind: 'points-to'; readonly path: string }
  | { readonly kind: 'none' };

function decodeKey(value: string): Buffer | undefined {
  const text = value.trim().replace(/^(["'])(.*)\1$/, '$2').trim();
  if (!KEY_TEXT.test(text)) return undefined;
  const b64u = text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, '');
  const raw = Buffer.from(b64u, 'base64url');
  // Canonical only (the last character's 2 spare bits zero), so a typo is an error, not another key.
  return raw.length === 32 && raw.toString('base64url') === b64u ? raw : undefined;
}

/** Recognises the peer's key file, or its .env. */
export function readIpaV2KeyText(text: string): IpaV2KeyText {
  const bare = decodeKey(text);
  if (bare) return { kind: 'key', raw: bare, from: 'key file' };
  const inline = ENV_LINE.exec(text)?.[1];
  if (inline !== undefined) {
    const raw = decodeKey(inline.replace(/\s+#.*$/, ''));
    if (raw) return { kind: 'key', raw, from: '.env' };
  }
  const pointer = ENV_FILE_LINE.exec(text)?.[1]?.trim().replace(/^(["'])(.*)\1$/, '$2');
  if (pointer) return { kind: 'points-to', path: pointer };
  return { kind: 'none' };
}

export function ipaV2KeyFromRaw(raw: Uint8Array): IpaV2Key {
  const pair = keyPairFromRawPrivate(raw);
  return { privateKey: pair.privateKey, publicRaw: pair.publicRaw };
}
