import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CryptoJS from 'crypto-js';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { keygen } from '../src/keys/files.js';
import { runCli } from './helpers/cli.js';
import { filesIn, toCsv } from './helpers/csv.js';

let keys: string;
let otherKeys: string;
let work: string;
const pem = () => join(keys, 'survey-private.pem');
const pub = () => join(keys, 'survey-public.txt');

beforeAll(() => {
  keys = mkdtempSync(join(tmpdir(), 'ss-keys-'));
  otherKeys = mkdtempSync(join(tmpdir(), 'ss-keys2-'));
  keygen('sealed', keys);
  keygen('shared', keys);
  keygen('sealed', otherKeys);
  work = mkdtempSync(join(tmpdir(), 'ss-csv-'));
});

let n = 0;
function fresh(name: string, content: string | Buffer): { dir: string; file: string } {
  const dir = join(work, `case${n++}`);
  mkdirSync(dir);
  const file = join(dir, name);
  writeFileSync(file, content);
  return { dir, file };
}

const header = ['date', 'execution_sid', 'name', 'phone', 'age', 'district', 'notes'];
const nastyRows: string[][] = [
  header,
  ['2026-11-01', 'FN001', 'María, "la" Ñúñez', '+254 700 000 001', '34', 'Kisumu', 'line one\nline two'],
  ['2026-11-01', 'FN002', '', '', '', '', ''],
  ['2026-11-02', 'FN003', 'שלום עולם 👩🏽‍🌾', '=HYPERLINK("http://x")', '19', 'Nairobi', 'said "yes", then "no"'],
  ['2026-11-02', 'FN004', 'x'.repeat(4096), '😀'.repeat(4096), '77', 'Mombasa', 'CR\rinside'],
];

async function roundTrip(content: string | Buffer, threads: string): Promise<void> {
  const { dir, file } = fresh('plain.csv', content);
  const sealed = await runCli('sealed-survey', ['encrypt-csv', '--columns', 'name,phone', '--key-file', pub(), file]);
  expect(sealed.code, sealed.stderr).toBe(0);
  const sealedText = readFileSync(join(dir, 'plain.sealed.csv'), 'utf8');
  const records: string[][] = parse(sealedText.replace(/^\ufeff/, ''), { relax_column_count: true });
  const [names, ...data] = records;
  const nameAt = (names as string[]).findIndex((h) => h.replace(/^\ufeff/, '') === 'name');
  const phoneAt = (names as string[]).indexOf('phone');
  for (const r of data) {
    expect(r[nameAt]).toMatch(/^ss1\.pk\..*\.name\./);
    expect(r[phoneAt]).toMatch(/^ss1\.pk\..*\.phone\./);
  }
  const out = await runCli('decrypt-csv', ['--no-excel-safe', '--threads', threads, '--key-file', pem(), join(dir, 'plain.sealed.csv'), '-o', join(dir, 'back.csv')]);
  expect(out.code, out.stderr).toBe(0);
  expect(readFileSync(join(dir, 'back.csv')).equals(Buffer.isBuffer(content) ? content : Buffer.from(content))).toBe(true);
}

describe('encrypt-csv → decrypt-csv round trip is byte-exact', () => {
  it.each(['0', '2'])('quoted newlines, quotes, commas, empty, emoji/RTL, 4,096-character cells (threads=%s)', async (threads) => {
    await roundTrip(toCsv(nastyRows), threads);
  });
  it('CRLF line endings and a UTF-8 BOM', async () => {
    await roundTrip(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(toCsv(nastyRows, '\r\n'))]), '0');
  });
  it('a header-only file and a file without a final newline', async () => {
    await roundTrip('name,phone\n', '0');
    await roundTrip('name,phone\nAnn,1', '0');
  });
  it('many rows across many chunks and workers', async () => {
    const rows = [header, ...Array.from({ length: 8_000 }, (_, i) => ['2026-11-01', `FN${i}`, `Name ${i}, "q"`, `+2547${i}`, String(i % 90), 'Kisumu', i % 7 === 0 ? 'multi\nline' : 'ok'])];
    await roundTrip(toCsv(rows), '2');
  });
});

