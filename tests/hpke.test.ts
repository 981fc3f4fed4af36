import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { describe, expect, it } from 'vitest';
import { WasmHmac } from '../src/crypto/hmac-fast.js';
import { receiveKey } from '../src/crypto/hpke-receive.js';
import { SHA256_MODULE_PATH, sha256ModuleText } from '../tools/build-ghash.js';
import { deriveKeyPair, generateKeyPair, HpkeError, keyPairFromRawPrivate, setupBaseR, setupBaseS } from '../src/crypto/hpke.js';

const v = JSON.parse(readFileSync(new URL('./vectors/rfc9180-a.1.1.json', import.meta.url), 'utf8'));
const hex = (s: string) => Buffer.from(s, 'hex');

describe('HPKE, RFC 9180 Appendix A.1.1 (X25519, HKDF-SHA256, AES-128-GCM, base mode)', () => {
  it('derives the vector key pairs from ikmE and ikmR', () => {
    const eph = deriveKeyPair(hex(v.ikmE));
    const rec = deriveKeyPair(hex(v.ikmR));
    expect(eph.publicRaw.toString('hex')).toBe(v.pkEm);
    expect(rec.publicRaw.toString('hex')).toBe(v.pkRm);
    expect(keyPairFromRawPrivate(hex(v.skRm)).publicRaw.toString('hex')).toBe(v.pkRm);
  });

  it('sender side matches enc, shared_secret, key schedule, every encryption and export', () => {
    const eph = keyPairFromRawPrivate(hex(v.skEm));
    const rec = keyPairFromRawPrivate(hex(v.skRm));
    const { enc, sharedSecret, context } = setupBaseS(rec.publicKey, hex(v.info), eph);
    expect(enc.toString('hex')).toBe(v.enc);
    expect(sharedSecret.toString('hex')).toBe(v.shared_secret);
    expect(context.key.toString('hex')).toBe(v.key);
    expect(context.baseNonce.toString('hex')).toBe(v.base_nonce);
    expect(context.exporterSecret.toString('hex')).toBe(v.exporter_secret);
    for (const e of v.encryptions) {
      expect(context.nonce(e.seq).toString('hex')).toBe(e.nonce);
      expect(context.seal(e.seq, hex(e.aad), hex(e.pt)).toString('hex')).toBe(e.ct);
    }
    for (const x of v.exports) {
      expect(context.export(hex(x.exporter_context), x.L).toString('hex')).toBe(x.exported_value);
    }
  });

  it('recipient side opens every vector ciphertext, in any order', () => {
    const context = setupBaseR(hex(v.enc), keyPairFromRawPrivate(hex(v.skRm)), hex(v.info));
    for (const e of [...v.encryptions].reverse()) {
      expect(context.open(e.seq, hex(e.aad), hex(e.ct))?.toString('hex')).toBe(e.pt);
    }
    const e0 = v.encryptions[0];
    expect(context.open(1, hex(e0.aad), hex(e0.ct))).toBeUndefined();
    expect(context.open(0, hex('00'), hex(e0.ct))).toBeUndefined();
  });

  it('rejects an encapsulation that is a small-order point (all-zero shared secret)', () => {
    expect(() => setupBaseR(Buffer.alloc(32), generateKeyPair(), hex(v.info))).toThrow(HpkeError);
  });
});

