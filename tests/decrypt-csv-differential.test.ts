// The fast decryption path against the reference one (SEALED_SURVEY_DECRYPT_PATH,
// src/csvcrypt/decrypt-path.ts) on seeded, fuzzed files: mutated tokens and
// legacy cells (bit flips in IV, ciphertext, tag and padding, cut base64,
// wrong key id), forced quoting, CRLF, ragged rows, cells moved, huge cells.
// Both must write the same bytes, say the same thing and exit the same way.
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as decryptCsv } from '../src/cli/decrypt-csv.js';
import { DECRYPT_PATH_VARIABLE } from '../src/csvcrypt/decrypt-path.js';
import { prng } from '../src/dev/prng.js';
import { sealResponse, systemRandomness } from '../src/envelope/index.js';
import { keygen } from '../src/keys/files.js';
import { parsePublicKey, parseSharedKey } from '../src/keys/keys.js';

const PASSPHRASE = 'diff_passphrase1';
const HEADER = ['date', 'execution_sid', 'name', 'phone', 'old_note', 'comment'];
const TEXTS = ['María José Ñúñez', '+254 700 123 456', '', '=1+2', 'a,"b"\nc', 'Plot 12, Moi Avenue', '👍 todo bien', 'x'.repeat(16)];

let dir: string;
let keyArgs: string[];
let sealedRecipient: ReturnType<typeof parsePublicKey>;
let sharedRecipient: ReturnType<typeof parseSharedKey>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ss-diff-'));
  const sealed = keygen('sealed', join(dir, 'k'));
  const shared = keygen('shared', join(dir, 'k'));
  writeFileSync(join(dir, 'pass.txt'), `${PASSPHRASE}\n`, { mode: 0o600 });
  sealedRecipient = parsePublicKey(readFileSync(sealed.files[1] as string, 'utf8'));
  sharedRecipient = parseSharedKey(readFileSync(shared.files[0] as string, 'utf8'));
  keyArgs = ['--key-file', sealed.files[0] as string, '--key-file', shared.files[0] as string, '--legacy-passphrase-file', join(dir, 'pass.txt')];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function legacyCell(text: string): string {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-128-cbc', Buffer.from(PASSPHRASE), iv);
  return Buffer.concat([iv, c.update(text), c.final()]).toString('base64');
}

type Cell = { text: string; quoted?: boolean };

function baseRows(next: () => number, rows: number): Cell[][] {
  const pick = <T>(a: readonly T[]) => a[Math.floor(next() * a.length)] as T;
  const out: Cell[][] = [];
  for (let i = 0; i < rows; i++) {
    const execution = `FN${i.toString(16).padStart(32, '0')}`;
    const recipient = next() < 0.5 ? sealedRecipient : sharedRecipient;
    const tokens = sealResponse([['name', pick(TEXTS)], ['phone', pick(TEXTS)]], recipient, systemRandomness, next() < 0.7 ? execution : undefined);
    out.push([`2026-11-${String(1 + (i % 28)).padStart(2, '0')}`, execution, tokens.get('name') as string, tokens.get('phone') as string, legacyCell(pick(TEXTS)), pick(TEXTS)].map((text) => ({ text })));
  }
  return out;
}

const flipBit = (bytes: Buffer, next: () => number, at = Math.floor(next() * bytes.length)) => {
  bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(next() * 8));
  return bytes;
};

/** One mutation of the kind the reference path must judge (or the fast path must get right). */
function mutate(rows: Cell[][], next: () => number): void {
  const row = rows[Math.floor(next() * rows.length)] as Cell[];
  const other = rows[Math.floor(next() * rows.length)] as Cell[];
  const tokenCol = 2 + Math.floor(next() * 2);
  const token = (row[tokenCol] as Cell).text;
  const cut = (s: string) => s.slice(0, Math.floor(next() * s.length));
  switch (Math.floor(next() * 14)) {
    case 0: {
      // A bit of the ciphertext or tag.
      const dot = token.lastIndexOf('.');
      (row[tokenCol] as Cell).text = token.slice(0, dot + 1) + flipBit(Buffer.from(token.slice(dot + 1), 'base64url'), next).toString('base64url');
      break;
    }
    case 1:
      (row[tokenCol] as Cell).text = cut(token);
      break;
    case 2:
      (row[tokenCol] as Cell).text = token.replace(/^(ss1\.[a-z]+\.)[0-9a-f]{8}/, '$1deadbeef');
      break;
    case 3: {
      // A bit of the legacy IV, body or padding block.
      const bytes = Buffer.from((row[4] as Cell).text, 'base64');
      const at = next() < 0.5 ? bytes.length - 1 - Math.floor(next() * 16) : Math.floor(next() * bytes.length);
      (row[4] as Cell).text = flipBit(bytes, next, at).toString('base64');
      break;
    }
    case 4:
      (row[4] as Cell).text = next() < 0.5 ? cut((row[4] as Cell).text) : (row[4] as Cell).text.replace(/=+$/, '');
      break;
    case 5:
      (row[4] as Cell).text = next() < 0.5 ? ` ${(row[4] as Cell).text}\t` : legacyCell('x'.repeat(100_000 + Math.floor(next() * 300_000)));
      break;
    case 6:
      for (const c of row) c.quoted = true;
      break;
    case 7:
      if (next() < 0.5) row.pop();
      else row.push({ text: 'extra, cell', quoted: true });
      break;
    case 8: {
      // Swapped between columns, moved between rows, a legacy cell among tokens and the reverse.
      const [a, b] = next() < 0.5 ? [row[2] as Cell, row[3] as Cell] : [row[tokenCol] as Cell, other[tokenCol] as Cell];
      [a.text, b.text] = [b.text, a.text];
      break;
    }
    case 9:
      [(row[tokenCol] as Cell).text, (row[4] as Cell).text] = [(row[4] as Cell).text, (row[tokenCol] as Cell).text];
      break;
    case 10:
      (row[5] as Cell).text = `"huge", ${'y\r\n'.repeat(60_000 + Math.floor(next() * 200_000))}`;
      break;
    case 11:
      (row[4] as Cell).text = next() < 0.5 ? 'typed over' : 'v2:bm90IGEgdjEgY2VsbA';
      break;
    case 12:
      (row[1] as Cell).text = (other[1] as Cell).text;
      break;
    default:
      rows.push(row.map((c) => ({ ...c })));
  }
}

