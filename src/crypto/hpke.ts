// HPKE (RFC 9180), base mode, for exactly one suite:
//   KEM  0x0020 DHKEM(X25519, HKDF-SHA256)
//   KDF  0x0001 HKDF-SHA256
//   AEAD 0x0001 AES-128-GCM
//
// Why not @hpke/core: it goes through WebCrypto's async API and measured about
// 300 opened responses/s on this project's 2-core machine, against ~6,000/s
// per core for node:crypto directly (see bench/). The analyst's decrypt-csv
// must open tens of thousands of responses per second, so this file
// implements the RFC on node:crypto, checked against the RFC's Appendix A.1.1
// vectors and against @hpke/core itself (tests/hpke.test.ts).
//
// Unlike RFC 9180's stateful context, seal/open take the sequence number
// explicitly: each sheet cell carries its own, so cells can be opened in any
// order and the nonce for sequence number i is base_nonce XOR i (RFC 9180 §5.2).

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

export const KEM_ID = 0x0020;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0001;
const N_SECRET = 32;
const N_K = 16;
const N_N = 12;
const N_H = 32;
export const N_T = 16;
export const N_ENC = 32;

const VERSION = Buffer.from('HPKE-v1');
const KEM_SUITE = Buffer.concat([Buffer.from('KEM'), i2osp(KEM_ID, 2)]);
const HPKE_SUITE = Buffer.concat([Buffer.from('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(AEAD_ID, 2)]);
const EMPTY = Buffer.alloc(0);
const MODE_BASE = 0x00;

export class HpkeError extends Error {
  override readonly name = 'HpkeError';
}

function i2osp(n: number, len: number): Buffer {
  const out = Buffer.alloc(len);
  let v = n;
  for (let i = len - 1; i >= 0 && v > 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

function extract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

function expand(prk: Buffer, info: Buffer, length: number): Buffer {
  // Every length this suite asks for fits in one HMAC-SHA256 block.
  if (length > N_H) throw new HpkeError('expand length too large');
  return createHmac('sha256', prk).update(info).update(Buffer.of(1)).digest().subarray(0, length);
}

function labeledExtract(suite: Buffer, salt: Buffer, label: string, ikm: Buffer): Buffer {
  return extract(salt, Buffer.concat([VERSION, suite, Buffer.from(label), ikm]));
}

function labeledExpand(suite: Buffer, prk: Buffer, label: string, info: Buffer, length: number): Buffer {
  return expand(prk, Buffer.concat([i2osp(length, 2), VERSION, suite, Buffer.from(label), info]), length);
}

/** A recipient's X25519 key pair as node:crypto objects plus the raw public key. */
export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicRaw: Buffer;
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== N_ENC) throw new HpkeError('an X25519 public key is 32 bytes');
  // JWK import is about 10x faster than SPKI DER import in node:crypto.
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'X25519' || typeof jwk.x !== 'string') throw new HpkeError('not an X25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

export function keyPairFromPrivate(privateKey: KeyObject): X25519KeyPair {
  if (privateKey.asymmetricKeyType !== 'x25519') throw new HpkeError('not an X25519 private key');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicRaw: rawPublicKey(publicKey) };
}

/** An OKP JWK needs an "x"; node:crypto imports the private key from "d" alone and derives the real public key. */
const JWK_X_PLACEHOLDER = 'A'.repeat(43);

export function keyPairFromRawPrivate(raw: Uint8Array): X25519KeyPair {
  if (raw.length !== 32) throw new HpkeError('an X25519 private key is 32 bytes');
  // JWK import: PKCS#8 DER import costs ~500 us here (OpenSSL 3 decoders), JWK ~10 us.
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: JWK_X_PLACEHOLDER }, format: 'jwk' });
  const pair = keyPairFromPrivate(privateKey);
  if (pair.publicRaw.toString('base64url') === JWK_X_PLACEHOLDER) throw new HpkeError('X25519 key import failed');
  return pair;
}

/**
 * A fresh key pair from 32 random bytes (RFC 7748: any 32 bytes are a valid
 * X25519 private key). Not generateKeyPairSync: on Node 20 a garbage
 * collection during a JWK export of its key can finalize the key-generation
 * job, whose destructor takes the mutex the export holds, and the process
 * hangs for good (seen in encrypt-csv; gdb: ~KeyGenJob under ExportJWKEdKey).
 */
export function generateKeyPair(): X25519KeyPair {
  return keyPairFromRawPrivate(randomBytes(32));
}

/** DeriveKeyPair (RFC 9180 §7.1.3) for X25519. */
export function deriveKeyPair(ikm: Uint8Array): X25519KeyPair {
  const dkpPrk = labeledExtract(KEM_SUITE, EMPTY, 'dkp_prk', Buffer.from(ikm));
  return keyPairFromRawPrivate(labeledExpand(KEM_SUITE, dkpPrk, 'sk', EMPTY, 32));
}

