// The fast path for legacy CryptoJS cells (legacy.ts holds the reference).
// CBC decryption is P_i = D_K(C_i) XOR C_(i-1): one AES-ECB decipher per key,
// made once, decrypts every block of a row's cells in a single update() (AES
// stays in OpenSSL, constant-time), and the XOR with the previous block is
// done here. Creating a CBC decipher per cell cost more than the AES itself.
//
// Only the ordinary case is handled: a cell that is not canonical base64 of an
// IV and whole blocks, or whose padding or UTF-8 is wrong, gives undefined, and
// the caller opens it with openLegacy, which reports exactly what it always has.

import { createDecipheriv, type Decipher } from 'node:crypto';
import { decodeB64Into } from '../encoding-bytes.js';
import { utf8Strict } from '../encoding.js';

/** 1 when the last block does not end in valid PKCS#7 padding, computed without branching on its bytes. */
function badPadding(block: Uint8Array, end: number): number {
  const n = block[end - 1] as number;
  // n must be 1..16: (n - 1) and (16 - n) are negative otherwise.
  let bad = ((n - 1) | (16 - n)) >>> 31;
  for (let i = 1; i <= 16; i++) {
    const inPad = (i - 1 - n) >>> 31; // 1 when i <= n
    bad |= -inPad & ((block[end - i] as number) ^ n);
  }
  return bad === 0 ? 0 : 1;
}

export class LegacyBatchOpener {
  private readonly ecb: Decipher;
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];

  constructor(key: Buffer) {
    this.ecb = createDecipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.ecb.setAutoPadding(false);
  }

  /**
   * Opens cells[i] (raw cell bytes, unquoted) into texts[i]; undefined where
   * the reference path must decide (a failure, or anything unusual).
   */
  openAll(cells: readonly Uint8Array[], texts: Array<string | undefined>): void {
    const { offsets, lengths } = this;
    offsets.length = 0;
    lengths.length = 0;
    let need = 0;
    for (const c of cells) need += (c.length >> 2) * 3;
    if (need > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.scratch.length));
    const raw = this.scratch;
    let total = 0;
    for (const c of cells) {
      const n = decodeB64Into(c, 0, c.length, raw, total);
      offsets.push(total);
      lengths.push(n);
      // IV || ciphertext, whole blocks: anything else is judged by the reference path.
      if (n >= 32 && n % 16 === 0) total += n;
    }
    // Every block, IVs included (one wasted block per cell is cheaper than a second update()).
    const plain = total > 0 ? this.ecb.update(raw.subarray(0, total)) : raw.subarray(0, 0);
    for (let k = 0; k < cells.length; k++) {
      const n = lengths[k] as number;
      const at = offsets[k] as number;
      texts[k] = undefined;
      if (n < 32 || n % 16 !== 0) continue;
      for (let i = at + 16; i < at + n; i++) plain[i] = (plain[i] as number) ^ (raw[i - 16] as number);
      if (badPadding(plain, at + n) !== 0) continue;
      texts[k] = utf8Strict(plain.subarray(at + 16, at + n - (plain[at + n - 1] as number)));
    }
  }
}
