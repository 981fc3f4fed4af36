// decrypt-csv's input and output under real conditions: standard output that
// gets nothing unless the whole file decrypted and that may close early,
// rows larger than a chunk, leftovers of killed runs, European separators,
// and the arguments people actually type. The built command, real files,
// real pipes.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { commandArgs } from '../src/cli/command-args.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { sealResponse } from '../src/envelope/index.js';
import { keygen } from '../src/keys/files.js';
import { parseSharedKey, type Recipient } from '../src/keys/keys.js';
import { runCli } from './helpers/cli.js';
import { filesIn, toCsv } from './helpers/csv.js';

let work: string;
let keys: string;
let secret: string;
let sharedTo: Recipient;

beforeAll(() => {
  keys = mkdtempSync(join(tmpdir(), 'ss-io-keys-'));
  keygen('sealed', keys);
  keygen('shared', keys);
  secret = join(keys, 'survey-secret.key');
  sharedTo = parseSharedKey(readFileSync(secret, 'utf8'));
  work = mkdtempSync(join(tmpdir(), 'ss-io-'));
});

let n = 0;
function caseDir(): string {
  const dir = join(work, `case${n++}`);
  mkdirSync(dir);
  return dir;
}

/** `rows` sealed responses (shared mode: fast to make), and the plaintext decrypt-csv must give back. */
function survey(rows: number): { sealed: string[][]; plain: string[][] } {
  const sealed = [['date', 'name', 'phone']];
  const plain = [['date', 'name', 'phone']];
  for (let i = 0; i < rows; i++) {
    const t = sealResponse([['name', `Name ${i}, "q"`], ['phone', `254${i}`]], sharedTo);
    sealed.push(['2026-11-01', t.get('name') as string, t.get('phone') as string]);
    plain.push(['2026-11-01', `Name ${i}, "q"`, `254${i}`]);
  }
  return { sealed, plain };
}

/** Runs the built decrypt-csv with a private TMPDIR, reading only the first piece of its stdout before closing it. */
function runClosingStdout(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; got: number }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'decrypt-csv'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let got = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The output is far larger than a pipe's buffer, so the command is still writing when the reader goes.
    child.stdout.once('data', (d: Buffer) => {
      got = d.length;
      child.stdout.destroy();
    });
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stderr, got }));
  });
}

describe('-o -: standard output gets the whole file or nothing', () => {
  let file: string;
  let plain: string[][];
  beforeAll(() => {
    const s = survey(12_000);
    plain = s.plain;
    file = join(caseDir(), 'big.csv');
    writeFileSync(file, toCsv(s.sealed));
  });

  it('a bad cell near the end: exit 1 and not one byte on stdout, no spool left, on worker threads too', async () => {
    const dir = caseDir();
    const text = readFileSync(file, 'utf8').split('\n');
    const last = text[12_000] as string;
    // Change the third-to-last character (a whole sextet of the tag), to something it is not.
    text[12_000] = `${last.slice(0, -3)}${last.at(-3) === 'A' ? 'B' : 'A'}${last.slice(-2)}`;
    writeFileSync(join(dir, 'bad.csv'), text.join('\n'));
    const spool = caseDir();
    for (const threads of ['0', '2']) {
      const res = await runCli('decrypt-csv', ['-q', '--threads', threads, '--key-file', secret, join(dir, 'bad.csv'), '-o', '-'], { env: { TMPDIR: spool } });
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/row 12001, column "phone": authentication failed/);
      expect(res.stdout).toBe('');
      expect(filesIn(spool)).toEqual([]);
    }
  });

  it('a good file: all of it, then the spool is gone', async () => {
    const spool = caseDir();
    const res = await runCli('decrypt-csv', ['-q', '--threads', '2', '--key-file', secret, file, '-o', '-'], { env: { TMPDIR: spool } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(toCsv(plain));
    expect(filesIn(spool)).toEqual([]);
  });

  it('a reader that stops early (| head) ends it quietly, and the spool is removed', async () => {
    const spool = caseDir();
    const res = await runClosingStdout(['-q', '--key-file', secret, file, '-o', '-'], { TMPDIR: spool });
    expect(res.got).toBeGreaterThan(0);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(141); // as a Unix tool killed by SIGPIPE: a pipeline does not pass for a success it did not see
    expect(filesIn(spool)).toEqual([]);
  });
});

it('--help into a pipe nobody reads exits quietly (no EPIPE stack trace)', async () => {
  // A FIFO whose only reader closed before the command started: its first write fails with EPIPE, deterministically.
  const fifo = join(caseDir(), 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  const res = await new Promise<{ code: number | null; stderr: string }>((ok, fail) => {
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'decrypt-csv'), '--help'], { stdio: ['ignore', writer, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stderr }));
  });
  closeSync(writer);
  expect(res.stderr).toBe('');
  // As for any Unix tool whose reader left; no crash (1 with a stack trace).
  expect(res.code).toBe(141);
});

