// The fast legacy opener against the reference (openLegacy): same text for
// every cell the reference opens, and never a text where the reference fails.
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromB64, fromB64u } from '../src/encoding.js';
import { openLegacy } from '../src/envelope/index.js';
import { decodeB64Into, decodeB64uInto } from '../src/encoding-bytes.js';
import { LegacyBatchOpener } from '../src/envelope/legacy-batch.js';
import { prng } from '../src/dev/prng.js';

function reference(cell: string, key: Buffer): string | undefined {
  try {
    return openLegacy(cell, key);
  } catch {
    return undefined;
  }
}

function legacyCell(key: Buffer, plaintext: Buffer, iv: Buffer): string {
  const c = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return Buffer.concat([iv, c.update(plaintext), c.final()]).toString('base64');
}

const TEXTS = ['', 'a', 'María José Ñúñez', '+254700123456', 'Plot 12, Moi Avenue, Nairobi', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(33), '👍 Gracias — todo bien', '\ufeffBOM kept'];

describe('LegacyBatchOpener', () => {
  it('opens the cells of a row exactly as openLegacy does, for AES-128, -192 and -256 keys', () => {
    for (const size of [16, 24, 32]) {
      const key = randomBytes(size);
      const cells = TEXTS.map((t) => legacyCell(key, Buffer.from(t), randomBytes(16)));
      const texts: Array<string | undefined> = [];
      new LegacyBatchOpener(key).openAll(cells.map((c) => Buffer.from(c, 'latin1')), texts);
      expect(texts).toEqual(TEXTS);
      expect(cells.map((c) => openLegacy(c, key))).toEqual(TEXTS);
    }
  });

  it('never gives a text where the reference fails, and the reference text where it succeeds, on mutated cells', () => {
    const next = prng(14);
    const key = randomBytes(16);
    const opener = new LegacyBatchOpener(key);
    let agreed = 0;
    let refused = 0;
    for (let round = 0; round < 400; round++) {
      const cells: string[] = [];
      for (let k = 0; k < 4; k++) {
        const bytes = Buffer.from(legacyCell(key, Buffer.from(TEXTS[Math.floor(next() * TEXTS.length)] as string), randomBytes(16)), 'base64');
        const kind = Math.floor(next() * 6);
        const flip = (at: number, bits: number) => (bytes[at] = (bytes[at] as number) ^ bits);
        if (kind === 1) flip(Math.floor(next() * bytes.length), 1 << Math.floor(next() * 8)); // any byte: IV, body or padding
        if (kind === 2) flip(bytes.length - 1, 1 + Math.floor(next() * 255)); // the padding block
        let text = bytes.toString('base64');
        if (kind === 3) text = text.slice(0, Math.floor(next() * text.length)); // cut short
        if (kind === 4) text = ` ${text}`; // white space: only the reference trims
        if (kind === 5) text = text.replace(/=$/, '') + (next() < 0.5 ? '=' : 'B=');
        cells.push(text);
      }
      const texts: Array<string | undefined> = [];
      opener.openAll(cells.map((c) => Buffer.from(c, 'latin1')), texts);
      cells.forEach((cell, i) => {
        const ref = reference(cell, key);
        if (texts[i] === undefined) refused++;
        else {
          expect(texts[i]).toBe(ref);
          agreed++;
        }
        if (ref === undefined) expect(texts[i]).toBeUndefined();
      });
    }
    // Both outcomes were exercised.
    expect(agreed).toBeGreaterThan(400);
    expect(refused).toBeGreaterThan(200);
  });

  it('decodes base64 and base64url from bytes exactly when fromB64 and fromB64u do, to the same bytes', () => {
    const next = prng(7);
    const out = Buffer.alloc(64);
    for (const [alphabet, reference, decode, encoding] of [
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_. ', fromB64, decodeB64Into, 'base64'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. ', fromB64u, decodeB64uInto, 'base64url'],
    ] as const) {
      for (let i = 0; i < 5000; i++) {
        const n = Math.floor(next() * 24);
        let s = '';
        for (let k = 0; k < n; k++) s += alphabet[Math.floor(next() * (next() < 0.9 ? 64 : alphabet.length))];
        if (next() < 0.3) s = randomBytes(Math.floor(next() * 16)).toString(encoding);
        const expected = reference(s);
        const got = decode(Buffer.from(s, 'latin1'), 0, s.length, out, 3);
        if (expected === undefined) expect(got, s).toBe(-1);
        else expect(out.subarray(3, 3 + got), s).toEqual(expected);
      }
    }
  });
});
