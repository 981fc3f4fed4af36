// The ECB-keystream + WebAssembly GHASH decryption (src/crypto/gcm-fast.ts)
// against node:crypto's AES-GCM, and the committed wasm bytes against a fresh
// compile of ghash.wat.
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GcmBatch } from '../src/crypto/gcm-fast.js';
import { compileGhash, MODULE_PATH, moduleText } from '../tools/build-ghash.js';

const LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 47, 63, 64, 100, 255, 1000, 4097];

function seal(bits: 128 | 256, key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv(`aes-${bits}-gcm`, key, nonce);
  c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function ecb(bits: 128 | 256, key: Buffer) {
  const c = createCipheriv(`aes-${bits}-ecb`, createSecretKey(key), null);
  c.setAutoPadding(false);
  return c;
}

interface Cell {
  aad: Buffer;
  ct: Buffer;
  nonce: Buffer;
  plaintext: Buffer;
}

function stage(batch: GcmBatch, cells: Cell[], deriveH: boolean): void {
  batch.begin(deriveH);
  for (const c of cells) {
    const at = batch.room(c.aad.length + c.ct.length);
    batch.bytes.set(c.aad, at);
    batch.bytes.set(c.ct, at + c.aad.length);
    expect(batch.add(c.aad.length, c.ct.length, c.nonce, 0, 0)).toBe(true);
  }
}

function cellsFor(bits: 128 | 256, key: Buffer, lengths: number[]): Cell[] {
  return lengths.map((n, i) => {
    const aad = randomBytes(LENGTHS[(i * 7) % LENGTHS.length] as number);
    const nonce = randomBytes(12);
    const plaintext = randomBytes(n);
    return { aad, nonce, plaintext, ct: seal(bits, key, nonce, aad, plaintext) };
  });
}

describe('GcmBatch', () => {
  for (const bits of [128, 256] as const) {
    it(`opens AES-${bits}-GCM cells of every length exactly as node:crypto seals them`, () => {
      const batch = new GcmBatch();
      for (let round = 0; round < 20; round++) {
        const key = randomBytes(bits / 8);
        const cells = cellsFor(bits, key, LENGTHS);
        const deriveH = round % 2 === 0;
        stage(batch, cells, deriveH);
        const cipher = ecb(bits, key);
        const h = deriveH ? undefined : cipher.update(Buffer.alloc(16));
        expect(batch.open(cipher, h)).toBe(true);
        cells.forEach((c, i) => expect(Buffer.from(batch.plaintext(i))).toEqual(c.plaintext));
      }
    });
  }

  it('xors the last nonce byte for HPKE sequence numbers', () => {
    const key = randomBytes(16);
    const base = randomBytes(12);
    const nonce = Buffer.from(base);
    nonce[11] = (nonce[11] as number) ^ 5;
    const plaintext = Buffer.from('sequence five');
    const ct = seal(128, key, nonce, Buffer.from('aad'), plaintext);
    const batch = new GcmBatch();
    batch.begin(true);
    const at = batch.room(3 + ct.length);
    batch.bytes.set(Buffer.from('aad'), at);
    batch.bytes.set(ct, at + 3);
    batch.add(3, ct.length, base, 0, 5);
    expect(batch.open(ecb(128, key))).toBe(true);
    expect(Buffer.from(batch.plaintext(0)).toString()).toBe('sequence five');
  });

  it('refuses any flipped bit of AAD, ciphertext or tag, a wrong nonce and a wrong key', () => {
    const key = randomBytes(32);
    const batch = new GcmBatch();
    for (const n of [0, 1, 16, 17, 40]) {
      const [cell] = cellsFor(256, key, [n]) as [Cell];
      const total = cell.aad.length + cell.ct.length;
      for (let bit = 0; bit < total * 8; bit += 3) {
        const aad = Buffer.from(cell.aad);
        const ct = Buffer.from(cell.ct);
        const byte = bit >> 3;
        if (byte < aad.length) aad[byte] = (aad[byte] as number) ^ (1 << (bit & 7));
        else ct[byte - aad.length] = (ct[byte - aad.length] as number) ^ (1 << (bit & 7));
        stage(batch, [{ ...cell, aad, ct }], true);
        expect(batch.open(ecb(256, key))).toBe(false);
      }
      const nonce = Buffer.from(cell.nonce);
      nonce[0] = (nonce[0] as number) ^ 1;
      stage(batch, [{ ...cell, nonce }], true);
      expect(batch.open(ecb(256, key))).toBe(false);
      stage(batch, [cell], true);
      expect(batch.open(ecb(256, randomBytes(32)))).toBe(false);
      stage(batch, [cell], true);
      expect(batch.open(ecb(256, key))).toBe(true);
    }
  });

  it('refuses a batch in which one cell of many is altered, and a cell shorter than a tag', () => {
    const key = randomBytes(32);
    const cells = cellsFor(256, key, [5, 20, 33]);
    const bad = cells[1] as Cell;
    bad.ct[bad.ct.length - 1] = (bad.ct[bad.ct.length - 1] as number) ^ 0x80;
    const batch = new GcmBatch();
    stage(batch, cells, true);
    expect(batch.open(ecb(256, key))).toBe(false);
    batch.begin(true);
    expect(batch.add(0, 15, randomBytes(12), 0, 0)).toBe(false);
  });

  it('grows its memory for a batch larger than its first pages', () => {
    const key = randomBytes(32);
    const cells = cellsFor(256, key, Array.from({ length: 12 }, () => 20_000));
    const batch = new GcmBatch();
    stage(batch, cells, true);
    expect(batch.open(ecb(256, key))).toBe(true);
    cells.forEach((c, i) => expect(Buffer.from(batch.plaintext(i))).toEqual(c.plaintext));
  });

  it('runs the wasm compiled from the committed ghash.wat (tools/build-ghash.ts)', async () => {
    expect(readFileSync(MODULE_PATH, 'utf8')).toBe(moduleText(await compileGhash()));
  });
});
