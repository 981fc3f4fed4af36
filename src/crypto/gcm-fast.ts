// AES-GCM decryption of many small cells under one key, for the fast
// decryption path (csvcrypt/decrypt-path.ts). node:crypto's aes-*-gcm costs
// ~6 us of set-up per cell; here AES stays in OpenSSL but runs as one ECB
// update() per batch over every cell's counter blocks (J0 for the tag mask,
// inc32(J0)... for the keystream, and optionally the zero block for H), and
// GHASH, the tag check and the keystream xor run in WebAssembly (ghash.wat,
// constant-time: no secret-indexed lookup, no secret-dependent branch).
// Only 96-bit nonces (J0 = nonce || 0^31 || 1), as every ss1 token has.

import type { Cipher } from 'node:crypto';
import { GHASH_WASM_BASE64 } from './ghash-wasm.js';
import { instantiate, type WasmMemory } from './wasm.js';

interface GhashExports {
  readonly memory: WasmMemory;
  set_h(at: number): void;
  open(aad: number, aadLength: number, ct: number, length: number, ks: number): number;
}

const H_AT = 0;
const DATA_AT = 64;
const PAGE = 65_536;
const TAG = 16;

/**
 * One batch of GCM cells under one key. begin(), then per cell room() and
 * add() (the caller writes the cell's AAD and ciphertext||tag into `bytes` at
 * the offset room() gave), then open(); plaintext(i) is valid until the next begin().
 */
export class GcmBatch {
  private readonly wasm = instantiate<GhashExports>(GHASH_WASM_BASE64);
  /** The wasm memory; a new view after it grows. */
  bytes = new Uint8Array(this.wasm.memory.buffer);
  private counters = Buffer.allocUnsafeSlow(4096);
  private blocks = 0;
  private cursor = DATA_AT;
  /** Per cell: AAD offset, AAD length, ciphertext offset, plaintext length, first counter block. */
  private readonly cells: number[] = [];
  private hFromBatch = false;

  /** Starts a batch; `deriveH`: H = E(K, 0^128) comes from this batch's update() (a key used once). */
  begin(deriveH: boolean): void {
    this.cells.length = 0;
    this.cursor = DATA_AT;
    this.blocks = 0;
    this.hFromBatch = deriveH;
    if (deriveH) {
      this.counters.fill(0, 0, 16);
      this.blocks = 1;
    }
  }

  /** Where the next cell's AAD and ciphertext||tag go; `bytes` holds at least `length` bytes from there. */
  room(length: number): number {
    this.reserve(this.cursor + length);
    return this.cursor;
  }

  /**
   * The cell written at room()'s offset: `aadLength` bytes of AAD then
   * `ctLength` bytes of ciphertext and tag. The 96-bit nonce is nonce[at, at+12),
   * its last byte xored with `lastXor` (HPKE's base_nonce XOR seq, seq < 256).
   */
  add(aadLength: number, ctLength: number, nonce: Uint8Array, at: number, lastXor: number): boolean {
    if (ctLength < TAG) return false;
    const length = ctLength - TAG;
    const aad = this.cursor;
    this.cells.push(aad, aadLength, aad + aadLength, length, this.blocks);
    this.cursor = aad + aadLength + ctLength;
    const n = 1 + Math.ceil(length / 16);
    const c = this.growCounters((this.blocks + n) * 16);
    let o = this.blocks * 16;
    for (let b = 1; b <= n; b++, o += 16) {
      for (let i = 0; i < 11; i++) c[o + i] = nonce[at + i] as number;
      c[o + 11] = (nonce[at + 11] as number) ^ lastXor;
      c.writeUInt32BE(b, o + 12);
    }
    this.blocks += n;
    return true;
  }

  /** Decrypts every cell in place; false if any tag is wrong (then nothing is to be read). */
  open(ecb: Cipher, h?: Uint8Array): boolean {
    const keystream = ecb.update(this.counters.subarray(0, this.blocks * 16));
    if (keystream.length !== this.blocks * 16) return false;
    const ks = this.cursor + (-this.cursor & 15);
    this.reserve(ks + keystream.length);
    const bytes = this.bytes;
    bytes.set(keystream, ks);
    keystream.fill(0);
    if (this.hFromBatch) bytes.copyWithin(H_AT, ks, ks + 16);
    else if (h) bytes.set(h, H_AT);
    else return false;
    this.wasm.set_h(H_AT);
    let ok = true;
    const cells = this.cells;
    for (let i = 0; i < cells.length && ok; i += 5) {
      ok = this.wasm.open(cells[i] as number, cells[i + 1] as number, cells[i + 2] as number, cells[i + 3] as number, ks + 16 * (cells[i + 4] as number)) === 1;
    }
    bytes.fill(0, ks, ks + keystream.length);
    bytes.fill(0, H_AT, H_AT + 16);
    return ok;
  }

  get size(): number {
    return this.cells.length / 5;
  }

  /** The plaintext of cell i after a successful open(). */
  plaintext(i: number): Uint8Array {
    const at = this.cells[5 * i + 2] as number;
    return this.bytes.subarray(at, at + (this.cells[5 * i + 3] as number));
  }

  private reserve(end: number): void {
    const memory = this.wasm.memory;
    if (end > memory.buffer.byteLength) {
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
      this.bytes = new Uint8Array(memory.buffer);
    }
  }

  private growCounters(need: number): Buffer {
    if (need > this.counters.length) {
      const bigger = Buffer.allocUnsafeSlow(2 * need);
      this.counters.copy(bigger, 0, 0, this.blocks * 16);
      this.counters = bigger;
    }
    return this.counters;
  }
}
