// Key files on disk: creating them private, reading them with a warning when
// other users of the machine could read them too.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { emptyKeyring, formatSharedKey, KeyError, newSealedKeyPair, newSharedKey, parsePrivateKeyPem, parseSharedKey, type Keyring } from './keys.js';

export const KEY_FILE_NAMES = {
  sealedPrivate: 'survey-private.pem',
  sealedPublic: 'survey-public.txt',
  shared: 'survey-secret.key',
  pseudonym: 'pseudonym.key',
} as const;

export type KeygenMode = 'sealed' | 'shared' | 'pseudonym';

export interface KeygenResult {
  readonly mode: KeygenMode;
  readonly kid?: string;
  /** The line to put in the Functions' environment, for sealed mode only (a public key is no secret). */
  readonly envLine?: string;
  readonly files: readonly string[];
}

/** Warnings about a key file's permissions; empty on Windows, where mode bits mean nothing. */
export function permissionWarnings(path: string): string[] {
  if (process.platform === 'win32') return [];
  const mode = statSync(path).mode;
  return mode & 0o077 ? [`key file ${path} can be read by other users of this computer; run: chmod 600 "${path}"`] : [];
}

/** Reads a key or passphrase file; errors name the file and what is wrong, never its content. */
export function readKeyText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeyError(`${what} ${path} does not exist (check the path)`);
    if (code === 'EACCES' || code === 'EPERM') throw new KeyError(`${what} ${path} cannot be read: permission denied`);
    if (code === 'EISDIR') throw new KeyError(`${what} ${path} is a folder, not a file`);
    throw new KeyError(`${what} ${path} cannot be read (${code ?? 'unknown error'})`);
  }
}

export interface LoadedKeys {
  readonly keyring: Keyring;
  readonly warnings: readonly string[];
}

/** Reads key files (sealed private keys and shared keys, told apart by content) into one keyring. */
export function loadKeyFiles(paths: readonly string[]): LoadedKeys {
  const ring = emptyKeyring();
  const warnings: string[] = [];
  for (const path of paths) {
    const text = path === '-' ? readFileSync(0, 'utf8') : readKeyText(path, 'key file');
    if (path !== '-') warnings.push(...permissionWarnings(path));
    addKeyText(ring, text, path === '-' ? 'standard input' : path);
  }
  return { keyring: ring, warnings };
}

export function addKeyText(ring: ReturnType<typeof emptyKeyring>, text: string, source: string): void {
  if (text.includes('-----BEGIN')) {
    try {
      const pair = parsePrivateKeyPem(text);
      ring.sealed.set(pair.kid, pair.pair);
    } catch (error) {
      throw new KeyError(`${source}: ${(error as Error).message}`);
    }
    return;
  }
  if (text.trim().startsWith('sspk1.')) {
    throw new KeyError(`${source} holds a public key, which can only seal; decrypting needs the private key file (survey-private.pem)`);
  }
  try {
    const shared = parseSharedKey(text);
    ring.shared.set(shared.kid, shared.key);
  } catch {
    throw new KeyError(`${source} is not a sealed-survey key: expected a private key (PEM, from \`sealed-survey keygen\`) or a shared key (base64 of 32 bytes, from \`sealed-survey keygen --mode shared\`)`);
  }
}

function writePrivate(path: string, content: string): void {
  // 'wx' refuses to replace an existing file even if one appeared since we checked.
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  if (process.platform !== 'win32') chmodSync(path, 0o600);
}

/** Creates keys in `dir`; refuses to overwrite any existing key file and writes nothing in that case. */
export function keygen(mode: KeygenMode, dir: string): KeygenResult {
  const targets =
    mode === 'sealed'
      ? [join(dir, KEY_FILE_NAMES.sealedPrivate), join(dir, KEY_FILE_NAMES.sealedPublic)]
      : [join(dir, mode === 'shared' ? KEY_FILE_NAMES.shared : KEY_FILE_NAMES.pseudonym)];
  const existing = targets.filter((t) => existsSync(t));
  if (existing.length > 0) {
    throw new KeyError(`${existing.join(' and ')} already ${existing.length > 1 ? 'exist' : 'exists'}; refusing to overwrite a key (move it away first, or choose another --out folder)`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (mode === 'sealed') {
    const pair = newSealedKeyPair();
    writePrivate(targets[0] as string, pair.privatePem);
    writePrivate(targets[1] as string, `${pair.publicKeyText}\n`);
    if (process.platform !== 'win32') chmodSync(targets[1] as string, 0o644);
    return { mode, kid: pair.kid, envLine: `SURVEY_PUBLIC_KEY=${pair.publicKeyText}`, files: targets };
  }
  const key = newSharedKey();
  writePrivate(targets[0] as string, `${formatSharedKey(key)}\n`);
  return mode === 'shared' ? { mode, kid: parseSharedKey(formatSharedKey(key)).kid, files: targets } : { mode, files: targets };
}
