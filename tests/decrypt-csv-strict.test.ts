// decrypt-csv is strict about what it decrypts: a sealed column has no
// exceptions, old CryptoJS cells do not slip into sealed columns, and rows
// stay bound to their execution and to one row each (FORMAT.md §5, §7).
// Every case runs the built command on real files.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CryptoJS from 'crypto-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { sealResponse, systemRandomness } from '../src/envelope/index.js';
import { keygen } from '../src/keys/files.js';
import { parsePublicKey, parseSharedKey, type Recipient } from '../src/keys/keys.js';
import { runCli } from './helpers/cli.js';
import { filesIn, toCsv } from './helpers/csv.js';

let work: string;
let pem: string;
let secret: string;
let sealedTo: Recipient;
let sharedTo: Recipient;

beforeAll(() => {
  const keys = mkdtempSync(join(tmpdir(), 'ss-strict-keys-'));
  keygen('sealed', keys);
  keygen('shared', keys);
  pem = join(keys, 'survey-private.pem');
  secret = join(keys, 'survey-secret.key');
  sealedTo = parsePublicKey(readFileSync(join(keys, 'survey-public.txt'), 'utf8'));
  sharedTo = parseSharedKey(readFileSync(secret, 'utf8'));
  work = mkdtempSync(join(tmpdir(), 'ss-strict-'));
});

let n = 0;
function fresh(content: string): { dir: string; file: string } {
  const dir = join(work, `case${n++}`);
  mkdirSync(dir);
  const file = join(dir, 'survey.csv');
  writeFileSync(file, content);
  return { dir, file };
}

const execution = (i: number) => `FN${i.toString(16).padStart(32, '0')}`;

/** A survey export: date, execution_sid, name, phone; tokens bound to their execution unless `bound` is false. */
function survey(rows: number, options: { bound?: boolean; recipient?: Recipient } = {}): string[][] {
  const out = [['date', 'execution_sid', 'name', 'phone']];
  for (let i = 0; i < rows; i++) {
    const t = sealResponse([['name', `Name ${i}`], ['phone', `+2547${i}`]], options.recipient ?? sealedTo, systemRandomness, options.bound === false ? undefined : execution(i));
    out.push(['2026-11-01', execution(i), t.get('name') as string, t.get('phone') as string]);
  }
  return out;
}

const plain = (rows: number) => [['date', 'execution_sid', 'name', 'phone'], ...Array.from({ length: rows }, (_, i) => ['2026-11-01', execution(i), `Name ${i}`, `+2547${i}`])];

async function expectRefused(args: string[], dir: string, message: RegExp, code = 1) {
  const before = filesIn(dir);
  const res = await runCli('decrypt-csv', args);
  expect(res.code, res.stderr).toBe(code);
  expect(res.stderr).toMatch(message);
  expect(res.stderr).not.toMatch(/\n\s+at /);
  expect(filesIn(dir)).toEqual(before);
  return res;
}

