// The fast path for the ss1 tokens of one sheet row (Opener.openResponse in
// open.ts is the reference). Tokens are read as bytes where they sit in the CSV
// chunk: no string per token; each cell's associated data and ciphertext go
// straight into one GcmBatch (crypto/gcm-fast.ts) per row, opened with one
// OpenSSL ECB update() for all the row's counter blocks and a constant-time
// WebAssembly GHASH: shared mode keeps one ECB cipher per key for the run,
// sealed mode makes one per row from the row's HPKE key.
//
// Only a row in which every token parses, authenticates, is UTF-8, sits in its
// column, matches the row's execution and shares one response is opened here;
// a row whose tokens mix modes or keys is not opened here either;
// for anything else openRow gives undefined and the caller runs the reference
// code on the whole row, which alone decides and words what is wrong.

import { createCipheriv, createSecretKey, type Cipher } from 'node:crypto';
import { GcmBatch } from '../crypto/gcm-fast.js';
import { receiveKey, type ReceivedKey } from '../crypto/hpke-receive.js';
import { decodeB64uInto } from '../encoding-bytes.js';
import { utf8Strict } from '../encoding.js';
import type { Keyring } from '../keys/keys.js';
import { fieldMatchesColumn, HPKE_INFO, MAX_FIELDS } from './token.js';

const DOT = 0x2e;
const MAX_TOKEN_LENGTH = 24_000;
const PREFIX = [0x73, 0x73, 0x31, 0x2e]; // "ss1."

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
/** [A-Za-z_][A-Za-z0-9_]{0,63} */
function isFieldName(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 1 || len > 64) return false;
  const first = b[start] as number;
  if (first >= 0x30 && first <= 0x39) return false;
  for (let i = start; i < end; i++) if (!isAlnum(b[i] as number)) return false;
  return true;
}
/** [A-Za-z0-9_-]{1,64} */
function isExecutionId(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 1 || len > 64) return false;
  for (let i = start; i < end; i++) if (!isAlnum(b[i] as number) && b[i] !== 0x2d) return false;
  return true;
}
/** 0 | [1-9][0-9]? below MAX_FIELDS, or -1. */
function seqOf(b: Uint8Array, start: number, end: number): number {
  const len = end - start;
  const d0 = (b[start] as number) - 0x30;
  if (len === 1 && d0 >= 0 && d0 <= 9) return d0;
  const d1 = (b[start + 1] as number) - 0x30;
  if (len === 2 && d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d0 * 10 + d1 < MAX_FIELDS) return d0 * 10 + d1;
  return -1;
}

const latin1 = (b: Buffer, start: number, end: number): string => b.toString('latin1', start, end);

