// The fast token opener opens ordinary rows itself (so the fast path is really
// taken: the differential test alone could not tell) and leaves every row that
// the reference must judge to it.
import { describe, expect, it } from 'vitest';
import { FastTokenOpener } from '../src/envelope/token-fast.js';
import { Opener, sealResponse, systemRandomness, type ResponseCell } from '../src/envelope/index.js';
import { emptyKeyring, newSealedKeyPair, newSharedKey, parsePublicKey, parseSharedKey, formatSharedKey } from '../src/keys/keys.js';

const sealed = newSealedKeyPair();
const shared = parseSharedKey(formatSharedKey(newSharedKey()));
const ring = emptyKeyring();
ring.sealed.set(sealed.kid, sealed.pair);
ring.shared.set(shared.kid, shared.key);
const recipients = { sealed: parsePublicKey(sealed.publicKeyText), shared };
const FIELDS: Array<[string, string]> = [['name', 'María José'], ['phone', ''], ['note', '=1+2, "q"\n👍']];

function row(mode: 'sealed' | 'shared', execution: string | undefined): Buffer[] {
  const tokens = sealResponse(FIELDS, recipients[mode], systemRandomness, execution);
  return FIELDS.map(([field]) => Buffer.from(tokens.get(field) as string, 'latin1'));
}

describe('FastTokenOpener', () => {
  const columns = FIELDS.map(([f]) => f);
  for (const mode of ['sealed', 'shared'] as const) {
    for (const execution of ['FN0123456789abcdef0123456789abcdef', undefined]) {
      it(`opens a ${mode} row ${execution ? 'bound to its execution' : 'unbound'} exactly as the reference does`, () => {
        const cells = row(mode, execution);
        const fast = new FastTokenOpener(ring).openRow(cells, columns, true, execution);
        const reference = new Opener(ring).openResponse(cells.map((c, i): ResponseCell => ({ column: columns[i] as string, token: c.toString('latin1') })), { executionSid: execution });
        expect(fast?.values).toEqual(FIELDS.map(([, v]) => v));
        expect(fast?.binding).toBe(reference[0]?.ok ? reference[0].binding : 'not ok');
      });
    }
  }

  it('leaves to the reference a row with another execution, a moved cell, a foreign response, an altered or unknown-key cell', () => {
    const opener = new FastTokenOpener(ring);
    const exec = 'FNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const columns = FIELDS.map(([f]) => f);
    const cells = row('shared', exec);
    expect(opener.openRow(cells, columns, true, exec)).toBeDefined();
    expect(opener.openRow(cells, columns, true, 'FNbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')).toBeUndefined();
    expect(opener.openRow([cells[1] as Buffer, cells[0] as Buffer], ['name', 'phone'], true, exec)).toBeUndefined();
    expect(opener.openRow([cells[1] as Buffer, cells[0] as Buffer], ['name', 'phone'], false, exec)).toBeDefined();
    expect(opener.openRow([cells[0] as Buffer, row('shared', exec)[1] as Buffer], ['name', 'phone'], true, exec)).toBeUndefined();
    const altered = Buffer.from(cells[0] as Buffer);
    altered[altered.length - 2] = altered[altered.length - 2] === 0x41 ? 0x42 : 0x41;
    expect(opener.openRow([altered], ['name'], true, exec)).toBeUndefined();
    const otherKey = Buffer.from((cells[0] as Buffer).toString('latin1').replace(/^(ss1\.skx\.)[0-9a-f]{8}/, '$1deadbeef'), 'latin1');
    expect(opener.openRow([otherKey], ['name'], true, exec)).toBeUndefined();
    expect(opener.openRow([Buffer.from('ss2.skx.whatever')], ['name'], true, exec)).toBeUndefined();
  });

  it('opens rows of long and empty values, in both modes, with one opener across rows and keys', () => {
    const opener = new FastTokenOpener(ring);
    const values = ['', 'x', 'y'.repeat(15), 'z'.repeat(16), 'é'.repeat(17), '👍'.repeat(3000), 'w'.repeat(15_000)];
    const fields = values.map((v, i): [string, string] => [`f${i}`, v]);
    const columns = fields.map(([f]) => f);
    for (const mode of ['shared', 'sealed', 'shared', 'sealed'] as const) {
      const tokens = sealResponse(fields, recipients[mode], systemRandomness, undefined);
      const cells = columns.map((f) => Buffer.from(tokens.get(f) as string, 'latin1'));
      expect(opener.openRow(cells, columns, true, undefined)?.values).toEqual(values);
    }
  });

  it('leaves to the reference a sealed row with an altered tag, ciphertext or sequence number, and a row mixing modes', () => {
    const opener = new FastTokenOpener(ring);
    const columns = FIELDS.map(([f]) => f);
    const cells = row('sealed', undefined);
    expect(opener.openRow(cells, columns, true, undefined)).toBeDefined();
    for (const at of [-1, -3, -25]) {
      const altered = cells.map((c) => Buffer.from(c));
      const t = altered[2] as Buffer;
      const i = t.length + at;
      t[i] = t[i] === 0x41 ? 0x42 : 0x41;
      expect(opener.openRow(altered, columns, true, undefined)).toBeUndefined();
    }
    const swappedSeq = cells.map((c) => Buffer.from(c.toString('latin1').replace(/\.(\d+)\.([^.]+)$/, (_, seq: string, ct: string) => `.${(Number(seq) + 1) % 3}.${ct}`), 'latin1'));
    expect(opener.openRow(swappedSeq, columns, true, undefined)).toBeUndefined();
    const sharedCells = row('shared', undefined);
    expect(opener.openRow([cells[0] as Buffer, sharedCells[1] as Buffer], ['name', 'phone'], true, undefined)).toBeUndefined();
  });
});