function csv(header: readonly string[], rows: readonly Cell[][], eol: string): Buffer {
  const enc = (c: Cell) => (c.quoted || /[",\r\n]/.test(c.text) ? `"${c.text.replaceAll('"', '""')}"` : c.text);
  return Buffer.from([header.join(','), ...rows.map((r) => r.map(enc).join(','))].join(eol) + eol);
}

interface Outcome {
  readonly code: number;
  readonly said: string;
  readonly output: Buffer | undefined;
}

async function run(path: 'fast' | 'reference', args: string[], out: string): Promise<Outcome> {
  rmSync(out, { force: true });
  const said: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    said.push(String(chunk));
    return true;
  });
  const before = process.env[DECRYPT_PATH_VARIABLE];
  process.env[DECRYPT_PATH_VARIABLE] = path;
  try {
    const code = await decryptCsv(['node', 'decrypt-csv', ...args]);
    return { code, said: said.join(''), output: existsSync(out) ? readFileSync(out) : undefined };
  } finally {
    if (before === undefined) delete process.env[DECRYPT_PATH_VARIABLE];
    else process.env[DECRYPT_PATH_VARIABLE] = before;
    spy.mockRestore();
  }
}

async function compare(input: Buffer, next: () => number, extra: string[], label: string): Promise<Outcome> {
  const file = join(dir, 'in.csv');
  const out = join(dir, 'out.csv');
  writeFileSync(file, input);
  const args = [...keyArgs, '--force', file, '-o', out, ...extra];
  if (next() < 0.4) args.push('--on-error', next() < 0.5 ? 'keep' : 'blank');
  if (next() < 0.3) args.push('--allow-legacy-cells');
  if (next() < 0.5) args.push('--columns', 'name,phone,old_note');
  const fast = await run('fast', args, out);
  const reference = await run('reference', args, out);
  expect(fast.code, `${label}: ${reference.said}`).toBe(reference.code);
  expect(fast.said, label).toBe(reference.said);
  expect(fast.output?.equals(reference.output ?? Buffer.alloc(0)) ?? reference.output === undefined, label).toBe(true);
  return reference;
}

describe('decrypt-csv: fast path = reference path', () => {
  it('on 160 fuzzed files: same output bytes, same messages, same exit status', async () => {
    const codes = new Map<number, number>();
    let decrypted = 0;
    for (let seed = 1; seed <= 160; seed++) {
      const next = prng(seed * 7919);
      const rows = baseRows(next, 6 + Math.floor(next() * 10));
      const mutations = Math.floor(next() * 4);
      for (let m = 0; m < mutations; m++) mutate(rows, next);
      const eol = next() < 0.4 ? '\r\n' : '\n';
      const outcome = await compare(csv(HEADER, rows, eol), next, ['-q'], `seed ${seed}`);
      codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
      if (outcome.output && outcome.output.includes('María')) decrypted++;
    }
    // Both outcomes must be common, or the comparison proves little.
    expect(codes.get(0) ?? 0).toBeGreaterThan(20);
    expect(codes.get(1) ?? 0).toBeGreaterThan(40);
    expect(decrypted).toBeGreaterThan(20);
  }, 120_000);

  it('on a file large enough for worker threads, with a few damaged cells and a huge one', async () => {
    const next = prng(14);
    const rows: Cell[][] = [];
    // Legacy cells only (cheap to make), about 6 MB: over the threshold for worker threads and many ring buffers.
    for (let i = 0; i < 40_000; i++) {
      rows.push([`2026-11-01`, `FN${i.toString(16).padStart(32, '0')}`, legacyCell(TEXTS[i % TEXTS.length] as string), legacyCell(`+2547${i}`), legacyCell('note'), 'ok'].map((text) => ({ text })));
    }
    (rows[20_000]?.[5] as Cell).text = 'z'.repeat(700_000);
    // Near the largest legacy cell read (1 MB): within a worker's heap limit (pool.ts).
    (rows[30_000]?.[4] as Cell).text = legacyCell('é'.repeat(350_000));
    for (const clean of [true, false]) {
      const copy = rows.map((r) => r.map((c) => ({ ...c })));
      if (!clean) {
        for (const at of [5, 17_000, 39_999]) (copy[at]?.[3] as Cell).text = flipBit(Buffer.from((copy[at]?.[3] as Cell).text, 'base64'), next).toString('base64');
      }
      const outcome = await compare(csv(['date', 'execution_sid', 'name', 'phone', 'old_note', 'comment'], copy, '\r\n'), next, ['-q'], clean ? 'large, clean' : 'large, damaged');
      if (clean) expect(outcome.code).toBe(0);
    }
  }, 120_000);
});