const sameBytes = (a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean => {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
};

export interface FastRow {
  /** The decrypted value of each token, in order. */
  readonly values: string[];
  /** The response all the row's tokens share. */
  readonly binding: string;
}

export class FastTokenOpener {
  /** Per kid.enc: the key and base nonce of a response, for its other rows (a voice survey's answers). */
  private readonly contexts = new Map<string, ReceivedKey>();
  private readonly sharedKeys = new Map<string, { readonly ecb: Cipher; readonly h: Buffer }>();
  private readonly batch = new GcmBatch();
  /** fieldMatchesColumn, remembered per (column, field). */
  private readonly fieldFits = new Map<string, boolean>();
  /** [0, 32) the binding bytes, [32, 44) a shared token's nonce. */
  private readonly scratch = Buffer.allocUnsafeSlow(64);
  private readonly dots: number[] = [];

  constructor(
    private readonly keyring: Keyring,
    private readonly cacheSize = 256,
  ) {}

  /**
   * Opens the tokens of a row (raw cell bytes, unquoted) sitting in `columns`;
   * undefined unless all of them open and pass the row checks of openResponse.
   */
  openRow(cells: readonly Buffer[], columns: readonly string[], checkFieldNames: boolean, executionSid: string | undefined): FastRow | undefined {
    let binding: Buffer | undefined;
    let bindingStart = 0;
    let bindingEnd = 0;
    let rowSealed = false;
    let rowKid = '';
    let kidStart = 0;
    let context: ReceivedKey | undefined;
    const batch = this.batch;
    const scratch = this.scratch;
    for (let i = 0; i < cells.length; i++) {
      const t = cells[i] as Buffer;
      const d = this.dots;
      if (!this.split(t, d)) return undefined;
      const sealed = t[4] === 0x70;
      const bound = d.length === 7;
      const fieldStart = (d[2] as number) + 1;
      const fieldEnd = d[3] as number;
      if (!isFieldName(t, fieldStart, fieldEnd)) return undefined;
      if (checkFieldNames && !this.fits(columns[i] as string, t, fieldStart, fieldEnd)) return undefined;
      let at = 3;
      if (bound) {
        if (!isExecutionId(t, (d[3] as number) + 1, d[4] as number)) return undefined;
        if (executionSid !== undefined && !sameBytesAsText(t, (d[3] as number) + 1, d[4] as number, executionSid)) return undefined;
        at = 4;
      }
      const bStart = (d[at] as number) + 1;
      const bEnd = d[at + 1] as number;
      const sixthEnd = d[at + 2] as number;
      const last = d[d.length - 1] as number;
      if (binding === undefined) {
        // One key for the whole row (one batch); a row mixing modes or keys is the reference's.
        binding = t;
        bindingStart = bStart;
        bindingEnd = bEnd;
        rowSealed = sealed;
        kidStart = (d[1] as number) + 1;
        rowKid = latin1(t, kidStart, d[2] as number);
        if (sealed) {
          if (decodeB64uInto(t, bStart, bEnd, scratch, 0) !== 32) return undefined;
          context = this.context(rowKid, t, bStart, bEnd, scratch.subarray(0, 32));
          if (!context) return undefined;
        } else {
          if (!this.keyring.shared.has(rowKid)) return undefined;
          if (decodeB64uInto(t, bStart, bEnd, scratch, 0) !== 16) return undefined;
        }
        batch.begin(sealed);
      } else if (sealed !== rowSealed || !sameBytes(t, bStart, bEnd, binding, bindingStart, bindingEnd) || !sameBytes(t, (d[1] as number) + 1, d[2] as number, binding, kidStart, kidStart + 8)) {
        return undefined;
      }
      // AAD then ciphertext||tag into the batch (the base64 is longer than the bytes it decodes to).
      const aadLength = last + 1;
      const room = batch.room(aadLength + t.length - last);
      const bytes = batch.bytes;
      bytes.set(t.subarray(0, aadLength), room);
      const ctLength = decodeB64uInto(t, last + 1, t.length, bytes, room + aadLength);
      if (ctLength < 0) return undefined;
      if (sealed) {
        const seq = seqOf(t, bEnd + 1, sixthEnd);
        if (seq < 0 || !batch.add(aadLength, ctLength, (context as ReceivedKey).baseNonce, 0, seq)) return undefined;
      } else {
        if (decodeB64uInto(t, bEnd + 1, sixthEnd, scratch, 32) !== 12) return undefined;
        if (!batch.add(aadLength, ctLength, scratch, 32, 0)) return undefined;
      }
    }
    if (!binding) return undefined;
    const opened = rowSealed ? batch.open(this.rowCipher(context as ReceivedKey)) : this.openShared(rowKid);
    if (!opened) return undefined;
    const values: string[] = [];
    for (let i = 0; i < batch.size; i++) {
      const value = utf8Strict(batch.plaintext(i));
      if (value === undefined) return undefined;
      values.push(value);
    }
    return { values, binding: latin1(binding, bindingStart, bindingEnd) };
  }

  /** The dots of a well-formed token: positions of the 7 or 8 parts' separators, last before <ct>. */
  private split(t: Uint8Array, d: number[]): boolean {
    d.length = 0;
    if (t.length > MAX_TOKEN_LENGTH || t.length < 8) return false;
    for (let i = 0; i < 4; i++) if (t[i] !== PREFIX[i]) return false;
    const m0 = t[4];
    const m1 = t[5];
    if ((m0 !== 0x70 && m0 !== 0x73) || m1 !== 0x6b) return false;
    const bound = t[6] === 0x78;
    const modeEnd = bound ? 7 : 6;
    if (t[modeEnd] !== DOT) return false;
    d.push(3, modeEnd);
    const parts = bound ? 8 : 7;
    for (let i = modeEnd + 1; i < t.length; i++) {
      if (t[i] !== DOT) continue;
      if (d.length === parts - 1) return false;
      d.push(i);
    }
    if (d.length !== parts - 1) return false;
    // kid: 8 lower-case hex digits.
    if ((d[2] as number) - (d[1] as number) !== 9) return false;
    for (let i = (d[1] as number) + 1; i < (d[2] as number); i++) if (!isHex(t[i] as number)) return false;
    return true;
  }

  private context(kid: string, t: Buffer, bStart: number, bEnd: number, enc: Buffer): ReceivedKey | undefined {
    const pair = this.keyring.sealed.get(kid);
    if (!pair) return undefined;
    const encText = latin1(t, bStart, bEnd);
    const cacheKey = `${kid}.${encText}`;
    let context = this.contexts.get(cacheKey);
    if (!context) {
      context = receiveKey(encText, enc, pair, HPKE_INFO);
      if (!context) return undefined;
      if (this.contexts.size >= this.cacheSize) {
        const oldest = this.contexts.keys().next().value;
        if (oldest !== undefined) this.contexts.delete(oldest);
      }
      this.contexts.set(cacheKey, context);
    }
    return context;
  }

  /** Opens the staged shared-mode row: one ECB cipher and H per key for the whole run. */
  private openShared(kid: string): boolean {
    let key = this.sharedKeys.get(kid);
    if (!key) {
      const raw = this.keyring.shared.get(kid);
      if (!raw) return false;
      const ecb = createCipheriv('aes-256-ecb', createSecretKey(raw), null);
      ecb.setAutoPadding(false);
      key = { ecb, h: ecb.update(Buffer.alloc(16)) };
      this.sharedKeys.set(kid, key);
    }
    return this.batch.open(key.ecb, key.h);
  }

  /** A sealed row's cipher: its HPKE key, used for this row's cells alone. */
  private rowCipher(context: ReceivedKey): Cipher {
    const ecb = createCipheriv('aes-128-ecb', context.key, null);
    ecb.setAutoPadding(false);
    return ecb;
  }

  private fits(column: string, t: Buffer, start: number, end: number): boolean {
    const field = latin1(t, start, end);
    if (field === column) return true;
    const key = `${column}\u0000${field}`;
    let fits = this.fieldFits.get(key);
    if (fits === undefined) {
      fits = fieldMatchesColumn(field, column);
      if (this.fieldFits.size < 4096) this.fieldFits.set(key, fits);
    }
    return fits;
  }
}

function sameBytesAsText(b: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[start + i] !== text.charCodeAt(i)) return false;
  return true;
}