describe('rows larger than a chunk', () => {
  it('a first row of 2.5 MB decrypts byte for byte, in this thread and on workers', async () => {
    const dir = caseDir();
    const huge = `${'long answer, with "quotes"\nand lines; '.repeat(70_000)}end`;
    const rows = [['notes', 'name', 'phone'], [huge, 'Ann', '1'], ['short', 'Bob', '2'], ['', 'Cy', '3']];
    writeFileSync(join(dir, 'plain.csv'), toCsv(rows));
    const sealed = await runCli('sealed-survey', ['encrypt-csv', '-q', '--columns', 'name,phone', '--key-file', secret, join(dir, 'plain.csv'), '-o', join(dir, 's.csv')]);
    expect(sealed.code, sealed.stderr).toBe(0);
    for (const threads of ['0', '2']) {
      const res = await runCli('decrypt-csv', ['--threads', threads, '--key-file', secret, join(dir, 's.csv'), '-o', join(dir, `back${threads}.csv`)]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain('Decrypting columns: name, phone (detected');
      expect(res.stderr).toContain('Done: 3 rows');
      expect(readFileSync(join(dir, `back${threads}.csv`)).equals(readFileSync(join(dir, 'plain.csv')))).toBe(true);
    }
  });

  it('a row over the 16 MB bound is a clear error, exit 1, nothing written', async () => {
    const dir = caseDir();
    writeFileSync(join(dir, 'huge.csv'), `name,notes\nAnn,"${'x'.repeat(17 << 20)}"\n`);
    const res = await runCli('decrypt-csv', ['--key-file', secret, join(dir, 'huge.csv')]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/a row is longer than 16 MB, which no survey row is: a quoted cell is probably never closed/);
    expect(filesIn(dir)).toEqual(['huge.csv']);
  });
});

describe('leftovers of killed runs', () => {
  it('stale .partial files of this output are removed with a note; live, unrelated and other users\' names are left', async () => {
    const dir = caseDir();
    writeFileSync(join(dir, 's.csv'), toCsv(survey(2).sealed));
    const stale = ['.out.csv.99999999-deadbeef.partial', '.out.csv.0123abcd.partial'];
    const kept = [`.out.csv.${process.pid}-cafebabe.partial`, '.other.csv.99999999-deadbeef.partial', 'out.csv.99999999-deadbeef.partial'];
    for (const name of [...stale, ...kept]) writeFileSync(join(dir, name), 'plaintext of a killed run');
    const res = await runCli('decrypt-csv', ['--key-file', secret, join(dir, 's.csv'), '-o', join(dir, 'out.csv')]);
    expect(res.code, res.stderr).toBe(0);
    for (const name of stale) expect(res.stderr).toContain(`removed ${join(dir, name)}, left behind by an interrupted run`);
    expect(filesIn(dir)).toEqual([...kept, 'out.csv', 's.csv'].sort());
  });

  it('and so is a stale standard-output spool in the temporary folder', async () => {
    const dir = caseDir();
    const spool = caseDir();
    writeFileSync(join(dir, 's.csv'), toCsv(survey(1).sealed));
    writeFileSync(join(spool, '.sealed-survey-stdout.99999999-0badf00d.partial'), 'plaintext');
    const res = await runCli('decrypt-csv', ['--key-file', secret, join(dir, 's.csv'), '-o', '-'], { env: { TMPDIR: spool } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('left behind by an interrupted run');
    expect(filesIn(spool)).toEqual([]);
  });
});

describe('separators', () => {
  /** A delimiter-separated file quoted as the exporting program would: only cells holding the separator, a quote or a line break. */
  const dsv = (rows: string[][], sep: string) => rows.map((r) => r.map((c) => (c.includes(sep) || /["\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(sep)).join('\r\n') + '\r\n';
  const rows = [
    ['fecha', 'nombre', 'teléfono', 'notas'],
    ['01/11/2026', 'María; "la" Ñúñez', '+34 600, 000', 'a;b'],
    ['02/11/2026', 'José\tPérez', '612', 'línea\nnueva'],
  ];

  it.each([
    [';', ';'],
    ['\t', 'tab'],
  ])('a %j-separated export is recognised, said, and written back with its separator', async (sep, said) => {
    const dir = caseDir();
    writeFileSync(join(dir, 'plain.csv'), dsv(rows, sep));
    const sealed = await runCli('sealed-survey', ['encrypt-csv', '-q', '--columns', 'nombre,teléfono', '--key-file', secret, join(dir, 'plain.csv'), '-o', join(dir, 's.csv')]);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(readFileSync(join(dir, 's.csv'), 'utf8').split('\r\n')[1]).toMatch(new RegExp(`^01/11/2026${sep}ss1\\.sk\\.`));
    const res = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', secret, join(dir, 's.csv'), '-o', join(dir, 'back.csv')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`this file uses ${said} as separator`);
    expect(res.stderr).toContain('Decrypting columns: nombre, teléfono (detected');
    expect(readFileSync(join(dir, 'back.csv'), 'utf8')).toBe(dsv(rows, sep));
  });

  it('--delimiter forces the separator when the header is ambiguous; a bad value is a usage error', async () => {
    const dir = caseDir();
    // As many commas as semicolons in the header: detection says comma, the file says semicolon.
    const text = dsv([['id', 'note, free, text', 'name'], ['1', 'x, y', sealResponse([['name', 'Ann']], sharedTo).get('name') as string]], ';');
    writeFileSync(join(dir, 's.csv'), text);
    const guessed = await runCli('decrypt-csv', ['--key-file', secret, join(dir, 's.csv'), '-o', '-']);
    expect(guessed.code).toBe(1);
    expect(guessed.stderr).toMatch(/no column of the first rows holds sealed-survey tokens \(reading the file with "," as separator\); name the columns to decrypt with --columns, or the separator with --delimiter/);
    const res = await runCli('decrypt-csv', ['--delimiter', ';', '-q', '--key-file', secret, join(dir, 's.csv'), '-o', '-']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(dsv([['id', 'note, free, text', 'name'], ['1', 'x, y', 'Ann']], ';'));
    const bad = await runCli('decrypt-csv', ['--delimiter', '|', '--key-file', secret, join(dir, 's.csv'), '-o', '-']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--delimiter.*Allowed choices are ,, ;, tab/);
  });
});

describe('arguments people actually type', () => {
  it('an unquoted path with spaces gets "quote paths with spaces", exit 2', async () => {
    const dir = caseDir();
    writeFileSync(join(dir, 'My Survey.csv'), toCsv(survey(1).sealed));
    const res = await runCli('decrypt-csv', ['--key-file', secret, 'My', 'Survey.csv'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('quote paths with spaces: decrypt-csv "My Survey.csv"');
    expect(res.stderr).not.toContain('too many arguments');
    const unknown = await runCli('decrypt-csv', ['--key-file', secret, 'Your', 'Survey.csv'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/takes one input file, but was given 2 arguments: quote paths with spaces: decrypt-csv "My Survey.csv"; keys go in --key-file/);
    expect(filesIn(dir)).toEqual(['My Survey.csv']);
  });

  it('a key given as an argument is refused without being echoed, whole or split by the shell', async () => {
    const dir = caseDir();
    writeFileSync(join(dir, 's.csv'), toCsv(survey(1).sealed));
    const shared = readFileSync(secret, 'utf8').trim();
    const pemText = readFileSync(join(keys, 'survey-private.pem'), 'utf8');
    const publicKey = readFileSync(join(keys, 'survey-public.txt'), 'utf8').trim();
    for (const extra of [[shared], [pemText], pemText.trim().split(/\s+/), [publicKey]]) {
      for (const args of [[join(dir, 's.csv'), ...extra], [...extra, join(dir, 's.csv')]]) {
        const res = await runCli('decrypt-csv', args);
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toContain('keys go in --key-file, never on the command line');
        expect(res.stderr).not.toMatch(/\n\s+at /);
        for (const piece of extra) if (piece.length > 12) expect(res.stderr).not.toContain(piece);
      }
    }
    expect(filesIn(dir)).toEqual(['s.csv']);
  });
});
