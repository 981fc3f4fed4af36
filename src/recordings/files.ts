// Recording keys on disk: the key pair keygen writes (private 0600, never
// overwritten), and recording-key.json, which `recording-key register` writes
// beside the public key to remember the SID Twilio gave it, so decrypting can
// tell a recording encrypted for another key before trying to open it.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PUBLIC_KEY_SID } from './details.js';
import { RecordingError } from './errors.js';
import { newRecordingKeyPair } from './keys.js';

export const RECORDING_KEY_FILES = {
  private: 'recording-private.pem',
  public: 'recording-public.pem',
  info: 'recording-key.json',
} as const;

function writeNew(path: string, content: string, mode: number): void {
  // 'wx' refuses to replace a file even if one appeared since we checked.
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  if (process.platform !== 'win32') chmodSync(path, mode);
}

/** Creates the recording key pair in `dir`; refuses (writing nothing) when either file exists. */
export function recordingKeygen(dir: string, bits?: number): { privateFile: string; publicFile: string; fingerprint: string } {
  const privateFile = join(dir, RECORDING_KEY_FILES.private);
  const publicFile = join(dir, RECORDING_KEY_FILES.public);
  const existing = [privateFile, publicFile].filter((f) => existsSync(f));
  if (existing.length > 0) {
    throw new RecordingError(`${existing.join(' and ')} already ${existing.length > 1 ? 'exist' : 'exists'}; refusing to overwrite a key (move it away first, or choose another --out folder)`);
  }
  const pair = newRecordingKeyPair(bits);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeNew(privateFile, pair.privatePem, 0o600);
  writeNew(publicFile, pair.publicPem, 0o644);
  return { privateFile, publicFile, fingerprint: pair.fingerprint };
}

const KeyInfo = z.object({
  public_key_sid: z.string().regex(PUBLIC_KEY_SID),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  friendly_name: z.string(),
  registered_at: z.string(),
});
export type KeyInfo = z.infer<typeof KeyInfo>;

/** recording-key.json beside `keyFile` (the public or the private key), if there is one. */
export function keyInfoPath(keyFile: string): string {
  return join(dirname(keyFile), RECORDING_KEY_FILES.info);
}

export function readKeyInfo(keyFile: string): KeyInfo | undefined {
  const path = keyInfoPath(keyFile);
  if (!existsSync(path)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new RecordingError(`${path} is not JSON: delete it, or register the key again`);
  }
  const parsed = KeyInfo.safeParse(data);
  if (!parsed.success) throw new RecordingError(`${path} is not a recording-key file written by \`sealed-survey recording-key register\`: delete it, or register the key again`);
  return parsed.data;
}

/** Writes recording-key.json atomically (temp + rename); it holds no secret. */
export function writeKeyInfo(keyFile: string, info: KeyInfo): string {
  const path = keyInfoPath(keyFile);
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeNew(temp, `${JSON.stringify(info, null, 2)}\n`, 0o644);
  renameSync(temp, path);
  return path;
}
