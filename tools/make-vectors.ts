// Regenerates tests/vectors/envelope.json: known-answer vectors for sealed,
// shared and legacy cells, from fixed seeds, so other implementations (and
// future versions of this one) can check themselves. Legacy cells are made
// with crypto-js, exactly as the legacy twilio_encrypt_fields.js did.
// Run: npx tsx tools/make-vectors.ts
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import CryptoJS from 'crypto-js';
import { deriveKeyPair } from '../src/crypto/hpke.js';
import { sealResponse, type SealRandomness } from '../src/envelope/index.js';
import { formatPublicKey, formatSharedKey, keyId, parseSharedKey, recipientOf, parsePrivateKeyPem } from '../src/keys/keys.js';

const sha = (label: string) => createHash('sha256').update(label).digest();

// The third response is bound to its execution (pkx/skx tokens); its first answer starts with U+FEFF, which must survive.
const responses: Array<{ fields: Array<[string, string]>; execution?: string }> = [
  { fields: [
    ['respondent', 'whatsapp:+254700123456'],
    ['full_name', 'María José Ñúñez'],
    ['national_id', '12 345 678'],
    ['notes', 'مرحبا بالعالم, "quoted", and a comma'],
    ['empty', ''],
    ['emoji', '👩🏽‍🌾 Kisumu 🌽'],
  ] },
  { fields: [
    ['full_name', 'line one\nline two\r\nNUL:\u0000end'],
    ['formula', '=HYPERLINK("https://example.invalid","x")'],
  ] },
  { execution: 'FN0123456789abcdef0123456789abcdef', fields: [
    ['respondent', '\uFEFFwhatsapp:+254700123456'],
    ['full_name', 'Achieng Otieno'],
    ['national_id', ''],
  ] },
];

function fixedRandom(seed: string): SealRandomness & { drawn: string[] } {
  let counter = 0;
  const drawn: string[] = [];
  return {
    drawn,
    ephemeralKeyPair: () => {
      const ikm = sha(`${seed} ikmE`);
      drawn.push(ikm.toString('hex'));
      return deriveKeyPair(ikm);
    },
    bytes: (n: number) => {
      const b = sha(`${seed} bytes ${counter++}`).subarray(0, n);
      drawn.push(b.toString('hex'));
      return b;
    },
  };
}

const recipientPair = deriveKeyPair(sha('sealed-survey vector recipient ikm'));
const pem = recipientPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const sealedKey = parsePrivateKeyPem(pem);
const sharedKey = parseSharedKey(formatSharedKey(sha('sealed-survey vector shared key')));

const sealed = responses.map(({ fields, execution }, i) => {
  const random = fixedRandom(`sealed ${i}`);
  const tokens = Object.fromEntries(sealResponse(fields, recipientOf(sealedKey), random, execution));
  return { ikmE: random.drawn[0], ...(execution ? { execution } : {}), fields, tokens };
});
const shared = responses.map(({ fields, execution }, i) => {
  const random = fixedRandom(`shared ${i}`);
  const tokens = Object.fromEntries(sealResponse(fields, sharedKey, random, execution));
  return { random_bytes: random.drawn, ...(execution ? { execution } : {}), fields, tokens };
});

function legacyEncrypt(plaintext: string, passphrase: string, ivHex: string): string {
  const key16 = passphrase.length > 16 ? passphrase.substring(0, 16) : passphrase.concat('0'.repeat(16 - passphrase.length));
  const iv = CryptoJS.enc.Hex.parse(ivHex);
  const encrypted = CryptoJS.AES.encrypt(plaintext, CryptoJS.enc.Utf8.parse(key16), { iv });
  return iv.concat(encrypted.ciphertext).toString(CryptoJS.enc.Base64);
}

const legacy = [
  ['your_secret_key1', 'Maria Wanjiru'],
  ['short', '+254 700 000 000'],
  ['a passphrase longer than sixteen', 'Ñandú, "quoted" 🌍'],
  ['your_secret_key1', ''],
].map(([passphrase, plaintext], i) => {
  const iv = sha(`legacy iv ${i}`).subarray(0, 16).toString('hex');
  return { passphrase, iv, plaintext, token: legacyEncrypt(plaintext as string, passphrase as string, iv) };
});

const vectors = {
  description: 'sealed-survey ss1 known-answer vectors; see docs/FORMAT.md. Test keys only: never use them for a survey.',
  sealed: {
    private_key_pem: pem,
    private_key_hex: (() => {
      const der = recipientPair.privateKey.export({ format: 'der', type: 'pkcs8' });
      return der.subarray(der.length - 32).toString('hex');
    })(),
    public_key: formatPublicKey(recipientPair.publicRaw),
    kid: keyId(recipientPair.publicRaw),
    responses: sealed,
  },
  shared: { key: formatSharedKey(sharedKey.key), kid: sharedKey.kid, responses: shared },
  legacy,
};
writeFileSync(new URL('../tests/vectors/envelope.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n');
console.log('wrote tests/vectors/envelope.json');