describe('decrypt-csv output', () => {
  it("prefixes formula-like answers with ' by default in files, not with --no-excel-safe or on stdout", async () => {
    const { dir, file } = fresh('p.csv', toCsv([['name', 'phone'], ['=1+1', '+254'], ['@SUM(A1)', '-5']]));
    await runCli('sealed-survey', ['encrypt-csv', '--columns', 'name,phone', '--key-file', pub(), file, '-o', join(dir, 's.csv')]);
    expect((await runCli('decrypt-csv', ['--key-file', pem(), join(dir, 's.csv')])).code).toBe(0);
    expect(readFileSync(join(dir, 's.decrypted.csv'), 'utf8')).toBe("name,phone\n'=1+1,'+254\n'@SUM(A1),'-5\n");
    const raw = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem(), join(dir, 's.csv'), '-o', join(dir, 'raw.csv')]);
    expect(raw.code).toBe(0);
    expect(readFileSync(join(dir, 'raw.csv'), 'utf8')).toBe('name,phone\n=1+1,+254\n@SUM(A1),-5\n');
    const piped = await runCli('decrypt-csv', ['-q', '--key-file', pem(), join(dir, 's.csv'), '-o', '-']);
    expect(piped.stdout).toBe('name,phone\n=1+1,+254\n@SUM(A1),-5\n');
    const safePiped = await runCli('decrypt-csv', ['-q', '--excel-safe', '--key-file', pem(), join(dir, 's.csv'), '-o', '-']);
    expect(safePiped.stdout).toBe("name,phone\n'=1+1,'+254\n'@SUM(A1),'-5\n");
  });

  it('says which columns it detected and reports ragged rows by sheet row number', async () => {
    const { dir, file } = fresh('p.csv', toCsv([['a', 'name', 'b'], ['1', 'Ann', '2'], ['3', 'Bob', '4']]));
    await runCli('sealed-survey', ['encrypt-csv', '--columns', 'name', '--key-file', pub(), file, '-o', join(dir, 's.csv')]);
    writeFileSync(join(dir, 's.csv'), readFileSync(join(dir, 's.csv'), 'utf8') + 'short\n');
    const res = await runCli('decrypt-csv', ['--key-file', pem(), join(dir, 's.csv')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('Decrypting columns: name (detected');
    expect(res.stderr).toMatch(/1 row has a different number of cells than the header \(row 4: 1\)/);
    expect(readFileSync(join(dir, 's.decrypted.csv'), 'utf8')).toBe('a,name,b\n1,Ann,2\n3,Bob,4\nshort\n');
  });
});

it('reads quoted, non-ASCII header names behind a BOM', async () => {
  const plain = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(toCsv([['nömbre "x"', 'teléfono'], ['Zoë', '+1']]))]);
  const { dir, file } = fresh('p.csv', plain);
  const sealed = await runCli('sealed-survey', ['encrypt-csv', '--columns', 'nömbre "x",teléfono', '--key-file', pub(), file, '-o', join(dir, 's.csv')]);
  expect(sealed.code, sealed.stderr).toBe(0);
  const res = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem(), join(dir, 's.csv'), '-o', join(dir, 'back.csv')]);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toContain('Decrypting columns: nömbre "x", teléfono (detected');
  expect(readFileSync(join(dir, 'back.csv')).equals(plain)).toBe(true);
});

