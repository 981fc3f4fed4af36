// A deterministic survey export shaped like the real one: 11 columns (date,
// execution SID, 4 PII columns of realistic lengths with accents and commas,
// age, district, 3 answers incl. quoted free text), in sealed, shared or legacy
// form. Files are cached under node_modules/.cache (same seed → same bytes).

import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveKeyPair } from '../src/crypto/hpke.js';
import { cellBytes, newRecordCells, scanRecord } from '../src/csv/scan.js';
import { commandArgs } from '../src/cli/command-args.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { formatPublicKey, formatSharedKey } from '../src/keys/keys.js';
import { prng } from '../src/dev/prng.js';

export const HEADER = ['date', 'execution_sid', 'full_name', 'national_id', 'phone', 'address', 'age', 'district', 'q_water', 'q_consent_followup', 'q_comments'];
export const PII = ['full_name', 'national_id', 'phone', 'address'];
export const LEGACY_PASSPHRASE = 'bench_passphrase';
const GENERATOR_VERSION = 2;

export const CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'sealed-survey-bench');

const FIRST = ['María', 'José', 'Wanjiru', 'Achieng', 'Ngozi', 'Amadou', 'Thérèse', 'Zoë', 'Fatuma', 'Oluwaseun', 'Émilie', 'Kwame', 'Nyokabi', 'Juan Pablo'];
const LAST = ['Ñúñez', 'Otieno', 'Mwangi', 'Diallo', 'Okonkwo', 'Kamau', 'Müller', 'Hernández', 'Njoroge', 'Adébáyọ̀', "O'Brien", 'Wambui'];
const DISTRICTS = ['Kisumu', 'Nairobi', 'Mombasa', 'Nakuru', 'Eldoret', 'Machakos'];
const STREETS = ['Kisumu Road', 'Moi Avenue', 'Ngong Rd', 'Oginga Odinga St', 'Tom Mboya St'];
const COMMENTS = ['The water point is far, about 2 km, and "often" dry', 'no', 'We need a borehole, please', 'Sometimes, yes; mostly no', 'Gracias — todo bien 👍', 'Line one\nline two'];

const quote = (c: string) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);

async function writePlain(path: string, rows: number, seed: number): Promise<void> {
  const next = prng(seed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(next() * a.length)] as T;
  const out = createWriteStream(path);
  out.write(`${HEADER.join(',')}\n`);
  let batch = '';
  for (let i = 0; i < rows; i++) {
    const hex = createHash('md5').update(`${seed}:${i}`).digest('hex');
    const day = String(1 + (i % 28)).padStart(2, '0');
    const row = [
      `2026-11-${day}T${String(i % 24).padStart(2, '0')}:14:05Z`,
      `FN${hex}`,
      `${pick(FIRST)} ${pick(FIRST)} ${pick(LAST)}`,
      String(10_000_000 + Math.floor(next() * 89_999_999)),
      `+2547${String(Math.floor(next() * 1e8)).padStart(8, '0')}`,
      `Plot ${1 + Math.floor(next() * 400)}, ${pick(STREETS)}, ${pick(DISTRICTS)}`,
      String(18 + Math.floor(next() * 70)),
      pick(DISTRICTS),
      pick(['yes', 'no']),
      pick(['yes', 'no', '']),
      pick(COMMENTS),
    ];
    batch += `${row.map(quote).join(',')}\n`;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await new Promise<void>((r) => out.once('drain', () => r()));
      batch = '';
    }
  }
  out.write(batch);
  await new Promise<void>((ok, fail) => out.end((e?: Error | null) => (e ? fail(e) : ok())));
}

export interface BenchKeys {
  readonly dir: string;
  readonly privatePem: string;
  readonly sharedKeyFile: string;
  readonly publicKeyText: string;
  readonly sharedKeyText: string;
  readonly passphraseFile: string;
}

