// Static analysis of a Studio flow definition: where personal data can leave
// Studio unencrypted, and structural mistakes Studio itself accepts (dangling
// transitions, missing fail paths, references to widgets that have not run).
//
// Personal data is personal until declared otherwise: every answer, every
// address and profile field of the respondent, flow.data, a subflow's
// parameters and channel attributes, and every flow variable set from one of
// them (to a fixed point). It may reach a sink (another Function, an HTTP
// request, a subflow, Flex, a TwiML redirect, a message to someone else, a
// publish column) only sealed, as widgets.<encrypt>.parsed.<field>, or in a
// publish column the publishable declaration names with its reason.

import { surveyCheckId, surveyChecks } from './survey-checks.js';
import { columnKey } from '../envelope/index.js';
import { EXECUTION_SID } from '../publish/row.js';
import { Liquid } from 'liquidjs';
import { surveyColumns, type SurveyColumns } from './columns.js';
import { type FlowDefinition, type Widget, stringProperties, urlPath } from './definition.js';
import { LAST_ANSWERED_COLUMN, presenceOnlyLastAnswered } from './order.js';
import { declarationPath } from './publishable.js';

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
/** The event of a widget that calls out of Studio and fails; checkFailPaths reports it missing or unconnected. */
const FAIL_EVENTS: Readonly<Record<string, string>> = { 'run-function': 'fail', 'make-http-request': 'failed' };
const OPTIONAL_EVENTS: Readonly<Record<string, readonly string[]>> = { 'split-based-on': ['match'] };

/** Fields that name the respondent's address, and their profile name (WhatsApp: WaId is the number, ProfileName their name). */
const ADDRESS_FIELDS = ['From', 'WaId', 'Caller', 'Author'];
const NAME_FIELDS = ['ProfileName', 'CallerName'];

/**
 * Fields of Studio's triggers that say nothing about the respondent: SIDs, our
 * own number and its place, counts. Every other field of trigger.message,
 * trigger.call, trigger.conversation and trigger.request is personal data
 * (Body, From, ProfileName, ChannelAttributes, FromCity, …), and so is
 * trigger.parent.parameters.
 */
const NOT_PERSONAL: Readonly<Record<string, ReadonlySet<string>>> = {
  message: new Set(['To', 'AccountSid', 'MessageSid', 'SmsSid', 'SmsMessageSid', 'MessagingServiceSid', 'ApiVersion', 'NumMedia', 'NumSegments', 'SmsStatus', 'InstanceSid', 'ChannelSid', 'MessageType', 'ToCountry', 'ToState', 'ToCity', 'ToZip']),
  call: new Set(['To', 'Called', 'CallSid', 'AccountSid', 'ApiVersion', 'CallStatus', 'Direction', 'ToCountry', 'ToState', 'ToCity', 'ToZip', 'CalledCountry', 'CalledState', 'CalledCity', 'CalledZip']),
  conversation: new Set(['ConversationSid', 'ChatServiceSid', 'MessageSid', 'AccountSid', 'MessagingServiceSid', 'ParticipantSid', 'EventType', 'Source', 'Index', 'DateCreated', 'RetryCount', 'WebhookSid', 'WebhookType']),
  // A REST launch's From is our own number; To is the respondent's.
  request: new Set(['From']),
};

/** What a widget's output holds of the respondent's answer, by widget type. */
const ANSWER_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  'send-and-wait-for-reply': new Set(['inbound']),
  'gather-input-on-call': new Set(['inbound', 'Digits', 'SpeechResult']),
  'record-voicemail': new Set(['RecordingUrl', 'TranscriptionText']),
};

const liquid = new Liquid();

