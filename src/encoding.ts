// Strict, canonical base64url (RFC 4648 §5, no padding).
// Node's decoder silently skips foreign characters and ignores the unused low
// bits of the last character, so two different strings can decode to the same
// bytes. Tokens must reject every altered character, so we re-encode and compare.

export function toB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

// Value of each base64url character, -1 for anything else.
const B64URL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) B64URL_VALUE[c.charCodeAt(0)] = i;

/**
 * Decodes canonical unpadded base64url; returns undefined for anything else.
 * Canonical: only alphabet characters, no length ≡ 1 (mod 4), and the unused
 * low bits of the last character are zero, so exactly one string maps to each
 * byte string (checked without re-encoding: this is on decrypt-csv's hot path).
 */
export function fromB64u(text: string, start = 0, end = text.length): Buffer | undefined {
  const len = end - start;
  if (len % 4 === 1) return undefined;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || B64URL_VALUE[c] === -1) return undefined;
  }
  if (len > 0) {
    const last = B64URL_VALUE[text.charCodeAt(end - 1)] as number;
    if ((len % 4 === 2 && (last & 0x0f) !== 0) || (len % 4 === 3 && (last & 0x03) !== 0)) return undefined;
  }
  return Buffer.from(start === 0 && end === text.length ? text : text.slice(start, end), 'base64url');
}

const B64_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) B64_VALUE[c.charCodeAt(0)] = i;

/** Decodes canonical padded standard base64; returns undefined for anything else. */
export function fromB64(text: string): Buffer | undefined {
  const len = text.length;
  if (len % 4 !== 0) return undefined;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const end = len - pad;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || B64_VALUE[c] === -1) return undefined;
  }
  if (pad > 0) {
    const last = B64_VALUE[text.charCodeAt(end - 1)] as number;
    if ((pad === 2 && (last & 0x0f) !== 0) || (pad === 1 && (last & 0x03) !== 0)) return undefined;
  }
  return Buffer.from(text, 'base64');
}

// ignoreBOM: a leading U+FEFF is part of the answer (values are kept exactly as received).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 decoding that fails on malformed input instead of inserting U+FFFD, and keeps a leading U+FEFF. */
export function utf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
