// Reading requests_to_twilio_v2 `v2:` tokens and re-sealing them as ss1,
// against vectors made in Python from that project's documented format
// (tests/vectors/ipa-v2/make_vectors.py), through the real commands.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeError } from '../src/envelope/errors.js';
import { openIpaV2 } from '../src/envelope/ipa-v2.js';
import { ipaV2KeyFromRaw, readIpaV2KeyText } from '../src/keys/ipa-v2-key.js';
import { keygen } from '../src/keys/files.js';
import { runCli } from './helpers/cli.js';
import { filesIn, toCsv } from './helpers/csv.js';

const VECTORS = join(import.meta.dirname, 'vectors', 'ipa-v2');
const vectorText = (name: string) => readFileSync(join(VECTORS, name), 'utf8');
interface Vectors {
  valid: Array<{ name: string; plaintext: string; token: string }>;
  invalid: Array<{ name: string; token: string; code: string }>;
}
const vectors = JSON.parse(vectorText('vectors.json')) as Vectors;
const plainExport = readFileSync(join(VECTORS, 'export.plain.csv'));

function keyOf(text: string) {
  const found = readIpaV2KeyText(text);
  if (found.kind !== 'key') throw new Error(`no key found (${found.kind})`);
  return found;
}
const rttKey = () => ipaV2KeyFromRaw(keyOf(vectorText('rtt_private_key.txt')).raw);
const otherKey = () => ipaV2KeyFromRaw(keyOf(vectorText('other_private_key.txt')).raw);

const rows = (csv: string | Buffer): string[][] => parse(csv.toString(), { relax_column_count: true });

describe('the v2: decoder against the Python vectors', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('opens %s to the exact plaintext', (_name, v) => {
    expect(openIpaV2(v.token, [rttKey()])).toBe(v.plaintext);
  });

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('refuses a token with its %s, naming the problem but not the token', (_name, v) => {
    let caught: unknown;
    try {
      openIpaV2(v.token, [rttKey()]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvelopeError);
    expect((caught as EnvelopeError).code).toBe(v.code);
    expect((caught as EnvelopeError).message).toMatch(/requests_to_twilio_v2/);
    expect((caught as EnvelopeError).message).not.toContain(v.token.slice(3, 23));
  });

  it('tries every key given, and with none says which key is missing', () => {
    const v = vectors.valid[1] as Vectors['valid'][number];
    expect(openIpaV2(v.token, [otherKey(), rttKey()])).toBe(v.plaintext);
    expect(() => openIpaV2(v.token, [])).toThrow(/no requests_to_twilio_v2 private key/);
  });

  it("reads the peer's key file in every form it accepts, and its .env, as the same key", () => {
    const file = vectorText('rtt_private_key.txt');
    const raw = keyOf(file).raw;
    const urlsafe = file.trim();
    const standard = urlsafe.replaceAll('-', '+').replaceAll('_', '/');
    for (const text of [urlsafe, urlsafe.replace(/=$/, ''), standard, `\ufeff${urlsafe}\r\n`, `"${urlsafe}"`]) expect(keyOf(text).raw.equals(raw)).toBe(true);
    expect(keyOf(vectorText('peer.env'))).toMatchObject({ from: '.env' });
    expect(keyOf(vectorText('peer.env')).raw.equals(raw)).toBe(true);
    expect(keyOf(vectorText('peer.env').replaceAll('\n', '\r\n')).raw.equals(raw)).toBe(true);
    expect(keyOf(`# rtt\r\nexport ENCRYPTION_PRIVATE_KEY='${urlsafe}'  # the analyst's\r\n`).raw.equals(raw)).toBe(true);
    expect(readIpaV2KeyText('ENCRYPTION_PRIVATE_KEY=\nENCRYPTION_PRIVATE_KEY_FILE=keys/rtt_private_key.txt\n')).toEqual({ kind: 'points-to', path: 'keys/rtt_private_key.txt' });
    // Cut short, a typo outside the alphabet, a non-canonical last character.
    for (const bad of [urlsafe.slice(0, 40), `${urlsafe.slice(0, 10)}*${urlsafe.slice(11)}`, `${urlsafe.slice(0, 42)}B=`, 'not a key']) expect(readIpaV2KeyText(bad).kind).toBe('none');
  });
});

