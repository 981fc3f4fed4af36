// Where the analyst's keys come from: files, the environment, or a hidden
// prompt. Never the command line, where they would show in `ps` and in the
// shell's history.

import { existsSync, readFileSync } from 'node:fs';
import { addKeyText, permissionWarnings, readKeyText } from '../keys/files.js';
import { emptyKeyring, KeyError } from '../keys/keys.js';
import { readIpaV2KeyText } from '../keys/ipa-v2-key.js';
import { legacyKey } from '../envelope/index.js';
import { EXIT_USAGE, UserError } from './common.js';

export const SAFE_KEY_SOURCES = `Give keys in one of these ways:
  --key-file PATH                 a file written by \`sealed-survey keygen\` (repeat for several keys)
  --key-file -                    read the key from standard input
  SURVEY_PRIVATE_KEY / SURVEY_SECRET_KEY   environment variables holding the key
  (nothing)                       you are asked for the key, hidden, when running in a terminal`;

/** Options that would take a secret as a value: refused with a pointer to the safe ways. */
export const REFUSED_SECRET_OPTIONS = ['--key', '--private-key', '--secret-key', '--secret', '--passphrase', '--legacy-passphrase', '--password'];

export function refuseSecretOption(name: string): never {
  throw new UserError(`${name} is not accepted: keys and passphrases are never taken on the command line (they would show in \`ps\` and in your shell history).\n${SAFE_KEY_SOURCES}`, EXIT_USAGE);
}

/** PEM armour: a private key pasted on the command line, whole or split by the shell. */
export function looksLikePem(value: string): boolean {
  return value.includes('-----BEGIN') || value.includes('-----END') || value.includes('PRIVATE KEY');
}

/**
 * An argument that is really a key, pasted where a path belongs: PEM text, a
 * public key, or a long run of base64 (a shared or pseudonym key, a PEM line)
 * that is not a file.
 */
export function looksLikeKeyText(value: string): boolean {
  return !existsSync(value) && (looksLikePem(value) || value.startsWith('sspk1.') || /^[A-Za-z0-9+/]{40,}={0,2}$/.test(value));
}

/** Never echoes the argument: it may be the key. */
export function keyArgumentError(): UserError {
  return new UserError(
    `a key was given as a command-line argument: keys go in --key-file, never on the command line (they show in \`ps\` and stay in your shell history: delete that line from it).\n${SAFE_KEY_SOURCES}`,
    EXIT_USAGE,
  );
}

export function refuseKeyArgument(): never {
  throw keyArgumentError();
}