describe('keys', () => {
  let sealedFile: string;
  let dir: string;
  beforeAll(async () => {
    const f = fresh('p.csv', toCsv([['name'], ['Ann']]));
    dir = f.dir;
    sealedFile = join(dir, 's.csv');
    await runCli('sealed-survey', ['encrypt-csv', '--columns', 'name', '--key-file', pub(), f.file, '-o', sealedFile]);
  });

  it('reads the key from standard input, SURVEY_PRIVATE_KEY, or shared keys from SURVEY_SECRET_KEY', async () => {
    const viaStdin = await runCli('decrypt-csv', ['-q', '--key-file', '-', sealedFile, '-o', '-'], { input: readFileSync(pem(), 'utf8') });
    expect(viaStdin.stdout).toBe('name\nAnn\n');
    const viaEnv = await runCli('decrypt-csv', ['-q', sealedFile, '-o', '-'], { env: { SURVEY_PRIVATE_KEY: readFileSync(pem(), 'utf8') } });
    expect(viaEnv.stdout).toBe('name\nAnn\n');
    const sharedKey = readFileSync(join(keys, 'survey-secret.key'), 'utf8').trim();
    const s = fresh('p.csv', toCsv([['name'], ['Zoë']]));
    await runCli('sealed-survey', ['encrypt-csv', '--columns', 'name', '--key-file', join(keys, 'survey-secret.key'), s.file, '-o', join(s.dir, 's.csv')]);
    const viaSecret = await runCli('decrypt-csv', ['-q', join(s.dir, 's.csv'), '-o', '-'], { env: { SURVEY_SECRET_KEY: sharedKey } });
    expect(viaSecret.stdout).toBe('name\nZoë\n');
  });

  it('refuses a key given on the command line and shows the safe ways', async () => {
    const before = filesIn(dir);
    for (const args of [['--key', 'abc'], ['--secret-key', 'abc'], ['--key-file', readFileSync(pem(), 'utf8')]]) {
      const res = await runCli('decrypt-csv', [...args, sealedFile]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/never (taken )?on the command line/);
      expect(res.stderr).toContain('--key-file -');
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
    expect(filesIn(dir)).toEqual(before);
  });

  it('warns about a key file others can read', async () => {
    const k = mkdtempSync(join(tmpdir(), 'ss-keys3-'));
    keygen('sealed', k);
    chmodSync(join(k, 'survey-private.pem'), 0o644);
    const res = await runCli('decrypt-csv', ['--key-file', join(k, 'survey-private.pem'), sealedFile, '-o', '-']);
    expect(res.stderr).toMatch(/warning: key file .* can be read by other users/);
  });

  it('--help shows an example for each key source', async () => {
    const res = await runCli('decrypt-csv', ['--help']);
    expect(res.code).toBe(0);
    for (const s of ['--key-file keys/survey-private.pem', '--key-file - survey.csv <', 'SURVEY_SECRET_KEY=', '--legacy-passphrase-file passphrase.txt']) expect(res.stdout).toContain(s);
  });
});

describe('failures: right exit code, a clear message, nothing written', () => {
  async function sealedCase(rows: string[][], columns: string) {
    const f = fresh('p.csv', toCsv(rows));
    const sealedPath = join(f.dir, 's.csv');
    await runCli('sealed-survey', ['encrypt-csv', '--columns', columns, '--key-file', pub(), f.file, '-o', sealedPath]);
    return { dir: f.dir, sealedPath, text: readFileSync(sealedPath, 'utf8') };
  }
  async function expectFailure(args: string[], dir: string, code: number, message: RegExp) {
    const before = filesIn(dir);
    const res = await runCli('decrypt-csv', args);
    expect(res.code, res.stderr).toBe(code);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(filesIn(dir)).toEqual(before);
    return res;
  }

  it('a wrong key names the key ids', async () => {
    const c = await sealedCase([['name', 'phone'], ['Ann', '1'], ['Bob', '2']], 'name,phone');
    await expectFailure(['--key-file', join(otherKeys, 'survey-private.pem'), c.sealedPath], c.dir, 1, /row 2, column "name": the cell was sealed for key id [0-9a-f]{8}, but the private keys given have key id [0-9a-f]{8}/);
  });

  it('a tampered cell stops at its sheet row', async () => {
    const c = await sealedCase([['name', 'phone'], ['Ann', '1'], ['Bob', '2'], ['Cy', '3']], 'name,phone');
    const lines = c.text.split('\n');
    const cell = lines[3] as string;
    const i = cell.indexOf(',') - 5;
    lines[3] = cell.slice(0, i) + (cell[i] === 'A' ? 'B' : 'A') + cell.slice(i + 1);
    writeFileSync(c.sealedPath, lines.join('\n'));
    await expectFailure(['--key-file', pem(), c.sealedPath], c.dir, 1, /row 4, column "name": authentication failed \(wrong key, or the cell was altered\)/);
  });

  it('cells swapped between columns or moved between rows are caught', async () => {
    const c = await sealedCase([['name', 'phone'], ['Ann', '1'], ['Bob', '2']], 'name,phone');
    const rows: string[][] = parse(c.text);
    writeFileSync(c.sealedPath, toCsv([rows[0]!, [rows[1]![1]!, rows[1]![0]!], rows[2]!]));
    await expectFailure(['--key-file', pem(), c.sealedPath], c.dir, 1, /row 2, column "name": the cell was sealed for field "phone" but sits in column "name"/);
    writeFileSync(c.sealedPath, toCsv([rows[0]!, [rows[1]![0]!, rows[2]![1]!], rows[2]!]));
    await expectFailure(['--key-file', pem(), c.sealedPath], c.dir, 1, /row 2, column "phone": .*different response/);
  });

  it('--on-error keep and blank write the file, summarise, and exit 1', async () => {
    const c = await sealedCase([['name', 'phone'], ['Ann', '1'], ['Bob', '2']], 'name,phone');
    const rows: string[][] = parse(c.text);
    const broken = toCsv([rows[0]!, [rows[1]![0]!, 'ss1.pk.00000000.phone.x.0.y'], rows[2]!]);
    writeFileSync(c.sealedPath, broken);
    const keep = await runCli('decrypt-csv', ['--on-error', 'keep', '--key-file', pem(), c.sealedPath, '-o', join(c.dir, 'keep.csv')]);
    expect(keep.code).toBe(1);
    expect(keep.stderr).toMatch(/1 cell could not be decrypted and was kept as it was: "phone" 1 \(first rows: 2\)/);
    expect(readFileSync(join(c.dir, 'keep.csv'), 'utf8')).toBe('name,phone\nAnn,ss1.pk.00000000.phone.x.0.y\nBob,2\n');
    const blank = await runCli('decrypt-csv', ['--on-error', 'blank', '--key-file', pem(), c.sealedPath, '-o', join(c.dir, 'blank.csv')]);
    expect(blank.code).toBe(1);
    expect(blank.stderr).toMatch(/1 cell could not be decrypted and was left empty/);
    expect(readFileSync(join(c.dir, 'blank.csv'), 'utf8')).toBe('name,phone\nAnn,\nBob,2\n');
  });

  it('missing column, missing input, existing output, unreadable key, bad usage', async () => {
    const c = await sealedCase([['name', 'phone'], ['Ann', '1']], 'name');
    await expectFailure(['--columns', 'nme', '--key-file', pem(), c.sealedPath], c.dir, 2, /column "nme" is not in the file's header; the columns are: 1:name, 2:phone/);
    await expectFailure(['--key-file', pem(), join(c.dir, 'nope.csv')], c.dir, 1, /input file .*nope\.csv does not exist/);
    writeFileSync(join(c.dir, 's.decrypted.csv'), 'precious');
    await expectFailure(['--key-file', pem(), c.sealedPath], c.dir, 2, /s\.decrypted\.csv already exists; add --force/);
    expect(readFileSync(join(c.dir, 's.decrypted.csv'), 'utf8')).toBe('precious');
    await expectFailure(['--key-file', join(c.dir, 'missing.pem'), c.sealedPath, '-o', join(c.dir, 'o.csv')], c.dir, 1, /key file .*missing\.pem does not exist/);
    await expectFailure(['--key-file', c.dir, c.sealedPath, '-o', join(c.dir, 'o.csv')], c.dir, 1, /is a folder/);
    await expectFailure(['--on-error', 'skip', '--key-file', pem(), c.sealedPath], c.dir, 2, /invalid/);
    const forced = await runCli('decrypt-csv', ['--force', '--key-file', pem(), c.sealedPath]);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(c.dir, 's.decrypted.csv'), 'utf8')).toBe('name,phone\nAnn,1\n');
  });

  it('a quoted cell that never closes is a CSV error with its row', async () => {
    const c = await sealedCase([['name', 'phone'], ['Ann', '1']], 'name');
    writeFileSync(c.sealedPath, `${c.text}"broken,2\n`);
    await expectFailure(['--key-file', pem(), c.sealedPath], c.dir, 1, /row 3: the file is not valid CSV here: a quoted cell is never closed/);
  });
});

