// SetupBaseR (hpke.ts) cut down to what the fast decryption path needs of a
// sealed row: the AEAD key and base nonce. Same suite and same RFC 9180
// computations as hpke.ts, which stays the reference (tests/hpke.test.ts
// compares the two); here the labels are joined once per process, the
// encapsulated key is imported from the base64url text the token already
// holds, the five HMACs run in WebAssembly (hmac-fast.ts; the empty salt of
// the first is absorbed once per thread), and nothing else is computed (no
// exporter secret, no context object).

import { createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { WasmHmac } from './hmac-fast.js';
import { keyScheduleContext, type X25519KeyPair } from './hpke.js';

const KEM_SUITE = Buffer.from([0x4b, 0x45, 0x4d, 0x00, 0x20]); // "KEM" || I2OSP(0x0020, 2)
const HPKE_SUITE = Buffer.from([0x48, 0x50, 0x4b, 0x45, 0x00, 0x20, 0x00, 0x01, 0x00, 0x01]); // "HPKE" || KEM, KDF, AEAD ids
const VERSION = Buffer.from('HPKE-v1');
const EMPTY = Buffer.alloc(0);
const ONE = Buffer.of(1);

const labeled = (length: number | undefined, suite: Buffer, label: string): Buffer =>
  Buffer.concat([length === undefined ? EMPTY : Buffer.of(length >> 8, length & 0xff), VERSION, suite, Buffer.from(label)]);

const EAE_PRK = labeled(undefined, KEM_SUITE, 'eae_prk');
const SHARED_SECRET = labeled(32, KEM_SUITE, 'shared_secret');
const SECRET = labeled(undefined, HPKE_SUITE, 'secret');

export interface ReceivedKey {
  /** The AES-128-GCM key. */
  readonly key: Buffer;
  readonly baseNonce: Buffer;
}

/** Per info string: the whole expand message of the key and of the base nonce. */
const expandInfos = new Map<string, { readonly key: Buffer; readonly nonce: Buffer }>();

function infosFor(info: Buffer): { readonly key: Buffer; readonly nonce: Buffer } {
  const cacheKey = info.toString('latin1');
  let infos = expandInfos.get(cacheKey);
  if (!infos) {
    const ks = keyScheduleContext(info);
    infos = { key: Buffer.concat([labeled(16, HPKE_SUITE, 'key'), ks, ONE]), nonce: Buffer.concat([labeled(12, HPKE_SUITE, 'base_nonce'), ks, ONE]) };
    if (expandInfos.size < 16) expandInfos.set(cacheKey, infos);
  }
  return infos;
}

let hmacs: WasmHmac | undefined;
/** State slots: the empty salt's (kept), then the row's current key. */
const EMPTY_SALT = 0;
const ROW_KEY = 1;

function wasmHmac(): WasmHmac {
  if (!hmacs) {
    hmacs = new WasmHmac();
    hmacs.setKey(hmacs.message, 0, hmacs.states(EMPTY_SALT));
  }
  return hmacs;
}

/**
 * The key and base nonce SetupBaseR(enc, recipient, info) gives; `encB64u` is
 * the canonical unpadded base64url of the 32-byte `enc`. Undefined where
 * setupBaseR throws (an invalid or small-order public key).
 */
export function receiveKey(encB64u: string, enc: Uint8Array, recipient: X25519KeyPair, info: Buffer): ReceivedKey | undefined {
  let dh: Buffer;
  try {
    const publicKey: KeyObject = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: encB64u }, format: 'jwk' });
    dh = diffieHellman({ privateKey: recipient.privateKey, publicKey });
  } catch {
    return undefined;
  }
  let any = 0;
  for (let i = 0; i < dh.length; i++) any |= dh[i] as number;
  if (any === 0) return undefined;
  const h = wasmHmac();
  const { bytes, message: msg, out } = h;
  const rowKey = h.states(ROW_KEY);
  // eae_prk = LabeledExtract("", "eae_prk", dh)
  bytes.set(EAE_PRK, msg);
  bytes.set(dh, msg + EAE_PRK.length);
  dh.fill(0);
  h.mac(h.states(EMPTY_SALT), msg, EAE_PRK.length + 32, out);
  h.setKey(out, 32, rowKey);
  // shared_secret = LabeledExpand(eae_prk, "shared_secret", enc || pkRm, 32)
  let at = msg;
  bytes.set(SHARED_SECRET, at);
  bytes.set(enc, (at += SHARED_SECRET.length));
  bytes.set(recipient.publicRaw, (at += enc.length));
  bytes[(at += recipient.publicRaw.length)] = 1;
  h.mac(rowKey, msg, at + 1 - msg, out);
  h.setKey(out, 32, rowKey);
  // secret = LabeledExtract(shared_secret, "secret", "")
  bytes.set(SECRET, msg);
  h.mac(rowKey, msg, SECRET.length, out);
  h.setKey(out, 32, rowKey);
  const infos = infosFor(info);
  bytes.set(infos.key, msg);
  h.mac(rowKey, msg, infos.key.length, out);
  bytes.set(infos.nonce, msg);
  h.mac(rowKey, msg, infos.nonce.length, out + 32);
  const received = { key: Buffer.from(bytes.subarray(out, out + 16)), baseNonce: Buffer.from(bytes.subarray(out + 32, out + 44)) };
  h.wipe(rowKey);
  return received;
}