describe('decrypt-csv and encrypt-csv --from-v2-key on a requests_to_twilio_v2 export', () => {
  let work: string;
  let keys: string;
  let rtt: string;
  let n = 0;
  const pem = () => join(keys, 'survey-private.pem');
  const pub = () => join(keys, 'survey-public.txt');
  const fresh = () => {
    const dir = join(work, `case${n++}`);
    mkdirSync(dir);
    return dir;
  };
  const exportIn = (dir: string, name = 'export.csv') => {
    copyFileSync(join(VECTORS, name), join(dir, 'export.csv'));
    return join(dir, 'export.csv');
  };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ss-ipa-v2-'));
    keys = join(work, 'keys');
    keygen('sealed', keys);
    rtt = join(work, 'rtt_private_key.txt');
    copyFileSync(join(VECTORS, 'rtt_private_key.txt'), rtt);
    chmodSync(rtt, 0o600);
  });

  it('decrypts the Python-made export to the exact plaintext, and says once that v2: cells carry no binding', async () => {
    const dir = fresh();
    const out = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', rtt, exportIn(dir), '-o', join(dir, 'plain.csv')]);
    expect(out.code, out.stderr).toBe(0);
    expect(readFileSync(join(dir, 'plain.csv')).equals(plainExport)).toBe(true);
    expect(out.stderr).toContain('Decrypting columns: name, phone (detected');
    expect(out.stderr.match(/binds a value to neither its column nor its row/g)).toHaveLength(1);
    expect(out.stderr).toMatch(/9 requests_to_twilio_v2 cells/);
    expect(out.stderr).not.toContain('Jane Doe');
    expect(out.stderr).not.toContain(vectorText('rtt_private_key.txt').trim());
  });

  it("takes the peer's .env holding ENCRYPTION_PRIVATE_KEY as the key file", async () => {
    const dir = fresh();
    const env = join(dir, '.env');
    copyFileSync(join(VECTORS, 'peer.env'), env);
    chmodSync(env, 0o600);
    const out = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', env, exportIn(dir), '-o', join(dir, 'plain.csv')]);
    expect(out.code, out.stderr).toBe(0);
    expect(readFileSync(join(dir, 'plain.csv')).equals(plainExport)).toBe(true);
  });

  it('refuses an altered cell: exit 1, the row and column named, nothing written', async () => {
    const dir = fresh();
    const out = await runCli('decrypt-csv', ['--key-file', rtt, exportIn(dir, 'export-tampered.csv'), '-o', join(dir, 'plain.csv')]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('row 4, column "name": the requests_to_twilio_v2 token did not decrypt (authentication failed)');
    expect(filesIn(dir)).toEqual(['export.csv']);
  });

  it('refuses the wrong key with a clear message, writing nothing', async () => {
    const dir = fresh();
    const other = join(dir, 'other.txt');
    copyFileSync(join(VECTORS, 'other_private_key.txt'), other);
    const out = await runCli('decrypt-csv', ['--key-file', other, exportIn(dir), '-o', join(dir, 'plain.csv')]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/row 2, column "name": .*the key file is not the private key this sheet was sealed for/);
    expect(filesIn(dir)).toEqual(['export.csv', 'other.txt']);
  });

  it('names every key file format it reads when given something else, never echoing it', async () => {
    const dir = fresh();
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'hunter2-not-a-key\n');
    const out = await runCli('decrypt-csv', ['--key-file', junk, exportIn(dir)]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/junk\.txt is not a key file this command can read: .*requests_to_twilio_v2 private key \(rtt_private_key\.txt/);
    expect(out.stderr).not.toContain('hunter2');

    const env = join(dir, 'pointer.env');
    writeFileSync(env, 'ENCRYPTION_PRIVATE_KEY=\nENCRYPTION_PRIVATE_KEY_FILE=rtt_private_key.txt\n');
    const pointed = await runCli('decrypt-csv', ['--key-file', env, exportIn(dir)]);
    expect(pointed.code).toBe(1);
    expect(pointed.stderr).toContain('names its key file instead of holding the key: give that file with --key-file rtt_private_key.txt');
    expect(filesIn(dir)).toEqual(['export.csv', 'junk.txt', 'pointer.env']);
  });

  it('opens a v2: cell moved to another row without complaint: what the binding note warns of', async () => {
    const dir = fresh();
    const table = rows(readFileSync(join(VECTORS, 'export.csv')));
    const [r1, r2] = [table[1] as string[], table[2] as string[]];
    [r1[3], r2[3]] = [r2[3] as string, r1[3] as string];
    writeFileSync(join(dir, 'swapped.csv'), toCsv(table, '\r\n'));
    const out = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', rtt, join(dir, 'swapped.csv'), '-o', join(dir, 'plain.csv')]);
    expect(out.code, out.stderr).toBe(0);
    const plain = rows(readFileSync(join(dir, 'plain.csv')));
    expect(plain[1]?.[3]).toBe(vectors.valid.find((v) => v.name === 'multibyte')?.plaintext);
    expect(plain[2]?.[3]).toBe('Jane Doe');
  });

  it('decrypts a sheet with ss1 and v2: columns given both key files', async () => {
    const dir = fresh();
    const sealed = await runCli('sealed-survey', ['encrypt-csv', '--columns', 'consent', '--key-file', pub(), exportIn(dir), '-o', join(dir, 'mixed.csv')]);
    expect(sealed.code, sealed.stderr).toBe(0);
    const out = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem(), '--key-file', rtt, join(dir, 'mixed.csv'), '-o', join(dir, 'plain.csv')]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('Decrypting columns: name, phone, consent');
    expect(readFileSync(join(dir, 'plain.csv')).equals(plainExport)).toBe(true);
  });

  it('refuses a v2: cell in an ss1 column, which anyone holding the peer public key could have put there, unless --allow-legacy-cells', async () => {
    const dir = fresh();
    const sealed = await runCli('sealed-survey', ['encrypt-csv', '--columns', 'consent', '--key-file', pub(), exportIn(dir), '-o', join(dir, 'mixed.csv')]);
    expect(sealed.code, sealed.stderr).toBe(0);
    const table = rows(readFileSync(join(dir, 'mixed.csv')));
    (table[3] as string[])[5] = (table[1] as string[])[3] as string;
    writeFileSync(join(dir, 'mixed.csv'), toCsv(table, '\r\n'));
    const refused = await runCli('decrypt-csv', ['--key-file', pem(), '--key-file', rtt, join(dir, 'mixed.csv'), '-o', join(dir, 'plain.csv')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('column "consent" holds sealed tokens (first in row 2) and requests_to_twilio_v2 ("v2:") cells (first in row 4)');
    expect(filesIn(dir)).toEqual(['export.csv', 'mixed.csv']);
    const allowed = await runCli('decrypt-csv', ['--allow-legacy-cells', '--key-file', pem(), '--key-file', rtt, join(dir, 'mixed.csv'), '-o', join(dir, 'plain.csv')]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(rows(readFileSync(join(dir, 'plain.csv')))[3]?.[5]).toBe('Jane Doe');
  });

  it('re-seals the export as ss1 in one command that writes no plaintext, and our key decrypts it to the original byte for byte', async () => {
    const dir = fresh();
    const spool = mkdtempSync(join(work, 'tmp-'));
    const input = exportIn(dir);
    const re = await runCli('sealed-survey', ['encrypt-csv', '--from-v2-key', rtt, '--key-file', pub(), input, '-o', join(dir, 'resealed.csv')], { env: { TMPDIR: spool } });
    expect(re.code, re.stderr).toBe(0);
    expect(re.stderr).toContain('Re-sealing columns: name, phone');
    expect(re.stderr).toContain('9 v2: cells re-sealed as ss1');
    // Nothing but the ciphertext output was written, here or in the temporary folder.
    expect(filesIn(dir)).toEqual(['export.csv', 'resealed.csv']);
    expect(filesIn(spool)).toEqual([]);
    const resealed = readFileSync(join(dir, 'resealed.csv'), 'utf8');
    expect(resealed).not.toContain('v2:');
    expect(resealed).not.toContain('Jane Doe');
    for (const r of rows(resealed).slice(1)) {
      expect(r[3]).toMatch(/^ss1\.pk\.[0-9a-f]{8}\.name\./);
      expect(r[4]).toMatch(/^ss1\.pk\.[0-9a-f]{8}\.phone\./);
    }
    const back = await runCli('decrypt-csv', ['--no-excel-safe', '--key-file', pem(), join(dir, 'resealed.csv'), '-o', join(dir, 'back.csv')]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toMatch(/binds a value to neither/);
    expect(readFileSync(join(dir, 'back.csv')).equals(plainExport)).toBe(true);

    // Now bound: the same swap that v2: cells let through is refused.
    const table = rows(resealed);
    const [r1, r2] = [table[1] as string[], table[2] as string[]];
    [r1[3], r2[3]] = [r2[3] as string, r1[3] as string];
    writeFileSync(join(dir, 'swapped.csv'), toCsv(table, '\r\n'));
    const swapped = await runCli('decrypt-csv', ['--key-file', pem(), join(dir, 'swapped.csv'), '-o', join(dir, 'swapped.plain.csv')]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toContain('from a different response than column "name" of the same row (moved between rows)');
  });

  it('re-seals nothing when a cell does not open or is not a v2: token, or the key is not the peer key', async () => {
    const dir = fresh();
    const tampered = await runCli('sealed-survey', ['encrypt-csv', '--from-v2-key', rtt, '--key-file', pub(), exportIn(dir, 'export-tampered.csv'), '-o', join(dir, 'out.csv')]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('row 4, column "name": the requests_to_twilio_v2 token did not decrypt');

    const plainColumn = await runCli('sealed-survey', ['encrypt-csv', '--from-v2-key', rtt, '--key-file', pub(), '--columns', 'name,age', exportIn(dir), '-o', join(dir, 'out.csv')]);
    expect(plainColumn.code).toBe(1);
    expect(plainColumn.stderr).toContain('row 2, column "age": the cell is not a requests_to_twilio_v2 token');

    const ours = await runCli('sealed-survey', ['encrypt-csv', '--from-v2-key', pem(), '--key-file', pub(), exportIn(dir), '-o', join(dir, 'out.csv')]);
    expect(ours.code).toBe(1);
    expect(ours.stderr).toContain('survey-private.pem is not a requests_to_twilio_v2 private key');
    expect(filesIn(dir)).toEqual(['export.csv']);
  });

  it('warns of a v2: column left out of --columns', async () => {
    const dir = fresh();
    const out = await runCli('sealed-survey', ['encrypt-csv', '--from-v2-key', rtt, '--key-file', pub(), '--columns', 'name', exportIn(dir), '-o', join(dir, 'out.csv')]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('column "phone" holds v2: tokens but is not in --columns');
    expect(rows(readFileSync(join(dir, 'out.csv')))[1]?.[4]).toMatch(/^v2:/);
  });
});
