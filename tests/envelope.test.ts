import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import CryptoJS from 'crypto-js';
import { describe, expect, it } from 'vitest';
import { deriveKeyPair } from '../src/crypto/hpke.js';
import { EnvelopeError, MAX_VALUE_BYTES, Opener, SealInputError, legacyKey, openLegacy, sealResponse, type SealRandomness } from '../src/envelope/index.js';
import { keyringOf, newSealedKeyPair, newSharedKey, parsePrivateKeyPem, parseSharedKey, recipientOf, formatSharedKey } from '../src/keys/keys.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/envelope.json', import.meta.url), 'utf8'));
const sealedKey = parsePrivateKeyPem(vectors.sealed.private_key_pem);
const sharedKey = parseSharedKey(vectors.shared.key);

function replay(drawn: string[], ikmE?: string): SealRandomness {
  const queue = [...drawn];
  return {
    ephemeralKeyPair: () => deriveKeyPair(Buffer.from(ikmE as string, 'hex')),
    bytes: () => Buffer.from(queue.shift() as string, 'hex'),
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof EnvelopeError) return e.code;
    throw e;
  }
  return undefined;
}

describe('known-answer vectors (tests/vectors/envelope.json)', () => {
  it('sealed: the key id and public key follow from the private key', () => {
    expect(sealedKey.kid).toBe(vectors.sealed.kid);
    expect(sealedKey.publicKeyText).toBe(vectors.sealed.public_key);
  });

  it('sealed: sealing with the recorded randomness reproduces every token, and opening returns every plaintext', () => {
    const opener = new Opener(keyringOf(sealedKey));
    for (const r of vectors.sealed.responses) {
      expect(Object.fromEntries(sealResponse(r.fields, recipientOf(sealedKey), replay([], r.ikmE), r.execution))).toEqual(r.tokens);
      for (const [name, value] of r.fields) expect(opener.openToken(r.tokens[name])).toMatchObject({ field: name, value, execution: r.execution });
    }
  });

  it('shared: sealing with the recorded randomness reproduces every token, and opening returns every plaintext', () => {
    expect(sharedKey.kid).toBe(vectors.shared.kid);
    const opener = new Opener(keyringOf(sharedKey));
    for (const r of vectors.shared.responses) {
      expect(Object.fromEntries(sealResponse(r.fields, sharedKey, replay(r.random_bytes), r.execution))).toEqual(r.tokens);
      for (const [name, value] of r.fields) expect(opener.openToken(r.tokens[name])).toMatchObject({ field: name, value, execution: r.execution });
    }
  });

  it('holds execution-bound responses (pkx/skx) whose answers keep a leading U+FEFF', () => {
    for (const mode of ['sealed', 'shared'] as const) {
      const bound = vectors[mode].responses.filter((r: { execution?: string }) => r.execution);
      expect(bound.length).toBeGreaterThan(0);
      for (const r of bound) for (const t of Object.values(r.tokens) as string[]) expect(t.split('.')[4]).toBe(r.execution);
    }
    const opener = new Opener(keyringOf(sealedKey));
    const bomResponse = vectors.sealed.responses.find((r: { execution?: string }) => r.execution);
    expect(opener.openToken(bomResponse.tokens.respondent).value.codePointAt(0)).toBe(0xfeff);
  });

  it('legacy: cells made by crypto-js as twilio_encrypt_fields.js did decrypt with their passphrase', () => {
    for (const c of vectors.legacy) expect(openLegacy(c.token, legacyKey(c.passphrase))).toBe(c.plaintext);
  });
});