/** The Run Function widget that seals answers: its URL path ends in /encrypt, or it is named "encrypt". */
export function isEncryptWidget(widget: Widget): boolean {
  if (widget.type !== 'run-function') return false;
  if (widget.name === 'encrypt') return true;
  const url = typeof widget.properties.url === 'string' ? widget.properties.url : '';
  return /\/encrypt$/.test(url.replace(/[?#].*$/, '').replace(/\/+$/, ''));
}

// The field an Add TwiML Redirect to this project's voice-gather Function
// seals: a sealing step, the caller's keys or words go to voice-answer, never
// to Studio, and come back as widgets.<name>.<field> = a token (docs/FLOW.md).
// Defined beside the other question widgets (order.ts), which need it too.
export { voiceSealField } from './order.js';

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
  /** The name shown to the user: list items by key ("parameters.full_name"), condition strings as "conditions.arguments". */
  readonly property: string;
  readonly paths: Path[];
  /** last_answered exactly as tools/flow-outcomes.ts writes it: it reads answers only to test that they exist, and that some are missing is the point. */
  readonly presenceOnly?: boolean;
}

/** Personal data as a reference reads it: where it comes from and the flow variables it went through. */
interface Taint {
  /** The source, e.g. widgets.q_name.inbound.Body. */
  readonly origin: Path;
  /** How the source is named in messages: a widget name, "the respondent's address", or the path. */
  readonly label: string;
  /** Flow variables the data went through, in order. */
  readonly via: readonly string[];
}

const dot = (path: Path) => path.join('.');
const quote = (s: string) => JSON.stringify(s);
const isVariable = (p: Path) => p[0] === 'flow' && p[1] === 'variables';

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
  // A split repeats its input in every condition: one name for all of them, so a finding is printed once.
  const c = /^transitions\[\d+\]\.conditions\[\d+\]\.(arguments|value)/.exec(path);
  return c ? `conditions.${c[1]}` : path;
}

/** The Run Function widget that writes the sheet: its URL path ends in /publish, or it is named "publish" (as columns.ts finds it). */
export function isPublishWidget(widget: Widget): boolean {
  if (widget.type !== 'run-function') return false;
  return widget.name === 'publish' || urlPath(typeof widget.properties.url === 'string' ? widget.properties.url : '').endsWith('/publish');
}

/** Whether a message widget's `to` is the respondent: not set (Studio's default is the contact), or only their address. */
function toRespondent(widget: Widget): boolean {
  const to = widget.properties.to;
  if (typeof to !== 'string' || to.trim() === '') return true;
  const refs = liquidReferences(to);
  if ('error' in refs) return true; // reported as a syntax error
  return refs.paths.length > 0 && to.replace(/\{\{[^}]*\}\}/g, '').trim() === '' && refs.paths.every((p) => labelOf(p) === "the respondent's address");
}

type Sink =
  | { readonly kind: 'outside'; readonly name: string }
  | { readonly kind: 'publish'; readonly column: string }
  | { readonly kind: 'message'; readonly toRespondent: boolean };

