// Partial responses: Google's `fields` parameter, e.g. `sheets.properties`,
// `sheets(properties(sheetId,title))`, `spreadsheetId,sheets/data`, `*`.
// Names the answer does not have select nothing.

import { invalid } from './errors.js';

/** Selected names; `true` selects the whole value. */
export type FieldMask = Map<string, FieldMask | true>;

function merge(into: FieldMask, name: string, sub: FieldMask | true): void {
  const had = into.get(name);
  if (had === true) return;
  if (sub === true || had === undefined) into.set(name, sub);
  else for (const [k, v] of sub) merge(had, k, v);
}

export function parseFields(text: string): FieldMask {
  let i = 0;
  const fail = () => invalid(`Invalid field selection: ${text}`);
  const eat = (chars: string): boolean => {
    const ok = i < text.length && chars.includes(text[i] as string);
    if (ok) i++;
    return ok;
  };
  const list = (): FieldMask => {
    const mask: FieldMask = new Map();
    do {
      const path: string[] = [];
      do {
        const m = /^\s*([A-Za-z0-9_]+|\*)\s*/.exec(text.slice(i));
        if (!m) throw fail();
        path.push(m[1] as string);
        i += m[0].length;
      } while (eat('./'));
      let sub: FieldMask | true = true;
      if (eat('(')) {
        sub = list();
        if (!eat(')')) throw fail();
        while (eat(' '));
      }
      for (let k = path.length - 1; k > 0; k--) sub = new Map([[path[k] as string, sub]]);
      merge(mask, path[0] as string, sub);
    } while (eat(','));
    return mask;
  };
  const mask = list();
  if (i !== text.length) throw fail();
  return mask;
}

/** Whether the mask selects anything at or under a path. */
export function selects(mask: FieldMask, path: readonly string[]): boolean {
  let m: FieldMask | true = mask;
  for (const name of path) {
    if (m === true) return true;
    const next: FieldMask | true | undefined = m.get(name) ?? m.get('*');
    if (next === undefined) return false;
    m = next;
  }
  return true;
}

/** The parts of a JSON value a mask selects; arrays are filtered element by element. */
export function applyFields(value: unknown, mask: FieldMask | true): unknown {
  if (mask === true || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, mask));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = mask.get(key) ?? mask.get('*');
    if (sub !== undefined) out[key] = applyFields(v, sub);
  }
  return out;
}
