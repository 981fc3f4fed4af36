// The survey's questions in the order respondents meet them, and the
// `last_answered` column: which of them an execution answered last. The
// report orders its "where people stopped" table by the same order.
//
// A question is a widget that waits for the respondent:
//   send-and-wait-for-reply  answered when widgets.<name>.inbound.Body is set
//                            (Studio's reply; an invalid reply counts too);
//   gather-input-on-call     answered when Digits or SpeechResult is set;
//   add-twiml-redirect to the voice-gather Function: answered when it
//                            returned status=answered (voice-answer.ts).
// Only presence is tested: no answer's value reaches the column.

import { Tokenizer, TypeGuards } from 'liquidjs';
import { urlPath, widgetsByName, type FlowDefinition, type Widget } from './definition.js';

/** The system column naming the last question answered (empty: none). */
export const LAST_ANSWERED_COLUMN = 'last_answered';

/** The field a TwiML Redirect to the voice-gather Function seals (its `field` query parameter), if it is one. */
export function voiceSealField(widget: Widget): string | undefined {
  if (widget.type !== 'add-twiml-redirect' || typeof widget.properties.url !== 'string') return undefined;
  const url = widget.properties.url;
  if (!urlPath(url.replace(/\?.*$/, '')).endsWith('/voice-gather')) return undefined;
  return /[?&]field=([A-Za-z_][A-Za-z0-9_]{0,63})(?:&|$)/.exec(url)?.[1];
}

const ref = (name: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `widgets.${name}` : `widgets[${JSON.stringify(name)}]`);

/** The Liquid condition that holds once the question was answered; undefined for a widget that is no question. */
export function answeredCondition(widget: Widget): string | undefined {
  const w = ref(widget.name);
  if (widget.type === 'send-and-wait-for-reply') return `${w}.inbound.Body`;
  if (widget.type === 'gather-input-on-call') return `${w}.Digits or ${w}.SpeechResult`;
  if (voiceSealField(widget) !== undefined) return `${w}.status == "answered"`;
  return undefined;
}

/** Every widget reachable from the initial state, breadth-first over transitions in the order they appear. */
export function flowWalk(flow: FlowDefinition): string[] {
  const byName = widgetsByName(flow);
  const seen = new Set<string>([flow.initial_state]);
  const order: string[] = [];
  for (let i = 0, queue = [flow.initial_state]; i < queue.length; i++) {
    const name = queue[i] as string;
    order.push(name);
    for (const t of byName.get(name)?.transitions ?? []) {
      if (t.next && byName.has(t.next) && !seen.has(t.next)) seen.add(t.next), queue.push(t.next);
    }
  }
  return order;
}

/**
 * The questions in flow order: a question comes before every question
 * reachable from it that cannot lead back to it; the breadth-first walk breaks
 * ties (a question and its retries, which lead to each other). The walk alone
 * is not enough: q_age_retry lies deeper than q_district, yet is answered
 * before it.
 */
export function questionOrder(flow: FlowDefinition): string[] {
  const byName = widgetsByName(flow);
  const walk = flowWalk(flow);
  const questions = walk.filter((n) => answeredCondition(byName.get(n) as Widget) !== undefined);
  const reach = new Map(questions.map((q) => [q, reachableFrom(byName, q)]));
  const before = (a: string, b: string) => reach.get(a)?.has(b) === true && reach.get(b)?.has(a) !== true;
  const order: string[] = [];
  const left = [...questions];
  while (left.length > 0) {
    const i = left.findIndex((q) => !left.some((p) => before(p, q)));
    order.push(...left.splice(i, 1));
  }
  return order;
}

/** Widgets reachable from `start` by at least one transition. */
function reachableFrom(byName: ReadonlyMap<string, Widget>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = (byName.get(start)?.transitions ?? []).flatMap((t) => (t.next ? [t.next] : []));
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    if (seen.has(n) || !byName.has(n)) continue;
    seen.add(n);
    for (const t of byName.get(n)?.transitions ?? []) if (t.next) stack.push(t.next);
  }
  return seen;
}

/**
 * The `last_answered` parameter of the publish widget `publish`: one
 * if/elsif chain over the questions that can lead to it, from the last to the
 * first, so the first that holds names the furthest question answered; empty
 * when none was. Empty text when no question leads to it.
 */
export function lastAnsweredLiquid(flow: FlowDefinition, publish: string): string {
  const byName = widgetsByName(flow);
  const branches = questionOrder(flow)
    .filter((q) => reachableFrom(byName, q).has(publish))
    .reverse()
    .map((q, i) => `{% ${i === 0 ? 'if' : 'elsif'} ${answeredCondition(byName.get(q) as Widget)} %}${q}`);
  return branches.length === 0 ? '' : `${branches.join('')}{% endif %}`;
}

/** Template text and if/elsif/else tags only: whatever it reads, it outputs nothing but its own text. */
function outputsOnlyText(template: string): boolean {
  try {
    return new Tokenizer(template).readTopLevelTokens().every((t) => TypeGuards.isHTMLToken(t) || (TypeGuards.isTagToken(t) && ['if', 'elsif', 'else', 'endif'].includes(t.name)));
  } catch {
    return false;
  }
}

/**
 * The publish widgets whose last_answered parameter outputs no answer: the
 * chain tools/flow-outcomes.ts writes, or (stale, which columns.ts reports
 * with the fix) any if/elsif chain that outputs only its own text. They read
 * answers only to test them, and that some are missing is the point.
 */
export function presenceOnlyLastAnswered(flow: FlowDefinition, publishes: readonly Widget[]): Set<string> {
  const found = new Set<string>();
  for (const w of publishes) {
    const params = Array.isArray(w.properties.parameters) ? (w.properties.parameters as Array<{ key?: unknown; value?: unknown }>) : [];
    const value = params.find((p) => p.key === LAST_ANSWERED_COLUMN)?.value;
    if (typeof value === 'string' && (value === lastAnsweredLiquid(flow, w.name) || outputsOnlyText(value))) found.add(w.name);
  }
  return found;
}