/** Where a value of a widget goes, if personal data there matters. */
function sinkOf(widget: Widget, v: Value): Sink | undefined {
  const top = v.path.replace(/[.[].*$/, '');
  const outside = (name: string): Sink => ({ kind: 'outside', name });
  switch (widget.type) {
    case 'run-function':
      if (top === 'url') return outside('a Run Function URL');
      if (top !== 'parameters' || isEncryptWidget(widget)) return undefined;
      return isPublishWidget(widget) ? { kind: 'publish', column: v.property.replace(/^parameters\./, '') } : outside('a Run Function parameter');
    case 'make-http-request':
      if (top === 'url') return outside('an HTTP request URL');
      if (top === 'body') return outside('an HTTP request body');
      if (top === 'parameters') return outside('an HTTP request parameter');
      if (top === 'method' || top === 'content_type' || top === 'add_twilio_auth') return undefined;
      return outside(`an HTTP request's ${top}`);
    case 'run-subflow':
      return top === 'parameters' ? outside('a Subflow parameter') : undefined;
    case 'send-to-flex':
      return top === 'attributes' ? outside('the Flex task attributes') : undefined;
    case 'add-twiml-redirect':
      return top === 'url' ? outside('a TwiML Redirect URL') : undefined;
    case 'send-message':
    case 'send-and-wait-for-reply':
      return top === 'body' || top === 'content_variables' || top === 'media_url' ? { kind: 'message', toRespondent: toRespondent(widget) } : undefined;
    default:
      return undefined;
  }
}

export interface LintOptions {
  /**
   * The survey's columns as surveyColumns(flow, file) gives them; read from the
   * publishable declaration beside `file` when not given. false: no column
   * checks, and no column is declared publishable.
   */
  readonly columns?: SurveyColumns | false;
}

export function lintFlow(flow: FlowDefinition, file: string, options: LintOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const byName = new Map(flow.states.map((w) => [w.name, w]));
  const add = (widget: string, property: string, severity: Severity, message: string) => findings.push({ file, widget, property, severity, message });

  // Every Liquid string of every widget, parsed once.
  const values: Value[] = [];
  const presence = presenceOnlyLastAnswered(flow, flow.states.filter(isPublishWidget));
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
      const presenceOnly = property === `parameters.${LAST_ANSWERED_COLUMN}` && presence.has(widget.name);
      values.push({ widget, path, property, paths: refs.paths, ...(presenceOnly ? { presenceOnly } : {}) });
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
    if (v.presenceOnly) continue;
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

  const taintOf = personalData(flow, assignments);
  const columns = options.columns === false ? undefined : (options.columns ?? surveyColumns(flow, file));
  checkPii(flow, values, assignments, taintOf, columns, columns?.declaration ?? declarationPath(file), add);
  checkFailPaths(flow, handlesAnswers(flow, values, taintOf), add);
  if (columns) checkColumns(columns, findings, add);
  // A split with no noMatch at all already has the structural error above; the survey check adds nothing there.
  const structural = new Set(findings.filter((f) => f.severity === 'error' && f.property.startsWith('transitions')).map((f) => f.widget));
  findings.push(...surveyChecks(flow, file).filter((f) => !(surveyCheckId(f) === 'split-no-nomatch' && structural.has(f.widget))));

  // Each distinct finding once, in the order of the widgets.
  const order = new Map(flow.states.map((w, i) => [w.name, i]));
  const printed = new Set<string>();
  return findings
    .filter((f) => {
      const key = [f.widget, f.property, f.severity, f.message].join('\0');
      return printed.has(key) ? false : (printed.add(key), true);
    })
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
    for (const event of expected ?? []) {
      if (events.has(event) || FAIL_EVENTS[widget.type] === event) continue;
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

/**
 * A source of personal data that a reference reads, if any (without flow
 * variables): an answer, an address or profile field, flow.data, a subflow's
 * parameters. A prefix of one (`{{trigger.message}}`, `{{widgets.q_name}}`)
 * reads it whole. The encrypt widget's output is tokens, not personal data.
 */
function isSource(path: Path, byName: ReadonlyMap<string, Widget>): boolean {
  const [root, a, b, c] = path;
  switch (root) {
    case 'contact':
      return a === undefined || (a === 'channel' && (b === undefined || b === 'address'));
    case 'flow':
      return a === undefined || a === 'data';
    case 'trigger': {
      if (a === undefined || b === undefined) return true;
      if (a === 'parent') return b === 'parameters';
      // The kind of channel ("web", "sms") says nothing about the person; the rest of ChannelAttributes may.
      if (b === 'ChannelAttributes' && c === 'channel_type') return false;
      return NOT_PERSONAL[a] !== undefined && !NOT_PERSONAL[a].has(b);
    }
    case 'widgets': {
      if (a === undefined) return true;
      const widget = byName.get(a);
      const fields = widget && !isEncryptWidget(widget) ? ANSWER_FIELDS[widget.type] : undefined;
      // A reply's SIDs and counts (inbound.MessageSid…) name the message, not its sender.
      if (b === 'inbound' && c !== undefined && NOT_PERSONAL.message?.has(c)) return false;
      return fields !== undefined && (b === undefined || fields.has(b));
    }
    default:
      return false;
  }
}

/** The taint of a reference: a source read directly, or a flow variable set (through any number of others) from one. */
function personalData(flow: FlowDefinition, assignments: ReadonlyArray<{ key: string; paths: Path[] }>): (path: Path) => Taint | undefined {
  const byName = new Map(flow.states.map((w) => [w.name, w]));
  const variables = new Map<string, Taint>();
  const taintOf = (path: Path): Taint | undefined => {
    if (isVariable(path)) return path[2] === undefined ? variables.values().next().value : variables.get(path[2]);
    return isSource(path, byName) ? { origin: path, label: labelOf(path), via: [] } : undefined;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const a of assignments) {
      if (variables.has(a.key)) continue;
      const from = a.paths.map(taintOf).find((t) => t !== undefined);
      if (!from) continue;
      variables.set(a.key, { ...from, via: [...from.via, `flow.variables.${a.key}`] });
      changed = true;
    }
  }
  return taintOf;
}

/**
 * Where the flow seals a source or a variable: widgets.<encrypt>.parsed.<key>
 * for what an encrypt parameter reads, directly or through the variables it was
 * set from; the respondent's address under whichever name encrypt got it as.
 */
function sealedForms(flow: FlowDefinition, values: readonly Value[], assignments: ReadonlyArray<{ key: string; paths: Path[] }>): (t: Taint) => string | undefined {
  const sealedAs = new Map<string, string>();
  const visit = (path: Path, token: string, seen: Set<string>) => {
    if (seen.has(dot(path))) return;
    seen.add(dot(path));
    if (!sealedAs.has(dot(path))) sealedAs.set(dot(path), token);
    if (isVariable(path)) for (const a of assignments) if (a.key === path[2]) for (const p of a.paths) visit(p, token, seen);
  };
  for (const v of values) {
    const m = isEncryptWidget(v.widget) ? /^parameters\[(\d+)\]\.value$/.exec(v.path) : null;
    const key = m ? keyOf(v.widget, 'parameters', Number(m[1])) : undefined;
    // execution_sid ({{flow.sid}}) binds the tokens and is not sealed.
    if (key === undefined || key === EXECUTION_SID) continue;
    for (const path of v.paths) visit(path, `widgets.${v.widget.name}.parsed.${key}`, new Set());
  }
  const byLabel = new Map<string, string>();
  for (const [path, token] of sealedAs) {
    const label = labelOf(path.split('.'));
    if (label.startsWith("the respondent's") && !byLabel.has(label)) byLabel.set(label, token);
  }
  return (t) => sealedAs.get(dot(t.origin)) ?? t.via.map((v) => sealedAs.get(v)).find((x) => x !== undefined) ?? byLabel.get(t.label);
}

function checkPii(
  flow: FlowDefinition,
  values: readonly Value[],
  assignments: ReadonlyArray<{ key: string; paths: Path[] }>,
  taintOf: (path: Path) => Taint | undefined,
  columns: SurveyColumns | undefined,
  declaration: string,
  add: Add,
): void {
  const sealedFor = sealedForms(flow, values, assignments);
  const declared = new Set((columns?.columns ?? []).filter((c) => c.class === 'plain' && c.reason !== undefined).map((c) => columnKey(c.name)));
  for (const v of values) {
    const sink = sinkOf(v.widget, v);
    if (!sink || v.presenceOnly || (sink.kind === 'publish' && declared.has(columnKey(sink.column)))) continue;
    const reported = new Set<string>();
    for (const path of v.paths) {
      const t = taintOf(path);
      if (!t || reported.has(dot(t.origin))) continue;
      reported.add(dot(t.origin));
      const from = `PII from ${t.label === dot(t.origin) ? t.label : `${t.label} (${dot(t.origin)})`}`;
      const via = t.via.length ? ` via ${t.via.join(' → ')}` : '';
      const sealed = sealedFor(t);
      if (sink.kind === 'outside') {
        const gathered = t.origin[0] === 'widgets' && flow.states.some((w) => w.name === t.origin[1] && w.type === 'gather-input-on-call');
        const fix = sealed
          ? `pass the sealed {{${sealed}}} instead`
          : gathered
            ? `collect it with an Add TwiML Redirect to the voice-gather Function instead, which seals it before Studio sees it, and pass {{widgets.<redirect>.<field>}}`
            : `give it to the encrypt widget and pass its sealed output (widgets.<encrypt>.parsed.<field>) instead`;
        add(v.widget.name, v.property, 'error', `${from} reaches ${sink.name}${via}: it would leave Studio unencrypted; ${fix}`);
      } else if (sink.kind === 'publish') {
        const seal = sealed ? `publish the sealed {{${sealed}}} instead` : `give it to the encrypt widget and publish {{widgets.<encrypt>.parsed.${sink.column}}}`;
        add(
          v.widget.name,
          v.property,
          'error',
          `${from} reaches the publish column ${quote(sink.column)}${via}, which is neither sealed nor declared publishable, so it would be written to the sheet in plaintext: seal it (${seal}), or, only if publishing it in plaintext is acceptable, declare ${quote(sink.column)} with the reason in ${declaration}`,
        );
      } else if (!sink.toRespondent) {
        add(v.widget.name, v.property, 'error', `${from} reaches a message to someone other than the respondent${via} (its "to" is not {{contact.channel.address}}): the recipient and Twilio's message logs get it unencrypted; leave it out of the message`);
      } else {
        add(v.widget.name, v.property, 'warning', `${from} is quoted back to the respondent${via}: the message text lands in Twilio's message logs unencrypted; leave it out of the message`);
      }
    }
  }
}

/** Widgets whose failure loses answers: encrypt, publish, and any widget given personal data or tokens. */
function handlesAnswers(flow: FlowDefinition, values: readonly Value[], taintOf: (path: Path) => Taint | undefined): Set<string> {
  const encrypts = new Set(flow.states.filter(isEncryptWidget).map((w) => w.name));
  const names = new Set(flow.states.filter((w) => encrypts.has(w.name) || isPublishWidget(w)).map((w) => w.name));
  for (const v of values) {
    if (v.path.startsWith('transitions[')) continue;
    if (v.paths.some((p) => taintOf(p) !== undefined || (p[0] === 'widgets' && p[1] !== undefined && encrypts.has(p[1])))) names.add(v.widget.name);
  }
  return names;
}

/** A Run Function's fail and an HTTP request's failed that lead nowhere: an error where answers are lost, else a warning. */
function checkFailPaths(flow: FlowDefinition, handlers: ReadonlySet<string>, add: Add): void {
  for (const widget of flow.states) {
    const event = FAIL_EVENTS[widget.type];
    if (event === undefined || widget.transitions.some((t) => t.event === event && t.next)) continue;
    const what = widget.type === 'run-function' ? 'the Function fails or takes longer than 10 s' : 'the request fails';
    if (handlers.has(widget.name)) {
      add(widget.name, `transitions.${event}`, 'error', `the ${event} transition leads nowhere, and this widget handles the answers: when ${what} the execution ends here, the answers are lost and the respondent is left hanging; connect "${event}" to a widget, e.g. a message saying the answers could not be saved`);
    } else {
      add(widget.name, `transitions.${event}`, 'warning', `the ${event} transition leads nowhere: when ${what} the execution ends here; connect "${event}" to a widget that tells the respondent, if that matters`);
    }
  }
}

/**
 * The publish columns' problems (an undeclared plain column, the declaration
 * missing or invalid, a token altered, …), except where the linter already
 * found an error (PII reaching the column, bad Liquid): one fix at a time.
 * A flow without publish has no columns.
 */
function checkColumns(columns: SurveyColumns, findings: readonly Finding[], add: Add): void {
  const taken = new Set(findings.filter((f) => f.severity === 'error').map((f) => `${f.widget}\0${f.property}`));
  for (const p of columns.problems) {
    if (p.id === 'no-publish' || p.id === 'no-encrypt' || taken.has(`${p.widget}\0${p.property}`)) continue;
    add(p.widget, p.property, p.severity, p.message);
  }
}

/** How a source is named in messages: the respondent's address or profile name, the widget whose output it is, or its path. */
function labelOf(path: Path): string {
  const [root, a, b, c] = path;
  const field = root === 'trigger' && path.length === 3 ? b : root === 'widgets' && b === 'inbound' && path.length === 4 ? c : undefined;
  if ((root === 'contact' && a === 'channel' && b === 'address') || (field !== undefined && ADDRESS_FIELDS.includes(field))) return "the respondent's address";
  if (field !== undefined && NAME_FIELDS.includes(field)) return "the respondent's profile name";
  if (root === 'widgets' && a !== undefined) return a;
  return dot(path);
}