// A second decryptor written only from docs/FORMAT.md, on other libraries
// (@hpke/core and WebCrypto), proves the spec is enough to implement one.
describe('docs/FORMAT.md is enough for an independent decryptor', () => {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  const b64u = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
  const ab = (u: Uint8Array) => new Uint8Array(u).buffer;

  it('opens the sealed vectors (responses in sequence order, one HPKE context each)', async () => {
    const sk = await suite.kem.importKey('raw', ab(Buffer.from(vectors.sealed.private_key_hex, 'hex')), false);
    for (const r of vectors.sealed.responses) {
      // pk: ss1.pk.kid.field.enc.seq.ct; pkx: ss1.pkx.kid.field.exec.enc.seq.ct — enc, seq, ct are the last three.
      const tokens = (Object.values(r.tokens) as string[]).map((t) => t.split('.')).sort((a, b) => Number(a.at(-2)) - Number(b.at(-2)));
      const ctx = await suite.createRecipientContext({ recipientKey: sk, enc: ab(b64u(tokens[0]!.at(-3)!)), info: ab(Buffer.from('sealed-survey ss1')) });
      for (const parts of tokens) {
        expect(parts[1] === 'pkx' ? parts[4] : undefined).toBe(r.execution);
        const aad = Buffer.from(parts.slice(0, -1).join('.') + '.', 'ascii');
        const pt = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(await ctx.open(ab(b64u(parts.at(-1)!)), ab(aad)));
        expect(pt).toBe(r.fields.find((f: string[]) => f[0] === parts[3])[1]);
      }
    }
  });

  it('opens the shared vectors with WebCrypto AES-256-GCM', async () => {
    const key = await webcrypto.subtle.importKey('raw', Buffer.from(vectors.shared.key, 'base64'), 'AES-GCM', false, ['decrypt']);
    for (const r of vectors.shared.responses) {
      for (const [name, value] of r.fields) {
        const parts = (r.tokens[name] as string).split('.');
        expect(parts[1] === 'skx' ? parts[4] : undefined).toBe(r.execution);
        const aad = Buffer.from(parts.slice(0, -1).join('.') + '.', 'ascii');
        const pt = await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: b64u(parts.at(-2)!), additionalData: aad }, key, b64u(parts.at(-1)!));
        expect(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(pt)).toBe(value);
      }
    }
  });
});

const nasty: Array<[string, string]> = [
  ['accents', 'Ça été très dûr à Árbol'],
  ['emoji', '🇰🇪👩🏽‍🌾🧪'],
  ['rtl', 'שלום עולם / مرحبا'],
  ['nul', 'a\u0000b\u0000'],
  ['empty', ''],
  ['long', 'x'.repeat(4096)],
  ['long_emoji', '😀'.repeat(4096)],
];

