// Decrypting a recording as Twilio encrypted it: the content key (CEK)
// unwrapped with RSAES-OAEP (SHA-256, MGF1 with SHA-256: node's oaepHash sets
// both), then AES-256-GCM over the media whose last 16 bytes are the tag.
//
// Fail closed: the plaintext goes to a hidden temp file (0600) beside the
// output and reaches its name only after the tag verified, by a hard link
// that never replaces an existing file; any failure removes the temp file,
// so a tampered, truncated or wrongly keyed recording leaves nothing behind.
// Twilio's own Python sample neither checks the tag nor strips it.

import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CEK_BYTES, type EncryptionDetails, IV_BYTES, TAG_BYTES } from './details.js';
import { RecordingError } from './errors.js';

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/** The 32-byte content key; a RecordingError when this private key cannot unwrap it. */
export function unwrapCek(privateKey: KeyObject, details: EncryptionDetails, source: string): Buffer {
  let cek: Buffer;
  try {
    cek = privateDecrypt({ key: privateKey, ...OAEP }, details.encryptedCek);
  } catch {
    throw new RecordingError(
      `${source}: this private key does not open the recording's content key. The recording was encrypted for public key ${details.publicKeySid}: decrypt with the private key whose public key was registered as ${details.publicKeySid}`,
    );
  }
  if (cek.length !== CEK_BYTES) throw new RecordingError(`${source}: the content key is ${cek.length} bytes, not ${CEK_BYTES}: these are not Twilio's AES-256 encryption details`);
  return cek;
}

/** What Twilio does to a recording (for the stand-in and tests): random CEK and IV, RSA-OAEP-SHA256 wrap, tag appended. */
export function encryptRecording(media: Buffer, publicKey: KeyObject | string, publicKeySid: string): { details: EncryptionDetails; encrypted: Buffer } {
  const cek = randomBytes(CEK_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  const encrypted = Buffer.concat([cipher.update(media), cipher.final(), cipher.getAuthTag()]);
  const encryptedCek = publicEncrypt({ key: publicKey, ...OAEP }, cek);
  return { details: { type: 'rsa-aes', publicKeySid, encryptedCek, iv }, encrypted };
}

const exists = (path: string) => new RecordingError(`${path} already exists; refusing to overwrite it (move it away or choose another --out folder)`);

/** Gives the finished temp file its name without replacing a file: a hard link, or a rename where links are not supported. */
async function publish(temp: string, outPath: string): Promise<void> {
  try {
    await link(temp, outPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists(outPath);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    if (existsSync(outPath)) throw exists(outPath);
    await rename(temp, outPath);
  }
}

export interface DecryptResult {
  readonly path: string;
  readonly bytes: number;
}

/**
 * Decrypts `media` (the encrypted media, streamed) into `outPath`, which must
 * not exist yet. `onBytes` gets the running count of encrypted bytes read;
 * `signal` stops it, the temp file removed.
 */
export async function decryptToFile(
  media: AsyncIterable<Uint8Array>,
  cek: Buffer,
  details: EncryptionDetails,
  outPath: string,
  what: string,
  onBytes: (n: number) => void = () => {},
  signal?: AbortSignal,
): Promise<DecryptResult> {
  const temp = join(dirname(outPath), `.${basename(outPath)}.${randomBytes(6).toString('hex')}.partial`);
  const out = await open(temp, 'wx', 0o600);
  let done = false;
  try {
    const decipher = createDecipheriv('aes-256-gcm', cek, details.iv, { authTagLength: TAG_BYTES });
    let held = Buffer.alloc(0);
    let read = 0;
    let written = 0;
    for await (const chunk of media) {
      // Stopped (Ctrl-C): leave through `finally`, which removes the partial plaintext.
      signal?.throwIfAborted();
      read += chunk.length;
      // The last TAG_BYTES of the stream are the tag: keep them back until the end.
      const buf = held.length === 0 ? Buffer.from(chunk) : Buffer.concat([held, chunk]);
      if (buf.length > TAG_BYTES) {
        const plain = decipher.update(buf.subarray(0, buf.length - TAG_BYTES));
        await out.write(plain);
        written += plain.length;
        held = Buffer.from(buf.subarray(buf.length - TAG_BYTES));
      } else {
        held = buf;
      }
      onBytes(read);
    }
    signal?.throwIfAborted();
    if (held.length < TAG_BYTES) throw new RecordingError(`${what}: the encrypted file is ${read} bytes, shorter than its ${TAG_BYTES}-byte tag: it is truncated (download it again); nothing was written`);
    decipher.setAuthTag(held);
    let last: Buffer;
    try {
      last = decipher.final();
    } catch {
      throw new RecordingError(`${what}: the recording failed its integrity check (AES-GCM tag): it was altered or cut short, or the encryption details belong to another recording; nothing was written`);
    }
    await out.write(last);
    written += last.length;
    await out.sync();
    await out.close();
    done = true;
    if (process.platform !== 'win32') await chmod(temp, 0o600);
    await publish(temp, outPath);
    return { path: outPath, bytes: written };
  } finally {
    if (!done) await out.close().catch(() => {});
    await unlink(temp).catch(() => {});
  }
}
