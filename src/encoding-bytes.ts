// Strict, canonical base64 and base64url decoding straight from bytes (a CSV
// chunk) into a caller's buffer: the same rules as fromB64 and fromB64u in
// encoding.ts, without making a string of the cell first. Hot path of the fast
// decryption path (csvcrypt/decrypt-path.ts).

function valueTable(alphabet: string): Int16Array {
  const table = new Int16Array(256).fill(-1);
  for (const [i, c] of [...alphabet].entries()) table[c.charCodeAt(0)] = i;
  return table;
}

const B64 = valueTable('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const B64URL = valueTable('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const PAD = 0x3d;

function decode(table: Int16Array, padded: boolean, src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const len = end - start;
  let pad = 0;
  if (padded) {
    if (len % 4 !== 0) return -1;
    if (len > 0 && src[end - 1] === PAD) pad = src[end - 2] === PAD ? 2 : 1;
  } else if (len % 4 === 1) {
    return -1;
  }
  const dataEnd = end - pad;
  const quadsEnd = start + ((dataEnd - start) & ~3);
  let o = at;
  for (let i = start; i < quadsEnd; i += 4) {
    const a = table[src[i] as number] as number;
    const b = table[src[i + 1] as number] as number;
    const c = table[src[i + 2] as number] as number;
    const d = table[src[i + 3] as number] as number;
    if ((a | b | c | d) < 0) return -1;
    dst[o++] = (a << 2) | (b >> 4);
    dst[o++] = ((b & 15) << 4) | (c >> 2);
    dst[o++] = ((c & 3) << 6) | d;
  }
  const tail = dataEnd - quadsEnd;
  if (tail === 0) return o - at;
  if (tail === 1) return -1;
  const a = table[src[quadsEnd] as number] as number;
  const b = table[src[quadsEnd + 1] as number] as number;
  const c = tail === 3 ? (table[src[quadsEnd + 2] as number] as number) : 0;
  // Canonical: the unused low bits of the last character are zero.
  if ((a | b | c) < 0 || (tail === 2 ? b & 15 : c & 3) !== 0) return -1;
  dst[o++] = (a << 2) | (b >> 4);
  if (tail === 3) dst[o++] = ((b & 15) << 4) | (c >> 2);
  return o - at;
}

/** Canonical padded base64 of src[start, end) into dst at `at`: the number of bytes written, or -1. */
export function decodeB64Into(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  return decode(B64, true, src, start, end, dst, at);
}

/** Canonical unpadded base64url of src[start, end) into dst at `at`: the number of bytes written, or -1. */
export function decodeB64uInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  return decode(B64URL, false, src, start, end, dst, at);
}