describe.each([
  ['sealed', () => { const k = newSealedKeyPair(); return { recipient: recipientOf(k), ring: keyringOf(k) }; }],
  ['shared', () => { const k = parseSharedKey(formatSharedKey(newSharedKey())); return { recipient: k, ring: keyringOf(k) }; }],
] as const)('%s mode', (_mode, make) => {
  const { recipient, ring } = make();

  it('round-trips Unicode, NUL, empty and 4,096-character values', () => {
    const tokens = sealResponse(nasty, recipient);
    const opener = new Opener(ring);
    for (const [name, value] of nasty) {
      const token = tokens.get(name) as string;
      expect(token).toMatch(/^ss1\.[a-z]{2}\.[0-9a-f]{8}\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(token.length).toBeLessThan(50_000);
      expect(opener.openToken(token).value).toBe(value);
    }
  });

  it('rejects values over the size cap and duplicate or non-identifier field names', () => {
    expect(() => sealResponse([['big', 'é'.repeat(MAX_VALUE_BYTES / 2 + 1)]], recipient)).toThrow(SealInputError);
    expect(() => sealResponse([['a', '1'], ['a', '2']], recipient)).toThrow(SealInputError);
    expect(() => sealResponse([['has.dot', '1']], recipient)).toThrow(SealInputError);
  });

  it.each([['unbound', undefined], ['execution-bound', 'FN' + 'c'.repeat(32)]])('rejects every single-byte change of a token (%s)', (_kind, execution) => {
    const token = sealResponse([['phone', '+254 700 123 456']], recipient, undefined, execution).get('phone') as string;
    const opener = new Opener(ring);
    const bytes = Buffer.from(token, 'latin1');
    let tried = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let b = 0; b < 256; b++) {
        if (b === bytes[i]) continue;
        const altered = Buffer.from(bytes);
        altered[i] = b;
        const code = codeOf(() => opener.openToken(altered.toString('latin1')));
        expect(code, `byte ${i} -> ${b}`).toBeDefined();
        tried++;
      }
    }
    expect(tried).toBe(bytes.length * 255);
    for (let cut = 1; cut < token.length; cut++) expect(codeOf(() => opener.openToken(token.slice(0, cut)))).toBeDefined();
    expect(opener.openToken(token).value).toBe('+254 700 123 456');
  });

  it('names wrong keys, wrong modes, unknown versions and malformed tokens', () => {
    const token = sealResponse([['phone', '0700']], recipient).get('phone') as string;
    const otherSealed = newSealedKeyPair();
    const otherShared = parseSharedKey(formatSharedKey(newSharedKey()));
    const sameModeOther = recipient.mode === 'sealed' ? keyringOf(otherSealed) : keyringOf(otherShared);
    const otherMode = recipient.mode === 'sealed' ? keyringOf(otherShared) : keyringOf(otherSealed);
    expect(codeOf(() => new Opener(sameModeOther).openToken(token))).toBe('UNKNOWN_KEY');
    expect(() => new Opener(sameModeOther).openToken(token)).toThrow(new RegExp(recipient.kid));
    expect(codeOf(() => new Opener(otherMode).openToken(token))).toBe('WRONG_MODE');
    expect(codeOf(() => new Opener(ring).openToken(token.replace(/^ss1\./, 'ss2.')))).toBe('UNKNOWN_VERSION');
    // Cut short: caught by the base64url/length checks or by the tag, never decrypted.
    expect(['MALFORMED', 'AUTH_FAILED']).toContain(codeOf(() => new Opener(ring).openToken(token.slice(0, -10))));
    const i = token.length - 20;
    const altered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    expect(codeOf(() => new Opener(ring).openToken(altered))).toBe('AUTH_FAILED');
    expect(() => new Opener(ring).openToken(altered)).toThrow('authentication failed (wrong key, or the cell was altered)');
    expect(codeOf(() => new Opener(ring).openToken(token.split('.').slice(0, 6).join('.')))).toBe('MALFORMED');
    expect(codeOf(() => new Opener(ring).openToken('hello'))).toBe('MALFORMED');
  });

  it('flags a cell moved to another column or another row, and decrypts the rest', () => {
    const row1 = sealResponse([['name', 'Ann'], ['phone', '111'], ['id', 'A1']], recipient);
    const row2 = sealResponse([['name', 'Bob'], ['phone', '222'], ['id', 'B2']], recipient);
    const opener = new Opener(ring);
    const swapped = opener.openResponse([
      { column: 'name', token: row1.get('phone') as string },
      { column: 'phone', token: row1.get('name') as string },
      { column: 'id', token: row1.get('id') as string },
    ]);
    expect(swapped.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['FIELD_MISMATCH', 'FIELD_MISMATCH', 'A1']);
    const moved = opener.openResponse([
      { column: 'name', token: row1.get('name') as string },
      { column: 'phone', token: row2.get('phone') as string },
      { column: 'id', token: row1.get('id') as string },
    ]);
    expect(moved.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['Ann', 'RESPONSE_MISMATCH', 'A1']);
    const bad = moved[1];
    expect(bad?.ok === false && bad.error.message).toMatch(/column "phone".*"name", "id"/);
  });

  it('binds a response to its execution: a whole response moved to another row is refused, and the execution cannot be edited', () => {
    const a = 'FN' + 'a'.repeat(32);
    const b = 'FN' + 'b'.repeat(32);
    const rowA = sealResponse([['name', 'Ann'], ['phone', '111']], recipient, undefined, a);
    const opener = new Opener(ring);
    const cells = [...rowA].map(([column, token]) => ({ column, token }));
    for (const { token } of cells) expect(token).toMatch(new RegExp(`^ss1\\.${recipient.mode === 'sealed' ? 'pkx' : 'skx'}\\.[0-9a-f]{8}\\.[a-z]+\\.${a}\\.`));
    expect(opener.openResponse(cells, { executionSid: a }).map((r) => (r.ok ? r.value : r.error.code))).toEqual(['Ann', '111']);
    expect(opener.openResponse(cells, { executionSid: a }).every((r) => r.ok && r.execution === a)).toBe(true);
    // The whole sealed part pasted into execution b's row: every cell is refused, by column.
    const moved = opener.openResponse(cells, { executionSid: b });
    expect(moved.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['EXECUTION_MISMATCH', 'EXECUTION_MISMATCH']);
    expect(moved[0]?.ok === false && moved[0].error.message).toContain(a);
    // Rewriting the execution inside the token breaks authentication.
    const forged = (rowA.get('name') as string).replace(a, b);
    expect(codeOf(() => opener.openToken(forged))).toBe('AUTH_FAILED');
    // Unbound tokens (older flows) still open, with no execution to check.
    const old = sealResponse([['name', 'Old']], recipient);
    expect(opener.openResponse([{ column: 'name', token: old.get('name') as string }], { executionSid: b })).toMatchObject([{ ok: true, value: 'Old', execution: undefined }]);
    expect(() => sealResponse([['name', 'x']], recipient, undefined, 'has.dot')).toThrow(SealInputError);
  });
});

