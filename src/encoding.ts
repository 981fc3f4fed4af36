// Strict, canonical base64url (RFC 4648 §5, no padding).
// Node's decoder silently skips foreign characters and ignores the unused low
// bits of the last character, so two different strings can decode to the same
// bytes. Tokens must reject every altered character, so we re-encode and compare.

const B64URL = /^[A-Za-z0-9_-]*$/;

export function toB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes canonical unpadded base64url; returns undefined for anything else. */
export function fromB64u(text: string): Buffer | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes canonical padded standard base64; returns undefined for anything else. */
export function fromB64(text: string): Buffer | undefined {
  if (!B64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 decoding that fails on malformed input instead of inserting U+FFFD. */
export function utf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
