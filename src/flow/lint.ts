// Static analysis of a Studio flow definition: where personal data can leave
// Studio unencrypted, and structural mistakes Studio itself accepts (dangling
// transitions, missing fail paths, references to widgets that have not run).
//
// Personal data (PII) is traced from what the flow gives the `encrypt` Function:
// every Liquid variable in one of its parameters is a PII source, and so is a
// flow variable set from a PII source (to a fixed point). The respondent's
// address (contact.channel.address, trigger.message.From, …) is always PII.
// `widgets.<encrypt>.parsed.*` is ciphertext and is not.

import { EXECUTION_SID } from '../publish/row.js';
import { Liquid } from 'liquidjs';
import { surveyColumns, type SurveyColumns } from './columns.js';
import { type FlowDefinition, type Widget, stringProperties } from './definition.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  readonly file: string;
  /** The widget's name; "(flow)" for findings about the whole definition. */
  readonly widget: string;
  /** Where in the widget: "body", "parameters.full_name", "transitions.fail"; "(widget)" for the widget as a whole. */
  readonly property: string;
  readonly severity: Severity;
  readonly message: string;
}

/** A variable path inside a Liquid template, up to its first computed segment (`widgets[x]` → ["widgets"]). */
type Path = readonly string[];

/** Events each widget type emits, as Studio exports them; a split also has any number of "match" transitions. */
const EVENTS: Readonly<Record<string, readonly string[]>> = {
  'run-function': ['success', 'fail'],
  'make-http-request': ['success', 'failed'],
  'run-subflow': ['completed', 'failed'],
  'send-message': ['sent', 'failed'],
  'send-and-wait-for-reply': ['incomingMessage', 'timeout', 'deliveryFailure'],
  'set-variables': ['next'],
  'split-based-on': ['noMatch'],
};
const OPTIONAL_EVENTS: Readonly<Record<string, readonly string[]>> = { 'split-based-on': ['match'] };

/** Fields of an inbound message that identify the respondent (WhatsApp: WaId is the number, ProfileName their name). */
const ADDRESS_FIELDS = ['From', 'WaId', 'Caller', 'Author'];
const NAME_FIELDS = ['ProfileName'];

const liquid = new Liquid();

