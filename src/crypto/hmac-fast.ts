// HMAC-SHA256 in WebAssembly (sha256.wat) for the fast HPKE key schedule
// (hpke-receive.ts): node:crypto's createHmac costs ~2 us per call in object
// set-up for inputs of under 100 bytes. Keys are absorbed once into inner and
// outer states, so a fixed key costs nothing per use.

import { SHA256_WASM_BASE64 } from './sha256-wasm.js';
import { instantiate, type WasmMemory } from './wasm.js';

interface Sha256Exports {
  readonly memory: WasmMemory;
  hmac_key(key: number, length: number, states: number): void;
  hmac(states: number, msg: number, length: number, out: number): void;
  wipe(): void;
}

/** Below this the module keeps its constants and scratch. */
const FREE_AT = 1024;
const STATES_BYTES = 64;
export const MAX_MESSAGE = 1024;

/**
 * One wasm instance: key states, a message area and outputs addressed by
 * offsets into `bytes`. Messages are written into `bytes` at `message` by the caller.
 */
export class WasmHmac {
  private readonly wasm = instantiate<Sha256Exports>(SHA256_WASM_BASE64);
  readonly bytes = new Uint8Array(this.wasm.memory.buffer);
  /** Where the caller writes messages (MAX_MESSAGE bytes) and keys. */
  readonly message = FREE_AT + 4 * STATES_BYTES;
  /** Four 32-byte output slots follow the message area. */
  readonly out = this.message + MAX_MESSAGE;

  /** Offset of key state slot i (0..3). */
  states(i: number): number {
    return FREE_AT + i * STATES_BYTES;
  }

  /** Absorbs the key bytes[at, at + length) (at most 64 bytes) into state slot `states`. */
  setKey(at: number, length: number, states: number): void {
    if (length > 64) throw new RangeError('HMAC keys here are at most 64 bytes');
    this.wasm.hmac_key(at, length, states);
  }

  /** HMAC of bytes[msg, msg + length) under the key in `states`, into bytes[out, out + 32). */
  mac(states: number, msg: number, length: number, out: number): void {
    if (length > MAX_MESSAGE) throw new RangeError('message too long');
    this.wasm.hmac(states, msg, length, out);
  }

  /** Zeroes the key states, messages, outputs and the module's scratch, all of which held secrets. */
  wipe(from = FREE_AT): void {
    this.bytes.fill(0, from, this.out + 128);
    this.wasm.wipe();
  }
}
