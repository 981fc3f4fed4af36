// Just enough of a TwiML reader for the local runner to play what a TwiML
// Redirect hands the call to: the top-level verbs of a <Response>, with their
// attributes and text, XML entities decoded. Nested verbs (a <Say> inside
// <Gather>) are read as the parent's children.

import { FlowError } from './definition.js';

export interface Verb {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly text: string;
  readonly children: readonly Verb[];
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) =>
    e.startsWith('#x') || e.startsWith('#X') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : (ENTITIES[e] ?? m),
  );

function attributesOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1] as string] = decode(m[3] ?? m[4] ?? '');
  return out;
}

/** Elements in `xml` from `at` until the closing tag of `parent` (or the end). */
function elements(xml: string, at: { i: number }, parent: string | undefined): Verb[] {
  const verbs: Verb[] = [];
  const tag = /<(\/?)([A-Za-z][\w]*)([^>]*?)(\/?)>/g;
  for (;;) {
    tag.lastIndex = at.i;
    const m = tag.exec(xml);
    if (!m) break;
    at.i = m.index + m[0].length;
    const [, closing, name, attrs, selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing) {
      if (name !== parent) throw new FlowError(`the TwiML closes <${name}> where <${parent ?? 'nothing'}> is open`);
      break;
    }
    if (selfClosing) {
      verbs.push({ name, attributes: attributesOf(attrs), text: '', children: [] });
      continue;
    }
    const start = at.i;
    const children = elements(xml, at, name);
    const inner = xml.slice(start, at.i).replace(new RegExp(`</${name}>$`), '');
    verbs.push({ name, attributes: attributesOf(attrs), text: decode(inner.replace(/<[^>]*>/g, '')).trim(), children });
  }
  return verbs;
}

/** The verbs of a TwiML document's <Response>. */
export function parseTwiml(xml: string): Verb[] {
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const [response] = elements(body, { i: 0 }, undefined);
  if (!response || response.name !== 'Response') throw new FlowError('the answer is not TwiML (no <Response> element)');
  return [...response.children];
}
