// Random and mutated CSV files and tokens: decrypt-csv never crashes with a
// stack trace and never leaves output behind when it fails.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as decryptCsv } from '../src/cli/decrypt-csv.js';
import { EnvelopeError, Opener, sealResponse, systemRandomness } from '../src/envelope/index.js';
import { keygen, loadKeyFiles } from '../src/keys/files.js';
import { parsePublicKey } from '../src/keys/keys.js';
import { toCsv } from './helpers/csv.js';
import { prng } from '../src/dev/prng.js';

let dir: string;
let pem: string;
let base: Buffer;
let tokens: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ss-fuzz-'));
  keygen('sealed', join(dir, 'k'));
  pem = join(dir, 'k', 'survey-private.pem');
  const recipient = parsePublicKey(readFileSync(join(dir, 'k', 'survey-public.txt'), 'utf8'));
  // Half the rows bound to their execution (pkx), half not (pk), so both row checks are mutated too.
  const rows = [['date', 'execution_sid', 'name', 'phone', 'notes']];
  for (let i = 0; i < 6; i++) {
    const execution = `FN${String(i).repeat(32)}`;
    const t = sealResponse([['name', `Name ${i} "q", ñ`], ['phone', `+2547${i}`]], recipient, systemRandomness, i % 2 ? execution : undefined);
    rows.push([`2026-11-0${i}`, execution, t.get('name') as string, t.get('phone') as string, i % 2 ? 'a,b\nc' : 'plain']);
  }
  base = Buffer.from(toCsv(rows, '\r\n'));
  tokens = rows.slice(1).flatMap((r) => [r[1] as string, r[2] as string]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPECIAL = [0x22, 0x2c, 0x0a, 0x0d, 0x2e, 0x00, 0xff, 0xef];

function mutate(input: Buffer, next: () => number): Buffer {
  let b = Buffer.from(input);
  const edits = 1 + Math.floor(next() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (b.length + 1));
    const kind = Math.floor(next() * 6);
    if (kind === 0 && b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(next() * 256);
    else if (kind === 1) b = Buffer.concat([b.subarray(0, at), Buffer.of(SPECIAL[Math.floor(next() * SPECIAL.length)] as number), b.subarray(at)]);
    else if (kind === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(next() * 40)))]);
    else if (kind === 3) b = b.subarray(0, at);
    else if (kind === 4) b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 60), b.subarray(at)]);
    else b = Buffer.from(Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 256)));
  }
  return b;
}

describe('fuzz', () => {
  it('decrypt-csv answers 1,500 mutated files with exit 0/1/2, clear messages, and no partial output (keep|blank: the whole file)', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const codes = new Map<number, number>();
    try {
      for (let seed = 1; seed <= 1500; seed++) {
        const next = prng(seed);
        const caseDir = join(dir, `c${seed}`);
        rmSync(caseDir, { recursive: true, force: true });
        const input = join(dir, `in${seed % 7}.csv`);
        writeFileSync(input, mutate(base, next));
        const out = join(caseDir, 'out.csv');
        mkdirSync(caseDir);
        const args = ['node', 'decrypt-csv', '-q', '--threads', '0', '--key-file', pem, input, '-o', out];
        const keeping = next() < 0.3;
        if (keeping) args.push('--on-error', next() < 0.5 ? 'keep' : 'blank');
        if (next() < 0.3) args.push('--columns', 'name,phone');
        errors.length = 0;
        const code = await decryptCsv(args);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        const said = errors.join('');
        expect([0, 1, 2], `seed ${seed}: ${said}`).toContain(code);
        expect(said, `seed ${seed}`).not.toMatch(/unexpected error|\n\s+at /);
        if (code !== 0) {
          expect(said.length, `seed ${seed}`).toBeGreaterThan(10);
          // keep|blank write the file and still exit 1 when a cell or row failed, saying so; nothing else is ever left.
          if (keeping && code === 1 && said.includes('Everything else was decrypted into')) expect(readdirSync(caseDir), `seed ${seed}`).toEqual(['out.csv']);
          else expect(readdirSync(caseDir), `seed ${seed}`).toEqual([]);
        } else {
          expect(existsSync(out), `seed ${seed}`).toBe(true);
        }
        rmSync(caseDir, { recursive: true, force: true });
      }
    } finally {
      spy.mockRestore();
      stdout.mockRestore();
    }
    // The corpus must exercise both outcomes, or it proves nothing.
    expect(codes.get(0) ?? 0).toBeGreaterThan(50);
    expect(codes.get(1) ?? 0).toBeGreaterThan(50);
  }, 120_000);

  it('opening 5,000 mutated tokens only ever throws EnvelopeError', () => {
    const opener = new Opener(loadKeyFiles([pem]).keyring);
    const next = prng(42);
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const token = tokens[Math.floor(next() * tokens.length)] as string;
      const mutated = mutate(Buffer.from(token, 'latin1'), next).toString('latin1');
      try {
        opener.openToken(mutated);
      } catch (error) {
        expect(error).toBeInstanceOf(EnvelopeError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(4500);
  });
});