export interface KeyMaterial {
  readonly privateKeyPems: string[];
  readonly sharedKeys: string[];
  /** requests_to_twilio_v2 private keys, base64url of the raw 32 bytes (for `v2:` cells). */
  readonly ipaV2Keys: string[];
  readonly warnings: string[];
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

function readKeyFile(path: string, what = 'key file'): string {
  try {
    return readKeyText(path, what);
  } catch (error) {
    if (error instanceof KeyError) throw new UserError(error.message);
    throw error;
  }
}

const KEY_FORMATS =
  'expected a private key (PEM, from `sealed-survey keygen`), a shared key (base64 of 32 bytes, from `sealed-survey keygen --mode shared`), ' +
  "or a requests_to_twilio_v2 private key (rtt_private_key.txt: 44 characters of urlsafe base64, or that tool's .env holding ENCRYPTION_PRIVATE_KEY=…)";

const looksLikeOurs = (text: string) => text.includes('-----BEGIN') || text.trim().startsWith('sspk1.');

/**
 * The requests_to_twilio_v2 key in a key text, if that is what it is. Its bare
 * form can also read as a shared key (both are base64 of 32 bytes): such a key
 * is kept in both roles, and each cell's format picks the one it needs.
 */
export function ipaV2KeyOf(text: string, source: string): Buffer | undefined {
  if (looksLikeOurs(text)) return undefined;
  const found = readIpaV2KeyText(text);
  if (found.kind === 'points-to') {
    throw new UserError(`${source} is a requests_to_twilio_v2 .env that names its key file instead of holding the key: give that file with --key-file ${found.path}`);
  }
  return found.kind === 'key' ? found.raw : undefined;
}

/** Sorts key texts into sealed private keys, shared keys and requests_to_twilio_v2 keys, validating each. */
export function collectKeys(sources: ReadonlyArray<{ text: string; source: string; path?: string }>): KeyMaterial {
  const material: KeyMaterial = { privateKeyPems: [], sharedKeys: [], ipaV2Keys: [], warnings: [] };
  for (const { text, source, path } of sources) {
    const ipaV2 = ipaV2KeyOf(text, source);
    if (ipaV2) material.ipaV2Keys.push(ipaV2.toString('base64url'));
    const ring = emptyKeyring();
    try {
      addKeyText(ring, text, source);
      if (ring.sealed.size > 0) material.privateKeyPems.push(text);
      else material.sharedKeys.push(text.trim());
    } catch (error) {
      if (!(error instanceof KeyError)) throw error;
      // Not PEM nor a public key: name every format a key file can have (never its content).
      if (!ipaV2) throw new UserError(looksLikeOurs(text) ? error.message : `${source} is not a key file this command can read: ${KEY_FORMATS}`);
    }
    if (path) material.warnings.push(...permissionWarnings(path));
  }
  return material;
}

export async function gatherKeys(keyFiles: readonly string[], stdinIsInput: boolean, promptAllowed: boolean): Promise<KeyMaterial> {
  const sources: Array<{ text: string; source: string; path?: string }> = [];
  for (const file of keyFiles) {
    if (file === '-') {
      if (stdinIsInput) throw new UserError('--key-file - and input - both want standard input; put the CSV or the key in a file', EXIT_USAGE);
      sources.push({ text: readStdin(), source: 'standard input' });
    } else if (looksLikeKeyText(file)) {
      refuseSecretOption('a key pasted after --key-file');
    } else {
      sources.push({ text: readKeyFile(file), source: file, path: file });
    }
  }
  if (process.env.SURVEY_PRIVATE_KEY) sources.push({ text: process.env.SURVEY_PRIVATE_KEY, source: 'SURVEY_PRIVATE_KEY' });
  if (process.env.SURVEY_SECRET_KEY) sources.push({ text: process.env.SURVEY_SECRET_KEY, source: 'SURVEY_SECRET_KEY' });
  if (sources.length === 0 && promptAllowed) sources.push({ text: await promptHidden(), source: 'the key you typed' });
  return collectKeys(sources);
}

export function legacyKeyFrom(passphraseFile: string | undefined): Buffer | undefined {
  let passphrase: string | undefined;
  if (passphraseFile !== undefined) {
    if (!existsSync(passphraseFile)) {
      throw new UserError(`passphrase file ${passphraseFile} does not exist: --legacy-passphrase-file takes a FILE that holds the passphrase, never the passphrase itself`, EXIT_USAGE);
    }
    passphrase = readKeyFile(passphraseFile, 'passphrase file').replace(/\r?\n$/, '');
  } else if (process.env.SURVEY_LEGACY_PASSPHRASE !== undefined) {
    passphrase = process.env.SURVEY_LEGACY_PASSPHRASE;
  }
  if (passphrase === undefined) return undefined;
  if (passphrase === '') throw new UserError('the legacy passphrase is empty');
  try {
    return legacyKey(passphrase);
  } catch (error) {
    throw new UserError((error as Error).message);
  }
}

/** Reads a key from the terminal without echoing it. A PEM key ends at its END line, a shared key at Enter. */
export function promptHidden(): Promise<string> {
  return new Promise((ok, fail) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) {
      fail(new UserError(`no key was given.\n${SAFE_KEY_SOURCES}`, EXIT_USAGE));
      return;
    }
    process.stderr.write('Paste the private key or shared key (it will not be shown), then press Enter: ');
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (result: string | Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (result instanceof Error) fail(result);
      else ok(result);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\u0003') return finish(new UserError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') {
          text = text.slice(0, -1);
          continue;
        }
        if (ch === '\r' || ch === '\n') {
          const isPem = text.includes('-----BEGIN');
          if (!isPem || /-----END [A-Z ]+-----\s*$/.test(text)) return finish(text);
          text += '\n';
          continue;
        }
        text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
