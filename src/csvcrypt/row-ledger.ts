// Checks across rows (FORMAT.md §5): each response in one row, and which row an
// execution_sid is in. Workers fingerprint every record's response binding and
// execution_sid; the driver, which sees the records in order, keeps them here.
//
// Fingerprints, not the strings: a Map of strings costs ~100 bytes a row (150 MB
// for a 1 GB export), these cost 16. Two different values share a 64-bit
// fingerprint with probability ~ rows² / 2^65 (1e-7 for 1.5 million rows); that
// would report a duplicate that is not there, never hide one.

const BLOCK_RECORDS = 1 << 16;

/** Writes the 64-bit fingerprint of `text` at out[at], out[at + 1]; (0, 0) is kept for "none". */
export function fingerprint(text: string, out: Uint32Array, at: number): void {
  // cyrb53's mixing, both 32-bit halves kept.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[at] = h1 >>> 0 || 1;
  out[at + 1] = h2 >>> 0;
}

/** Per record: [binding lo, binding hi, execution lo, execution hi]. */
export const ROW_KEY_WORDS = 4;
const BINDING = 0;
const EXECUTION = 2;

export class RowLedger {
  private readonly blocks: Uint32Array[] = [];
  private records = 0;
  private sortBuffer: BigUint64Array | undefined;

  /** Appends the row keys of the next records (in file order). */
  add(keys: Uint32Array): void {
    for (let at = 0; at < keys.length; ) {
      const slot = this.records % BLOCK_RECORDS;
      if (slot === 0) this.blocks.push(new Uint32Array(BLOCK_RECORDS * ROW_KEY_WORDS));
      const n = Math.min(BLOCK_RECORDS - slot, (keys.length - at) / ROW_KEY_WORDS);
      (this.blocks[this.blocks.length - 1] as Uint32Array).set(keys.subarray(at, at + n * ROW_KEY_WORDS), slot * ROW_KEY_WORDS);
      this.records += n;
      at += n * ROW_KEY_WORDS;
    }
  }

  /** The first record (0-based) whose execution_sid is `execution`. */
  recordOfExecution(execution: string): number | undefined {
    const fp = new Uint32Array(2);
    fingerprint(execution, fp, 0);
    let found: number | undefined;
    this.forEach(EXECUTION, (record, lo, hi) => {
      if (found === undefined && lo === fp[0] && hi === fp[1]) found = record;
    });
    return found;
  }

  /** Records (0-based, ascending) sharing one response: the first `limit` groups, and how many groups there are. */
  duplicateResponses(limit: number): Duplicates {
    return this.duplicates(BINDING, limit);
  }

  /** Records sharing one execution_sid. */
  duplicateExecutions(limit: number): Duplicates {
    return this.duplicates(EXECUTION, limit);
  }

  private forEach(offset: number, fn: (record: number, lo: number, hi: number) => void): void {
    for (let record = 0; record < this.records; record++) {
      const block = this.blocks[Math.floor(record / BLOCK_RECORDS)] as Uint32Array;
      const at = (record % BLOCK_RECORDS) * ROW_KEY_WORDS + offset;
      const lo = block[at] as number;
      if (lo !== 0) fn(record, lo, block[at + 1] as number);
    }
  }

  /**
   * Sorts the fingerprints to find repeated ones, then collects their records
   * in file order. Sorted a slice at a time (by the top bits of the high half),
   * so the sort buffer is an eighth of the fingerprints: on a file of millions
   * of rows a single sort would add tens of MB at the end of the run. On a
   * little-endian machine the slices, in order, are the one big sort cut in
   * eight (elsewhere only which groups past MAX_TRACKED are kept could differ).
   */
  private duplicates(offset: number, limit: number): Duplicates {
    const counts = new Array<number>(SLICES).fill(0);
    this.forEach(offset, (_record, _lo, hi) => (counts[hi >>> SLICE_SHIFT] as number)++);
    const biggest = Math.max(...counts);
    if (!this.sortBuffer || this.sortBuffer.length < biggest) this.sortBuffer = new BigUint64Array(biggest);
    // The repeated fingerprints (a bounded number of them: a file copied onto itself repeats every row).
    const repeated = new Map<number, number[]>(); // lo → his
    let total = 0;
    for (let slice = 0; slice < SLICES; slice++) {
      const count = counts[slice] as number;
      if (count < 2) continue;
      const sorted = this.sortBuffer.subarray(0, count);
      // Two 32-bit halves per 64-bit element; which half is high does not matter for equality.
      const halves = new Uint32Array(sorted.buffer, 0, 2 * count);
      let n = 0;
      this.forEach(offset, (_record, lo, hi) => {
        if (hi >>> SLICE_SHIFT !== slice) return;
        halves[2 * n] = lo;
        halves[2 * n + 1] = hi;
        n++;
      });
      sorted.sort();
      for (let i = 1; i < n; i++) {
        if (sorted[i] !== sorted[i - 1] || (i > 1 && sorted[i - 1] === sorted[i - 2])) continue;
        total++;
        if (total > MAX_TRACKED) continue;
        const lo = halves[2 * i] as number;
        repeated.set(lo, [...(repeated.get(lo) ?? []), halves[2 * i + 1] as number]);
      }
    }
    const groups = new Map<string, number[]>();
    if (total > 0) {
      this.forEach(offset, (record, lo, hi) => {
        if (!repeated.get(lo)?.includes(hi)) return;
        const key = `${lo}.${hi}`;
        const group = groups.get(key);
        if (group) group.push(record);
        else if (groups.size < limit) groups.set(key, [record]);
      });
    }
    return { groups: [...groups.values()], total };
  }
}

export interface Duplicates {
  /** Records of each group, ascending; groups by their first record. */
  readonly groups: number[][];
  /** How many groups there are in all. */
  readonly total: number;
}

const MAX_TRACKED = 10_000;
const SLICES = 8;
const SLICE_SHIFT = 29;