function dh(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    throw new HpkeError('X25519 failed (invalid public key)');
  }
  // RFC 9180 §7.1.4: reject the all-zero output of a small-order point.
  if (shared.every((b) => b === 0)) throw new HpkeError('X25519 produced the all-zero value');
  return shared;
}

function extractAndExpand(dhValue: Buffer, kemContext: Buffer): Buffer {
  const eaePrk = labeledExtract(KEM_SUITE, EMPTY, 'eae_prk', dhValue);
  return labeledExpand(KEM_SUITE, eaePrk, 'shared_secret', kemContext, N_SECRET);
}

const ksContextCache = new Map<string, Buffer>();

export function keyScheduleContext(info: Buffer): Buffer {
  const cacheKey = info.toString('hex');
  let ctx = ksContextCache.get(cacheKey);
  if (!ctx) {
    const pskIdHash = labeledExtract(HPKE_SUITE, EMPTY, 'psk_id_hash', EMPTY);
    const infoHash = labeledExtract(HPKE_SUITE, EMPTY, 'info_hash', info);
    ctx = Buffer.concat([Buffer.of(MODE_BASE), pskIdHash, infoHash]);
    if (ksContextCache.size < 16) ksContextCache.set(cacheKey, ctx);
  }
  return ctx;
}

/** The AEAD half of an HPKE context; sequence numbers are supplied by the caller. */
export class HpkeContext {
  readonly key: Buffer;
  readonly baseNonce: Buffer;
  private readonly secret: Buffer;
  private readonly ksContext: Buffer;

  constructor(sharedSecret: Buffer, info: Buffer) {
    this.ksContext = keyScheduleContext(info);
    this.secret = labeledExtract(HPKE_SUITE, sharedSecret, 'secret', EMPTY);
    this.key = labeledExpand(HPKE_SUITE, this.secret, 'key', this.ksContext, N_K);
    this.baseNonce = labeledExpand(HPKE_SUITE, this.secret, 'base_nonce', this.ksContext, N_N);
  }

  /** Computed on demand: the envelope does not use the exporter, the KAT tests do. */
  get exporterSecret(): Buffer {
    return labeledExpand(HPKE_SUITE, this.secret, 'exp', this.ksContext, N_H);
  }

  export(exporterContext: Uint8Array, length: number): Buffer {
    return labeledExpand(HPKE_SUITE, this.exporterSecret, 'sec', Buffer.from(exporterContext), length);
  }

  nonce(seq: number): Buffer {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new HpkeError('invalid sequence number');
    const nonce = Buffer.from(this.baseNonce);
    const s = i2osp(seq, N_N);
    for (let i = 0; i < N_N; i++) nonce[i] = (nonce[i] as number) ^ (s[i] as number);
    return nonce;
  }

  seal(seq: number, aad: Uint8Array, plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-128-gcm', this.key, this.nonce(seq));
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([body, cipher.getAuthTag()]);
  }

  /** Returns undefined when authentication fails. */
  open(seq: number, aad: Uint8Array, ciphertext: Uint8Array): Buffer | undefined {
    if (ciphertext.length < N_T) return undefined;
    const decipher = createDecipheriv('aes-128-gcm', this.key, this.nonce(seq));
    decipher.setAAD(aad);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - N_T));
    const body = decipher.update(ciphertext.subarray(0, ciphertext.length - N_T));
    try {
      return Buffer.concat([body, decipher.final()]);
    } catch {
      return undefined;
    }
  }
}

export interface SenderSetup {
  readonly enc: Buffer;
  readonly sharedSecret: Buffer;
  readonly context: HpkeContext;
}

/** SetupBaseS. `ephemeral` is only for known-answer tests; production draws a fresh key. */
export function setupBaseS(recipientPublic: KeyObject, info: Uint8Array, ephemeral?: X25519KeyPair, recipientRaw?: Buffer): SenderSetup {
  const eph = ephemeral ?? generateKeyPair();
  const pkRm = recipientRaw ?? rawPublicKey(recipientPublic);
  const dhValue = dh(eph.privateKey, recipientPublic);
  const enc = eph.publicRaw;
  const sharedSecret = extractAndExpand(dhValue, Buffer.concat([enc, pkRm]));
  return { enc, sharedSecret, context: new HpkeContext(sharedSecret, Buffer.from(info)) };
}

/** SetupBaseR: one X25519 operation. */
export function setupBaseR(enc: Uint8Array, recipient: X25519KeyPair, info: Uint8Array): HpkeContext {
  const encBuf = Buffer.from(enc);
  const dhValue = dh(recipient.privateKey, publicKeyFromRaw(encBuf));
  const sharedSecret = extractAndExpand(dhValue, Buffer.concat([encBuf, recipient.publicRaw]));
  return new HpkeContext(sharedSecret, Buffer.from(info));
}
