// The ledger's duplicate search (sorted a slice at a time) against a plain Map.
import { describe, expect, it } from 'vitest';
import { fingerprint, ROW_KEY_WORDS, RowLedger } from '../src/csvcrypt/row-ledger.js';
import { prng } from '../src/dev/prng.js';

describe('RowLedger', () => {
  it('finds every repeated response and execution, grouped in file order, as a Map of all rows does', () => {
    const next = prng(1414);
    const rows = 150_000;
    const bindings: Array<string | undefined> = [];
    const executions: Array<string | undefined> = [];
    for (let i = 0; i < rows; i++) {
      const copyOf = next() < 0.001 && i > 0 ? Math.floor(next() * i) : -1;
      bindings.push(copyOf >= 0 ? bindings[copyOf] : next() < 0.02 ? undefined : `rid${i}`);
      executions.push(next() < 0.002 && i > 0 ? executions[Math.floor(next() * i)] : `FN${i}`);
    }
    const ledger = new RowLedger();
    // Added in pieces, as chunks arrive.
    for (let start = 0; start < rows; start += 7_000) {
      const n = Math.min(7_000, rows - start);
      const keys = new Uint32Array(n * ROW_KEY_WORDS);
      for (let i = 0; i < n; i++) {
        const b = bindings[start + i];
        const e = executions[start + i];
        if (b) fingerprint(b, keys, i * ROW_KEY_WORDS);
        if (e) fingerprint(e, keys, i * ROW_KEY_WORDS + 2);
      }
      ledger.add(keys);
    }
    const expected = (values: Array<string | undefined>, limit: number) => {
      const where = new Map<string, number[]>();
      values.forEach((v, i) => v !== undefined && where.set(v, [...(where.get(v) ?? []), i]));
      const groups = [...where.values()].filter((g) => g.length > 1).sort((a, b) => (a[0] as number) - (b[0] as number));
      return { groups: groups.slice(0, limit), total: groups.length };
    };
    const responses = ledger.duplicateResponses(1000);
    const executionGroups = ledger.duplicateExecutions(1000);
    expect(responses.total).toBeGreaterThan(50);
    expect(responses).toEqual(expected(bindings, 1000));
    expect(executionGroups).toEqual(expected(executions, 1000));
    expect(ledger.duplicateResponses(3)).toEqual(expected(bindings, 3));
    expect(ledger.recordOfExecution('FN777')).toBe(executions.indexOf('FN777'));
  });
});
