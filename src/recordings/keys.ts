// The RSA key pair of Voice Recording Encryption: Twilio wraps each
// recording's content key with the public key (registered as a PublicKey
// credential, CR…), only the analyst's private key unwraps it.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { RecordingError } from './errors.js';

/** Twilio's guide makes 2048-bit keys; anything smaller is refused. */
export const MIN_RSA_BITS = 2048;

export interface RecordingKeyPair {
  /** PKCS#8 PEM: stays on the analyst's machine. */
  readonly privatePem: string;
  /** SPKI PEM ("BEGIN PUBLIC KEY", as `openssl rsa -pubout` writes): what Twilio's PublicKeys take. */
  readonly publicPem: string;
  readonly fingerprint: string;
}

export function newRecordingKeyPair(bits = MIN_RSA_BITS): RecordingKeyPair {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > 8192 || bits % 8 !== 0) throw new RecordingError(`an RSA key for recordings is ${MIN_RSA_BITS} to 8192 bits, a multiple of 8`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}

/** SHA-256 of the public key's SPKI DER, hex: ties a registered SID to a key pair without the key. */
export function fingerprintOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ format: 'der', type: 'spki' })).digest('hex');
}

function checkRsa(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new RecordingError(`${what} is a ${key.asymmetricKeyType ?? 'unknown'} key; Voice Recording Encryption needs RSA (make one with \`sealed-survey keygen --mode recording\`)`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new RecordingError(`${what} has ${bits} bits; use an RSA key of at least ${MIN_RSA_BITS} bits`);
  return key;
}

/** An RSA private key from PEM (PKCS#8 or PKCS#1, as openssl genrsa writes). The message never quotes the key. */
export function parseRecordingPrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new RecordingError(`${source} is not a readable PEM private key (it may be damaged, cut short, or a public key)`);
  }
  return checkRsa(key, source);
}

/** An RSA public key from PEM; a private key given by mistake is refused (it must never be uploaded). */
export function parseRecordingPublicKey(pem: string, source: string): KeyObject {
  if (/PRIVATE KEY/.test(pem)) throw new RecordingError(`${source} holds a PRIVATE key: never upload it; give the public key file (recording-public.pem)`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new RecordingError(`${source} is not a readable PEM public key ("-----BEGIN PUBLIC KEY-----", as \`sealed-survey keygen --mode recording\` writes)`);
  }
  return checkRsa(key, source);
}

/** The SPKI PEM Twilio is given, whatever form the file had (PKCS#1 "BEGIN RSA PUBLIC KEY" included). */
export function spkiPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}