describe('HPKE interoperates with @hpke/core, an independent implementation', () => {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  const info = Buffer.from('sealed-survey ss1');
  const ab = (b: Uint8Array) => new Uint8Array(b).buffer;

  it('opens what @hpke/core seals', async () => {
    const rec = generateKeyPair();
    const pk = await suite.kem.deserializePublicKey(ab(rec.publicRaw));
    const sender = await suite.createSenderContext({ recipientPublicKey: pk, info: ab(info) });
    const c0 = await sender.seal(ab(Buffer.from('première')), ab(Buffer.from('aad0')));
    const c1 = await sender.seal(ab(Buffer.from('🌍 second')), ab(Buffer.from('aad1')));
    const ctx = setupBaseR(new Uint8Array(sender.enc), rec, info);
    expect(ctx.open(1, Buffer.from('aad1'), new Uint8Array(c1))?.toString()).toBe('🌍 second');
    expect(ctx.open(0, Buffer.from('aad0'), new Uint8Array(c0))?.toString()).toBe('première');
  });

  it('seals what @hpke/core opens', async () => {
    const kp = await suite.kem.generateKeyPair();
    const pkRaw = Buffer.from(await suite.kem.serializePublicKey(kp.publicKey));
    const rec = { publicKey: (await import('../src/crypto/hpke.js')).publicKeyFromRaw(pkRaw) };
    const { enc, context } = setupBaseS(rec.publicKey, info);
    const recipient = await suite.createRecipientContext({ recipientKey: kp.privateKey, enc: ab(enc), info: ab(info) });
    const pt0 = await recipient.open(ab(context.seal(0, Buffer.from('a'), Buffer.from('zero'))), ab(Buffer.from('a')));
    const pt1 = await recipient.open(ab(context.seal(1, Buffer.from('b'), Buffer.from('one'))), ab(Buffer.from('b')));
    expect(Buffer.from(pt0).toString()).toBe('zero');
    expect(Buffer.from(pt1).toString()).toBe('one');
  });
});

describe('receiveKey, the fast path\'s SetupBaseR', () => {
  it('gives the RFC 9180 A.1.1 key and base nonce', () => {
    const rec = keyPairFromRawPrivate(hex(v.skRm));
    const got = receiveKey(hex(v.enc).toString('base64url'), hex(v.enc), rec, hex(v.info));
    expect(got?.key.toString('hex')).toBe(v.key);
    expect(got?.baseNonce.toString('hex')).toBe(v.base_nonce);
  });

  it('gives what setupBaseR gives for random senders and infos, and refuses a small-order key', () => {
    const rec = generateKeyPair();
    for (let i = 0; i < 50; i++) {
      const info = Buffer.from(`info ${i % 3}`);
      const { enc } = setupBaseS(rec.publicKey, info);
      const reference = setupBaseR(enc, rec, info);
      const got = receiveKey(enc.toString('base64url'), enc, rec, info);
      expect(got?.key).toEqual(reference.key);
      expect(got?.baseNonce).toEqual(reference.baseNonce);
    }
    const zero = Buffer.alloc(32);
    expect(() => setupBaseR(zero, rec, Buffer.alloc(0))).toThrow(HpkeError);
    expect(receiveKey(zero.toString('base64url'), zero, rec, Buffer.alloc(0))).toBeUndefined();
  });
});

describe('WasmHmac, the WebAssembly HMAC-SHA256 of receiveKey', () => {
  it('matches node:crypto for every key length up to 64 and messages across the padding boundaries', () => {
    const h = new WasmHmac();
    const states = h.states(2);
    for (let keyLength = 0; keyLength <= 64; keyLength += keyLength < 40 ? 1 : 8) {
      const key = randomBytes(keyLength);
      h.bytes.set(key, h.message);
      h.setKey(h.message, keyLength, states);
      for (const length of [0, 1, 31, 55, 56, 63, 64, 65, 88, 95, 119, 120, 127, 128, 129, 300, 1024]) {
        const msg = randomBytes(length);
        h.bytes.set(msg, h.message);
        h.mac(states, h.message, length, h.out);
        expect(Buffer.from(h.bytes.subarray(h.out, h.out + 32)).toString('hex')).toBe(createHmac('sha256', key).update(msg).digest('hex'));
      }
    }
  });

  it('refuses keys over 64 bytes and overlong messages, and wipes what it held', () => {
    const h = new WasmHmac();
    expect(() => h.setKey(h.message, 65, h.states(0))).toThrow(RangeError);
    expect(() => h.mac(h.states(0), h.message, 1025, h.out)).toThrow(RangeError);
    h.bytes.fill(7, h.states(0), h.out + 32);
    h.wipe();
    expect(h.bytes.subarray(h.states(0), h.out + 128).every((b) => b === 0)).toBe(true);
  });

  it('runs the wasm compiled from the committed sha256.wat (tools/build-ghash.ts)', async () => {
    expect(readFileSync(SHA256_MODULE_PATH, 'utf8')).toBe(await sha256ModuleText());
  });
});