describe('legacy CryptoJS cells', () => {
  const legacyCell = (pt: string, pass: string) => {
    const key16 = pass.length > 16 ? pass.substring(0, 16) : pass.concat('0'.repeat(16 - pass.length));
    const iv = CryptoJS.lib.WordArray.random(16);
    return iv.concat(CryptoJS.AES.encrypt(pt, CryptoJS.enc.Utf8.parse(key16), { iv }).ciphertext).toString(CryptoJS.enc.Base64);
  };

  it('decrypts cells made by crypto-js exactly as twilio_encrypt_fields.js did, beside ss1 columns, with a warning', async () => {
    const plain = toCsv([['name', 'old_phone'], ['Ann', ''], ['Bob', '']]);
    const f = fresh('p.csv', plain);
    await runCli('sealed-survey', ['encrypt-csv', '--columns', 'name', '--key-file', pub(), f.file, '-o', join(f.dir, 's.csv')]);
    const rows: string[][] = parse(readFileSync(join(f.dir, 's.csv'), 'utf8'));
    rows[1]![1] = legacyCell('+254 700 111', 'your_secret_key1');
    rows[2]![1] = legacyCell('Ñandú, "q" 🌍', 'your_secret_key1');
    writeFileSync(join(f.dir, 'mixed.csv'), toCsv(rows));
    writeFileSync(join(f.dir, 'pass.txt'), 'your_secret_key1\n');
    const res = await runCli('decrypt-csv', ['--legacy-passphrase-file', join(f.dir, 'pass.txt'), '--key-file', pem(), join(f.dir, 'mixed.csv'), '-o', '-', '-q']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(toCsv([['name', 'old_phone'], ['Ann', '+254 700 111'], ['Bob', 'Ñandú, "q" 🌍']]));
    const loud = await runCli('decrypt-csv', ['--legacy-passphrase-file', join(f.dir, 'pass.txt'), '--key-file', pem(), join(f.dir, 'mixed.csv'), '-o', '-']);
    expect(loud.stderr).toMatch(/2 legacy cells were decrypted: that format was never authenticated/);
    const wrong = await runCli('decrypt-csv', ['--key-file', pem(), join(f.dir, 'mixed.csv'), '-o', '-', '--columns', 'name,old_phone'], { env: { SURVEY_LEGACY_PASSPHRASE: 'not-the-passphrase' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/row 2, column "old_phone": legacy decryption/);
  });
});