describe('a detected column is sealed throughout', () => {
  it('one plaintext cell in a sealed column is an error naming its row and column, not a reason to skip the column', async () => {
    const rows = survey(5);
    rows[3]![3] = '+254 700 000 000';
    const { dir, file } = fresh(toCsv(rows));
    await expectRefused(['--key-file', pem, file], dir, /row 4, column "phone": the cell is not sealed, but its column holds sealed cells/);
    // --on-error keep writes the rest, keeps the cell, and still exits 1.
    const kept = await runCli('decrypt-csv', ['--no-excel-safe', '--on-error', 'keep', '--key-file', pem, file, '-o', join(dir, 'kept.csv')]);
    expect(kept.code, kept.stderr).toBe(1);
    expect(kept.stderr).toMatch(/1 cell could not be decrypted and was kept as it was: "phone" 1 \(first rows: 4\)/);
    expect(kept.stderr).toContain(`Everything else was decrypted into ${join(dir, 'kept.csv')}`);
    const expected = plain(5);
    expected[3]![3] = '+254 700 000 000';
    expect(readFileSync(join(dir, 'kept.csv'), 'utf8')).toBe(toCsv(expected));
  });

  it('a later token version counts as sealed and is refused as UNKNOWN_VERSION', async () => {
    const rows = survey(4, { bound: false });
    rows[2]![2] = `ss2${(rows[2]![2] as string).slice(3)}`;
    const { dir, file } = fresh(toCsv(rows));
    await expectRefused(['--key-file', pem, file], dir, /row 3, column "name": token version "ss2" is not supported/);
  });

  it('a column with a few tokens among other text is left alone, with a warning naming it', async () => {
    const rows = survey(4);
    const note = sealResponse([['notes', 'x']], sealedTo).get('notes') as string;
    const withNotes = rows.map((r, i) => [...r, i === 0 ? 'notes' : i === 1 ? note : `free text ${i}`]);
    const { dir, file } = fresh(toCsv(withNotes));
    const res = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem, file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('Decrypting columns: name, phone (detected');
    expect(res.stderr).toMatch(/column "notes" holds some sealed cells but mostly other text in the first rows, and was left as it is; to decrypt it, name it in --columns/);
    expect(readFileSync(join(dir, 'survey.decrypted.csv'), 'utf8')).toBe(toCsv(plain(4).map((r, i) => [...r, withNotes[i]![4] as string])));
  });

  it('rows whose cells are all empty (claimed and unused positions) pass through unchanged, without a warning', async () => {
    const rows = survey(3);
    const text = `${toCsv(rows.slice(0, 2))},,,\n\n${toCsv(rows.slice(2))},,,\n`;
    const { dir, file } = fresh(text);
    const res = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem, file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).not.toContain('warning');
    expect(res.stderr).toContain('Done: 6 rows written');
    const p = plain(3);
    expect(readFileSync(join(dir, 'survey.decrypted.csv'), 'utf8')).toBe(`${toCsv(p.slice(0, 2))},,,\n\n${toCsv(p.slice(2))},,,\n`);
  });

  it('counts in messages are grammatical', async () => {
    const { file } = fresh(toCsv(survey(1)));
    const res = await runCli('decrypt-csv', ['--key-file', pem, file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/Done: 1 row written to /);
  });
});

describe('old CryptoJS cells in sealed columns (legacy downgrade)', () => {
  const passphrase = 'your_secret_key1';
  const legacyCell = (text: string) => {
    const iv = CryptoJS.lib.WordArray.random(16);
    return iv.concat(CryptoJS.AES.encrypt(text, CryptoJS.enc.Utf8.parse(passphrase), { iv }).ciphertext).toString(CryptoJS.enc.Base64);
  };

  it('are refused unless --allow-legacy-cells, also when the tokens only start after the first chunk', async () => {
    // Legacy rows first (over 1 MB, so the sample sees no token), the migrated rows after: the mix is still seen.
    const head = ['name', 'phone'];
    const legacyRows = Array.from({ length: 12_000 }, (_, i) => [legacyCell(`Old ${i}`), legacyCell(`+1${i}`)]);
    const sealedRows = Array.from({ length: 3 }, (_, i) => {
      const t = sealResponse([['name', `New ${i}`], ['phone', `+2${i}`]], sharedTo);
      return [t.get('name') as string, t.get('phone') as string];
    });
    const { dir, file } = fresh(toCsv([head, ...legacyRows, ...sealedRows]));
    writeFileSync(join(dir, 'pass.txt'), `${passphrase}\n`);
    const legacy = ['--legacy-passphrase-file', join(dir, 'pass.txt'), '--key-file', secret];
    for (const threads of ['0', '2']) {
      await expectRefused(
        [...legacy, '--threads', threads, file],
        dir,
        /column "name" holds sealed tokens \(first in row 12002\) and old CryptoJS cells \(first in row 2\)\. An old cell carries no check of its column or row.*If this column was only partly migrated, add --allow-legacy-cells\./s,
      );
    }
    const allowed = await runCli('decrypt-csv', [...legacy, '--allow-legacy-cells', '--no-excel-safe', '-q', '--threads', '2', file, '-o', join(dir, 'out.csv')]);
    expect(allowed.code, allowed.stderr).toBe(0);
    const out = readFileSync(join(dir, 'out.csv'), 'utf8').split('\n');
    expect(out[1]).toBe('Old 0,+10');
    expect(out[12_001]).toBe('New 0,+20');
  });

  it('without the passphrase a legacy cell in a sealed column is named for what it is', async () => {
    const rows = survey(3);
    rows[2]![2] = legacyCell('Mallory');
    const { dir, file } = fresh(toCsv(rows));
    await expectRefused(['--key-file', pem, file], dir, /row 3, column "name": an old CryptoJS cell \(twilio_encrypt_fields\.js\): add --legacy-passphrase-file/);
  });

  it('--allow-legacy-cells without a passphrase is a usage error', async () => {
    const { dir, file } = fresh(toCsv(survey(1)));
    await expectRefused(['--allow-legacy-cells', '--key-file', pem, file], dir, /--allow-legacy-cells needs the passphrase of the old cells: add --legacy-passphrase-file/, 2);
  });
});