/** Keys derived from the seed, so cached files stay decryptable. */
export function benchKeys(seed: number): BenchKeys {
  const dir = join(CACHE, `keys-${seed}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = deriveKeyPair(createHash('sha256').update(`bench sealed ${seed}`).digest());
  const shared = createHash('sha256').update(`bench shared ${seed}`).digest();
  const privatePem = join(dir, 'survey-private.pem');
  writeFileSync(privatePem, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
  const sharedKeyFile = join(dir, 'survey-secret.key');
  writeFileSync(sharedKeyFile, `${formatSharedKey(shared)}\n`, { mode: 0o600 });
  const passphraseFile = join(dir, 'passphrase.txt');
  writeFileSync(passphraseFile, `${LEGACY_PASSPHRASE}\n`, { mode: 0o600 });
  return { dir, privatePem, sharedKeyFile, publicKeyText: formatPublicKey(pair.publicRaw), sharedKeyText: formatSharedKey(shared), passphraseFile };
}

export type Mode = 'sealed' | 'shared' | 'legacy';

/** Path of the generated export for this mode, creating it (once) if needed. */
export async function surveyExport(mode: Mode | 'plain', rows: number, seed: number, keys: BenchKeys): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const name = (m: string) => join(CACHE, `survey-v${GENERATOR_VERSION}-${seed}-${rows}-${m}.csv`);
  const plain = name('plain');
  if (!existsSync(plain)) {
    await writePlain(`${plain}.tmp`, rows, seed);
    renameSync(`${plain}.tmp`, plain);
  }
  if (mode === 'plain') return plain;
  const target = name(mode);
  if (existsSync(target)) return target;
  if (mode === 'legacy') {
    await legacyExport(plain, `${target}.tmp`, seed);
  } else {
    // Through the built command, as a user would run it (and on plain Node: worker threads
    // started under tsx's loader hooks can stall on Node 20).
    const recipient = mode === 'sealed' ? ['--public-key', keys.publicKeyText] : ['--key-file', keys.sharedKeyFile];
    const args = [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), 'encrypt-csv', '-q', '--force', '--columns', PII.join(','), ...recipient, plain, '-o', `${target}.tmp`];
    const res = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (res.status !== 0) throw new Error(`encrypt-csv failed (${res.status})`);
  }
  renameSync(`${target}.tmp`, target);
  return target;
}

/** Legacy cells made as twilio_encrypt_fields.js made them: base64(IV || AES-128-CBC(passphrase padded to 16))). */
async function legacyExport(plain: string, out: string, seed: number): Promise<void> {
  const next = prng(seed + 7);
  const key = Buffer.from(LEGACY_PASSPHRASE.padEnd(16, '0').slice(0, 16));
  const buf = readFileSync(plain);
  const cells = newRecordCells();
  const piiIdx = PII.map((p) => HEADER.indexOf(p));
  const stream = createWriteStream(out);
  let pos = scanRecord(buf, 0, buf.length, cells, 0);
  stream.write(buf.subarray(0, pos));
  let batch: Buffer[] = [];
  let size = 0;
  while (pos < buf.length) {
    const start = pos;
    pos = scanRecord(buf, pos, buf.length, cells, 0);
    let copy = start;
    for (const i of piiIdx) {
      const iv = Buffer.from(Array.from({ length: 16 }, () => Math.floor(next() * 256)));
      const c = createCipheriv('aes-128-cbc', key, iv);
      const pt = cellBytes(buf, cells.starts[i] as number, cells.ends[i] as number, cells.quoted[i] as boolean);
      const token = Buffer.concat([iv, c.update(pt), c.final()]).toString('base64');
      batch.push(buf.subarray(copy, cells.starts[i]), Buffer.from(token));
      copy = cells.ends[i] as number;
    }
    batch.push(buf.subarray(copy, pos));
    size += pos - start;
    if (size > 1 << 20) {
      if (!stream.write(Buffer.concat(batch))) await new Promise<void>((r) => stream.once('drain', () => r()));
      batch = [];
      size = 0;
    }
  }
  stream.write(Buffer.concat(batch));
  await new Promise<void>((ok, fail) => stream.end((e?: Error | null) => (e ? fail(e) : ok())));
}
