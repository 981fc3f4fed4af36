// A1 notation, as the Sheets API reads it: `'Tab''s name'!A1:C3`, `Tab!A:A`,
// `Tab!1:1`, `Tab!A2:Z`, `Tab` (the whole tab), and `A1:B2` (the first tab).

export interface A1Range {
  /** Tab title without quotes; absent when the range names no tab (the first tab). */
  readonly tab?: string;
  /** Zero-based and inclusive. */
  readonly startRow: number;
  readonly startCol: number;
  /** Zero-based and inclusive; absent means to the end of the tab. */
  readonly endRow?: number;
  readonly endCol?: number;
}

interface Endpoint {
  col?: number;
  row?: number;
}

const ENDPOINT = /^([A-Za-z]{1,3})?([1-9][0-9]{0,6})?$/;

/** 0 → A, 25 → Z, 26 → AA. */
export function columnLetter(index0: number): string {
  if (!Number.isInteger(index0) || index0 < 0) throw new RangeError(`column index must be a whole number ≥ 0, got ${index0}`);
  let n = index0 + 1;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** A tab title as it must appear before `!`: quoted (with '' for ') unless it is a plain word that cannot be read as a cell. */
export function quoteTab(title: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(title) && !/^[A-Za-z]{1,3}[0-9]+$/.test(title) && !/^[Rr][0-9]*[Cc][0-9]*$/.test(title);
  return plain ? title : `'${title.replaceAll("'", "''")}'`;
}

function endpoint(text: string): Endpoint | undefined {
  const m = ENDPOINT.exec(text);
  if (!m || text === '') return undefined;
  return {
    ...(m[1] !== undefined ? { col: columnIndex(m[1]) } : {}),
    ...(m[2] !== undefined ? { row: Number(m[2]) - 1 } : {}),
  };
}

function cells(text: string): Omit<A1Range, 'tab'> | undefined {
  const parts = text.split(':');
  if (parts.length === 1) {
    const p = endpoint(text);
    if (p?.col === undefined || p.row === undefined) return undefined;
    return { startRow: p.row, startCol: p.col, endRow: p.row, endCol: p.col };
  }
  if (parts.length !== 2) return undefined;
  const a = endpoint(parts[0] as string);
  const b = endpoint(parts[1] as string);
  if (!a || !b) return undefined;
  const order = (x: number, y: number) => [Math.min(x, y), Math.max(x, y)] as const;
  if (a.col !== undefined && b.col !== undefined) {
    const [c0, c1] = order(a.col, b.col);
    if (a.row !== undefined && b.row !== undefined) {
      const [r0, r1] = order(a.row, b.row);
      return { startRow: r0, startCol: c0, endRow: r1, endCol: c1 };
    }
    // A:C, A2:Z and (rarely written) A:Z2 all run to the last row.
    if (b.row !== undefined) return undefined;
    return { startRow: a.row ?? 0, startCol: c0, endCol: c1 };
  }
  if (a.col === undefined && b.col === undefined && a.row !== undefined && b.row !== undefined) {
    const [r0, r1] = order(a.row, b.row);
    return { startRow: r0, startCol: 0, endRow: r1 };
  }
  return undefined;
}

/**
 * Parses a range in A1 notation; undefined when it is not one. A bare word
 * that is not a cell range (`Responses`) is a whole tab; a bare word that is
 * one (`AB1`) is a cell, so name such tabs quoted (`'AB1'`).
 */
export function parseA1(text: string): A1Range | undefined {
  if (text.startsWith("'")) {
    let title = '';
    let i = 1;
    for (;;) {
      const q = text.indexOf("'", i);
      if (q < 0) return undefined;
      title += text.slice(i, q);
      if (text[q + 1] === "'") {
        title += "'";
        i = q + 2;
        continue;
      }
      i = q + 1;
      break;
    }
    if (title === '') return undefined;
    if (i === text.length) return { tab: title, startRow: 0, startCol: 0 };
    if (text[i] !== '!') return undefined;
    const grid = cells(text.slice(i + 1));
    return grid ? { tab: title, ...grid } : undefined;
  }
  const bang = text.lastIndexOf('!');
  if (bang < 0) {
    if (text.trim() === '') return undefined;
    return cells(text) ?? { tab: text, startRow: 0, startCol: 0 };
  }
  const tab = text.slice(0, bang);
  const grid = cells(text.slice(bang + 1));
  return tab !== '' && grid ? { tab, ...grid } : undefined;
}

/** The range in A1 notation, tab quoted when needed: `Sheet1!A1:C3`, `'My tab'!B2`, `Sheet1!A:C`, `Sheet1!2:5`. */
export function formatA1(range: A1Range): string {
  const { startRow, startCol, endRow, endCol } = range;
  let span: string;
  if (endCol === undefined && endRow === undefined && range.tab !== undefined && startRow === 0 && startCol === 0) {
    return quoteTab(range.tab);
  } else if (endCol === undefined) {
    span = `${startRow + 1}:${endRow !== undefined ? endRow + 1 : ''}`;
  } else if (endRow === undefined) {
    span = `${columnLetter(startCol)}${startRow === 0 ? '' : startRow + 1}:${columnLetter(endCol)}`;
  } else {
    const start = `${columnLetter(startCol)}${startRow + 1}`;
    const end = `${columnLetter(endCol)}${endRow + 1}`;
    span = end === start ? start : `${start}:${end}`;
  }
  return range.tab === undefined ? span : `${quoteTab(range.tab)}!${span}`;
}