it('opening a response costs one X25519 operation, not one per field', () => {
  const k = newSealedKeyPair();
  const fields: Array<[string, string]> = Array.from({ length: 6 }, (_, i) => [`f${i}`, `v${i}`]);
  const rows = [sealResponse(fields, recipientOf(k)), sealResponse(fields, recipientOf(k))];
  const opener = new Opener(keyringOf(k));
  for (const row of rows) {
    const results = opener.openResponse([...row].map(([column, token]) => ({ column, token })));
    expect(results.every((r) => r.ok)).toBe(true);
  }
  expect(opener.derivations).toBe(2);
});

describe('legacy (CryptoJS) cells', () => {
  const encrypt = (pt: string, pass: string) => {
    const key16 = pass.length > 16 ? pass.substring(0, 16) : pass.concat('0'.repeat(16 - pass.length));
    const iv = CryptoJS.lib.WordArray.random(16);
    return iv.concat(CryptoJS.AES.encrypt(pt, CryptoJS.enc.Utf8.parse(key16), { iv }).ciphertext).toString(CryptoJS.enc.Base64);
  };

  it('decrypts fresh crypto-js output, and fails on a wrong passphrase with a typed error', () => {
    for (const pt of ['Wanjiru', '', 'ñ🌍', 'x'.repeat(1000)]) {
      const cell = encrypt(pt, 'your_secret_key1');
      expect(openLegacy(cell, legacyKey('your_secret_key1'))).toBe(pt);
      // CBC without authentication: a wrong key is caught by padding or UTF-8 checks almost always.
      expect(codeOf(() => openLegacy(cell, legacyKey('another_passphrase')))).toBe('LEGACY_FAILED');
    }
    expect(codeOf(() => openLegacy('not base64!', legacyKey('k')))).toBe('LEGACY_FAILED');
  });

  it('derives keys as the legacy code did: cut to 16 characters or padded with "0"', () => {
    expect(legacyKey('abc').toString()).toBe('abc0000000000000');
    expect(legacyKey('0123456789abcdefXYZ').toString()).toBe('0123456789abcdef');
  });
});