describe('rows bound to their execution, each response in one row', () => {
  /** Swaps the sealed part (name, phone) of two data rows (1-based data indexes), keeping their execution_sid. */
  const swapSealed = (rows: string[][], a: number, b: number) => {
    const [ra, rb] = [rows[a]!, rows[b]!];
    rows[a] = [...ra.slice(0, 2), ...rb.slice(2)];
    rows[b] = [...rb.slice(0, 2), ...ra.slice(2)];
  };

  it('two rows whose sealed parts were swapped name each other, across chunks and workers', async () => {
    const rows = survey(8_000, { recipient: sharedTo });
    swapSealed(rows, 2, 8_000);
    const { dir, file } = fresh(toCsv(rows));
    for (const threads of ['0', '2']) {
      const res = await expectRefused(['--threads', threads, '--key-file', secret, file], dir, /2 problems, nothing was written:/);
      expect(res.stderr).toContain('row 3 holds the tokens of the response in row 8001 (EXECUTION_MISMATCH)');
      expect(res.stderr).toContain('row 8001 holds the tokens of the response in row 3 (EXECUTION_MISMATCH)');
      expect(res.stderr).toContain('restore them from its version history');
      expect(res.stderr).not.toMatch(/FN[0-9a-f]{32}/);
    }
  });

  it('a response copied into another row is DUPLICATE_RESPONSE with both rows, bound or not', async () => {
    for (const bound of [true, false]) {
      const rows = survey(5, { bound });
      rows.push([...rows[2]!]); // the whole row written twice (same execution_sid)
      const { dir, file } = fresh(toCsv(rows));
      await expectRefused(['--key-file', pem, file], dir, /rows 3 and 7 hold the same response \(DUPLICATE_RESPONSE\)/);
    }
  });

  it('tokens of an execution that is in no row are reported as such', async () => {
    const rows = survey(3);
    rows[2]![1] = execution(99);
    const { dir, file } = fresh(toCsv(rows));
    await expectRefused(['--key-file', pem, file], dir, /row 3 holds the tokens of another execution than its execution_sid, and no row of the file has that execution_sid \(EXECUTION_MISMATCH/);
  });

  it('--on-error keep writes the file with the misplaced cells still sealed, lists the rows, and exits 1', async () => {
    const rows = survey(4);
    swapSealed(rows, 1, 3);
    const { dir, file } = fresh(toCsv(rows));
    const res = await runCli('decrypt-csv', ['--no-excel-safe', '--on-error', 'keep', '--key-file', pem, file, '-o', join(dir, 'kept.csv')]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/4 cells could not be decrypted and were kept as they were: "name" 2, "phone" 2 \(first rows: 2, 4\)/);
    expect(res.stderr).toContain('first problem: row 2 holds the tokens of the response in row 4 (EXECUTION_MISMATCH)');
    const expected = plain(4);
    expected[1] = rows[1]!;
    expected[3] = rows[3]!;
    expect(readFileSync(join(dir, 'kept.csv'), 'utf8')).toBe(toCsv(expected));
  });

  it('a repeated execution_sid with distinct responses is a warning with the rows, not an error', async () => {
    const rows = survey(4, { bound: false });
    rows[4]![1] = execution(1);
    const { dir, file } = fresh(toCsv(rows));
    const res = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem, file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/warning: 1 execution_sid appears in more than one row: rows 3 and 5 \(a sheet edited by hand, or rows written twice by an older version\)/);
    const expected = plain(4);
    expected[4]![1] = execution(1);
    expect(readFileSync(join(dir, 'survey.decrypted.csv'), 'utf8')).toBe(toCsv(expected));
  });

  it('the execution_sid column is found by the identifier rule (any case, spaces)', async () => {
    const rows = survey(3);
    rows[0]![1] = 'Execution SID';
    swapSealed(rows, 1, 2);
    const { dir, file } = fresh(toCsv(rows));
    await expectRefused(['--key-file', pem, file], dir, /row 2 holds the tokens of the response in row 3/);
  });
});