/** The Run Function widget that seals answers: its URL path ends in /encrypt, or it is named "encrypt". */
export function isEncryptWidget(widget: Widget): boolean {
  if (widget.type !== 'run-function') return false;
  if (widget.name === 'encrypt') return true;
  const url = typeof widget.properties.url === 'string' ? widget.properties.url : '';
  return /\/encrypt$/.test(url.replace(/[?#].*$/, '').replace(/\/+$/, ''));
}

/** Every variable a Liquid template reads (through filters, tags and all), or the parse error. */
export function liquidReferences(text: string): { paths: Path[] } | { error: string } {
  if (!text.includes('{')) return { paths: [] };
  try {
    const analysis = liquid.analyzeSync(liquid.parse(text), { partials: false });
    const paths: Path[] = [];
    for (const variables of Object.values(analysis.globals)) {
      for (const variable of variables) {
        const path: string[] = [];
        for (const segment of variable.segments) {
          if (typeof segment !== 'string' && typeof segment !== 'number') break;
          path.push(String(segment));
        }
        if (path.length > 0) paths.push(path);
      }
    }
    return { paths };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** One string of a widget that Studio renders with Liquid. */
interface Value {
  readonly widget: Widget;
  /** JSON path inside the widget: "properties" paths as stringProperties gives them, or "transitions[i].conditions[j].arguments[k]". */
  readonly path: string;
  /** The name shown to the user: list items by key ("parameters.full_name"). */
  readonly property: string;
  readonly paths: Path[];
}

interface Taint {
  readonly path: Path;
  /** The PII source the data comes from, e.g. widgets.q_name.inbound.Body. */
  readonly origin: Path;
  /** How the source is named in messages: a widget name or "the respondent's address". */
  readonly label: string;
  /** Flow variables the data went through, in order. */
  readonly via: readonly string[];
  /** Where the sealed form of this source can be read, if the flow seals it. */
  readonly sealed: string | undefined;
}

const dot = (path: Path) => path.join('.');
const related = (a: Path, b: Path) => a.length <= b.length ? a.every((s, i) => s === b[i]) : b.every((s, i) => s === a[i]);
const quote = (s: string) => JSON.stringify(s);

function keyOf(widget: Widget, list: string, index: number): string | undefined {
  const items = widget.properties[list];
  const item = Array.isArray(items) ? (items[index] as unknown) : undefined;
  const key = item && typeof item === 'object' ? (item as { key?: unknown }).key : undefined;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

function propertyName(widget: Widget, path: string): string {
  const m = /^(parameters|variables|content_variables)\[(\d+)\]\.value$/.exec(path);
  if (m) {
    const key = keyOf(widget, m[1] as string, Number(m[2]));
    if (key !== undefined) return `${m[1]}.${key}`;
  }
  return path;
}

/** Where a value of a widget leaves Studio for somewhere other than the respondent, described for messages. */
function sinkOf(widget: Widget, path: string, encrypt: boolean): string | undefined {
  const top = path.replace(/[.[].*$/, '');
  switch (widget.type) {
    case 'run-function':
      if (top === 'url') return 'a Run Function URL';
      if (top === 'parameters' && !encrypt) return 'a Run Function parameter';
      return undefined;
    case 'make-http-request':
      if (top === 'url') return 'an HTTP request URL';
      if (top === 'body') return 'an HTTP request body';
      if (top === 'parameters') return 'an HTTP request parameter';
      if (top === 'method' || top === 'content_type' || top === 'add_twilio_auth') return undefined;
      return `an HTTP request's ${top}`;
    case 'run-subflow':
      return top === 'parameters' ? 'a Subflow parameter' : undefined;
    default:
      return undefined;
  }
}

/** Text sent to the respondent: the body, or the variables of a content template. */
const isMessageBody = (widget: Widget, path: string) => (widget.type === 'send-message' || widget.type === 'send-and-wait-for-reply') && (path === 'body' || path.startsWith('content_variables['));

export interface LintOptions {
  /**
   * The survey's columns as surveyColumns(flow, file) gives them; read from the
   * publishable declaration beside `file` when not given. false: no column checks.
   */
  readonly columns?: SurveyColumns | false;
}

export function lintFlow(flow: FlowDefinition, file: string, options: LintOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const byName = new Map(flow.states.map((w) => [w.name, w]));
  const add = (widget: string, property: string, severity: Severity, message: string) => findings.push({ file, widget, property, severity, message });

  // Every Liquid string of every widget, parsed once.
  const values: Value[] = [];
  for (const widget of flow.states) {
    const strings = stringProperties(widget);
    widget.transitions.forEach((t, i) =>
      t.conditions?.forEach((c, j) => {
        c.arguments.forEach((a, k) => strings.push({ path: `transitions[${i}].conditions[${j}].arguments[${k}]`, value: a }));
        strings.push({ path: `transitions[${i}].conditions[${j}].value`, value: c.value });
      }),
    );
    for (const { path, value } of strings) {
      const property = propertyName(widget, path);
      const refs = liquidReferences(value);
      if ('error' in refs) {
        add(widget.name, property, 'error', `Liquid syntax error: ${refs.error}; fix the {{ }} or {% %} markup`);
        continue;
      }
      values.push({ widget, path, property, paths: refs.paths });
    }
  }

  checkTransitions(flow, byName, add);
  const graph = transitionGraph(flow, byName);
  for (const widget of flow.states) {
    if (!graph.reachable.has(widget.name)) add(widget.name, '(widget)', 'warning', `no transition leads here from ${flow.initial_state}, so it never runs: connect it or delete it`);
  }

  // Variables: what Set Variables widgets assign, by key.
  const assignments: Array<{ key: string; paths: Path[] }> = [];
  for (const v of values) {
    const m = v.widget.type === 'set-variables' ? /^variables\[(\d+)\]\.value$/.exec(v.path) : null;
    const key = m ? keyOf(v.widget, 'variables', Number(m[1])) : undefined;
    if (key !== undefined) assignments.push({ key, paths: v.paths });
  }
  const assigned = new Set(assignments.map((a) => a.key));

  // References: widgets that exist and have run, variables that are set.
  for (const v of values) {
    const seen = new Set<string>();
    for (const path of v.paths) {
      if (path[0] === 'widgets' && path[1] !== undefined) {
        const target = path[1];
        if (seen.has(`w:${target}`)) continue;
        seen.add(`w:${target}`);
        if (!byName.has(target)) {
          add(v.widget.name, v.property, 'error', `refers to widgets.${target}, but the flow has no widget named ${quote(target)}: fix the name`);
        } else if (graph.reachable.has(v.widget.name)) {
          if (!graph.ancestors(v.widget.name).has(target)) {
            add(v.widget.name, v.property, 'error', `refers to widgets.${target}, but ${target} never runs before ${v.widget.name} on any path from ${flow.initial_state}, so the value is always empty: refer to a widget that comes earlier`);
          } else if (!graph.dominators(v.widget.name).has(target) || target === v.widget.name) {
            add(v.widget.name, v.property, 'warning', `refers to widgets.${target}, but some paths reach ${v.widget.name} without running ${target} first; there the value is empty`);
          }
        }
      } else if (path[0] === 'flow' && path[1] === 'variables' && path[2] !== undefined && !assigned.has(path[2]) && !seen.has(`v:${path[2]}`)) {
        seen.add(`v:${path[2]}`);
        add(v.widget.name, v.property, 'warning', `flow.variables.${path[2]} is never set by a Set Variables widget, so it is always empty`);
      }
    }
  }

  checkPii(flow, values, assignments, add);
  if (options.columns !== false) checkColumns(options.columns ?? surveyColumns(flow, file), findings, add);

  const order = new Map(flow.states.map((w, i) => [w.name, i]));
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (order.get(a.f.widget) ?? -1) - (order.get(b.f.widget) ?? -1) || a.i - b.i)
    .map(({ f }) => f);
}

type Add = (widget: string, property: string, severity: Severity, message: string) => void;

function checkTransitions(flow: FlowDefinition, byName: Map<string, Widget>, add: Add): void {
  for (const widget of flow.states) {
    const expected = EVENTS[widget.type];
    const events = new Set(widget.transitions.map((t) => t.event));
    for (const t of widget.transitions) {
      if (t.next && !byName.has(t.next)) {
        add(widget.name, `transitions.${t.event}`, 'error', `goes to ${quote(t.next)}, which is not a widget of this flow: fix the name or add the widget`);
      }
      if (expected && !expected.includes(t.event) && !OPTIONAL_EVENTS[widget.type]?.includes(t.event)) {
        add(widget.name, `transitions.${t.event}`, 'warning', `${quote(t.event)} is not an event of ${widget.type} (its events are ${expected.join(', ')}), so Studio never follows it`);
      }
    }
    if (widget.type === 'run-function' && !widget.transitions.some((t) => t.event === 'fail' && t.next)) {
      add(widget.name, 'transitions.fail', 'error', `the fail transition leads nowhere: when the Function fails or takes longer than 10 s the execution ends here and the respondent is left hanging; connect "fail" to a widget, e.g. a message saying the answers could not be saved`);
    }
    for (const event of expected ?? []) {
      if (events.has(event) || (widget.type === 'run-function' && event === 'fail')) continue;
      add(widget.name, 'transitions', 'error', `has no ${quote(event)} transition; Studio defines ${expected?.join(', ')} for every ${widget.type}: add {"event": ${quote(event)}, "next": "<widget>"}`);
    }
  }
}

interface Graph {
  readonly reachable: ReadonlySet<string>;
  /** Widgets from which `name` can be reached by one or more transitions (reachable ones only). */
  ancestors(name: string): ReadonlySet<string>;
  /** Widgets on every path from the initial state to `name`, `name` included. */
  dominators(name: string): ReadonlySet<string>;
}

function transitionGraph(flow: FlowDefinition, byName: Map<string, Widget>): Graph {
  const next = new Map<string, string[]>();
  const prev = new Map<string, string[]>(flow.states.map((w) => [w.name, []]));
  for (const w of flow.states) {
    const targets = [...new Set(w.transitions.flatMap((t) => (t.next && byName.has(t.next) ? [t.next] : [])))];
    next.set(w.name, targets);
    for (const t of targets) prev.get(t)?.push(w.name);
  }
  const reachable = new Set<string>([flow.initial_state]);
  const queue = [flow.initial_state];
  for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
    for (const m of next.get(n) ?? []) if (!reachable.has(m)) (reachable.add(m), queue.push(m));
  }
  const ancestorCache = new Map<string, Set<string>>();
  const ancestors = (name: string) => {
    let set = ancestorCache.get(name);
    if (!set) {
      set = new Set<string>();
      const stack = [...(prev.get(name) ?? [])];
      for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
        if (set.has(n) || !reachable.has(n)) continue;
        set.add(n);
        stack.push(...(prev.get(n) ?? []));
      }
      ancestorCache.set(name, set);
    }
    return set;
  };
  // Iterative dominator sets over the reachable widgets (flows have at most 1000 states).
  let dom: Map<string, Set<string>> | undefined;
  const dominators = (name: string) => {
    if (!dom) {
      const all = [...reachable];
      const d = new Map(all.map((n) => [n, n === flow.initial_state ? new Set([n]) : new Set(all)]));
      for (let changed = true; changed; ) {
        changed = false;
        for (const n of all) {
          if (n === flow.initial_state) continue;
          const preds = (prev.get(n) ?? []).filter((p) => reachable.has(p));
          const meet = new Set(preds.length ? [...(d.get(preds[0] as string) ?? [])].filter((x) => preds.every((p) => d.get(p)?.has(x))) : []);
          meet.add(n);
          if (meet.size !== d.get(n)?.size) (d.set(n, meet), (changed = true));
        }
      }
      dom = d;
    }
    return dom.get(name) ?? new Set<string>();
  };
  return { reachable, ancestors, dominators };
}

function checkPii(flow: FlowDefinition, values: readonly Value[], assignments: ReadonlyArray<{ key: string; paths: Path[] }>, add: Add): void {
  const encrypts = new Set(flow.states.filter(isEncryptWidget).map((w) => w.name));
  if (encrypts.size === 0) {
    add('(flow)', 'states', 'warning', 'the flow has no encrypt widget (a Run Function whose URL ends in /encrypt), so no answer is marked as personal data and only the respondent\'s address is traced');
  }

  // Sources: everything given to encrypt (answers first, so messages name them), then the respondent's address.
  const sources: Array<{ path: Path; label: string; sealed: string | undefined }> = [];
  const addSource = (path: Path, label: string, sealed: string | undefined) => {
    if (path.length === 0 || sources.some((s) => dot(s.path) === dot(path))) return;
    sources.push({ path, label, sealed });
  };
  const sealedAs = new Map<string, string>();
  for (const v of values) {
    const m = encrypts.has(v.widget.name) ? /^parameters\[(\d+)\]\.value$/.exec(v.path) : null;
    if (!m) continue;
    const key = keyOf(v.widget, 'parameters', Number(m[1]));
    // execution_sid ({{flow.sid}}) binds the tokens and is not sealed: not personal data.
    if (key === EXECUTION_SID) continue;
    for (const path of v.paths) {
      if (path[0] === 'widgets' && path[1] !== undefined && encrypts.has(path[1])) continue;
      if (key !== undefined && !sealedAs.has(dot(path))) sealedAs.set(dot(path), `widgets.${v.widget.name}.parsed.${key}`);
      addSource(path, labelOf(path), sealedAs.get(dot(path)));
    }
  }
  // A variable given to encrypt makes what it was set from a source too.
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i] as (typeof sources)[number];
    if (s.path[0] !== 'flow' || s.path[1] !== 'variables' || s.path.length !== 3) continue;
    for (const a of assignments) if (a.key === s.path[2]) for (const p of a.paths) addSource(p, labelOf(p), s.sealed);
  }

  // The respondent's address and profile name, always; sealed under whichever name encrypt got one of them as.
  const identity: Path[] = [['contact', 'channel', 'address']];
  for (const channel of ['message', 'call', 'conversation']) for (const field of [...ADDRESS_FIELDS, ...NAME_FIELDS]) identity.push(['trigger', channel, field]);
  for (const w of flow.states) {
    if (w.type === 'send-and-wait-for-reply') for (const field of [...ADDRESS_FIELDS, ...NAME_FIELDS]) identity.push(['widgets', w.name, 'inbound', field]);
  }
  const sealedIdentity = (label: string) => identity.filter((p) => labelOf(p) === label).map((p) => sealedAs.get(dot(p))).find((x) => x !== undefined);
  for (const path of identity) addSource(path, labelOf(path), sealedAs.get(dot(path)) ?? sealedIdentity(labelOf(path)));

  // Taints: the sources (variables among them are re-derived below, with their route) and the variables set from them.
  const isVar = (p: Path) => p[0] === 'flow' && p[1] === 'variables' && p.length === 3;
  const taints: Taint[] = sources
    .filter((s) => !(isVar(s.path) && assignments.some((a) => a.key === s.path[2])))
    .map((s) => ({ path: s.path, origin: s.path, label: s.label, via: [], sealed: s.sealed }));
  const taintOf = (path: Path) => taints.find((t) => related(path, t.path));
  for (let changed = true; changed; ) {
    changed = false;
    for (const a of assignments) {
      const target = ['flow', 'variables', a.key];
      if (taints.some((t) => dot(t.path) === dot(target))) continue;
      const from = a.paths.map(taintOf).find((t) => t !== undefined);
      if (!from) continue;
      taints.push({ ...from, path: target, via: [...from.via, dot(target)] });
      changed = true;
    }
  }

  for (const v of values) {
    const sink = sinkOf(v.widget, v.path, encrypts.has(v.widget.name));
    const body = isMessageBody(v.widget, v.path);
    if (!sink && !body) continue;
    const reported = new Set<string>();
    for (const path of v.paths) {
      const t = taintOf(path);
      if (!t || reported.has(dot(t.origin))) continue;
      reported.add(dot(t.origin));
      const from = `PII from ${t.label === dot(t.origin) ? t.label : `${t.label} (${dot(t.origin)})`}`;
      const via = t.via.length ? ` via ${t.via.join(' → ')}` : '';
      if (sink) {
        const fix = t.sealed ? `pass the sealed {{${t.sealed}}} instead` : `give it to the encrypt widget and pass its sealed output (widgets.<encrypt>.parsed.<field>) instead`;
        add(v.widget.name, v.property, 'error', `${from} reaches ${sink}${via}: it would leave Studio unencrypted; ${fix}`);
      } else {
        add(v.widget.name, v.property, 'warning', `${from} is quoted back to the respondent${via}: the message text lands in Twilio's message logs unencrypted; leave it out of the message`);
      }
    }
  }
}

/**
 * The publish columns' problems (an undeclared plain column, the declaration
 * missing or invalid, a token altered, …), except where the linter already
 * found an error (PII reaching the column, bad Liquid): one fix at a time.
 * A flow without encrypt is warned about above; one without publish has no columns.
 */
function checkColumns(columns: SurveyColumns, findings: readonly Finding[], add: Add): void {
  const taken = new Set(findings.filter((f) => f.severity === 'error').map((f) => `${f.widget}\0${f.property}`));
  for (const p of columns.problems) {
    if (p.id === 'no-publish' || p.id === 'no-encrypt' || taken.has(`${p.widget}\0${p.property}`)) continue;
    add(p.widget, p.property, p.severity, p.message);
  }
}

/** How a source is named in messages: the respondent's address, or the widget whose output it is. */
function labelOf(path: Path): string {
  const [root, a, b, c] = path;
  const field = root === 'trigger' && path.length === 3 ? b : root === 'widgets' && b === 'inbound' && path.length === 4 ? c : undefined;
  if ((root === 'contact' && a === 'channel' && b === 'address') || (field !== undefined && ADDRESS_FIELDS.includes(field))) return "the respondent's address";
  if (field !== undefined && NAME_FIELDS.includes(field)) return "the respondent's profile name";
  if (root === 'widgets' && a !== undefined) return a;
  return dot(path);
}
