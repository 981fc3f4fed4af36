// Checks a survey needs beyond lint's data-flow checks. Where a check can run
// the thing it checks it does: split conditions are evaluated with the
// runner's own evaluator (conditions.ts) against the options' texts, their
// positions, typical replies and junk, and a stop word is walked through the
// flow to see whether it ends up published as an answer.
//
// Every finding's message starts with its check's stable id in brackets,
// "[split-no-nomatch] …", and ends with the fix. Only flows with a publish
// widget (surveys) are checked, except for credentials (safety), which are
// always reported.

import { allHold } from './conditions.js';
import { findCredentials } from './credentials.js';
import { FlowError, keyValues, stringProperties, urlPath, type FlowDefinition, type Widget } from './definition.js';
import { liquidReferences, type Finding, type Severity } from './lint.js';
import { LAST_ANSWERED_COLUMN, presenceOnlyLastAnswered } from './order.js';
import { FINAL_STATUS_COLUMN, OUTCOME_COLUMN, STOP_WORDS as DECLARED_STOP_WORDS } from './outcomes.js';
import { EXECUTION_SID } from '../publish/row.js';

/** The ids a survey check's message starts with, "[id] …". */
export const SURVEY_CHECK_IDS = [
  'credential',
  'multiple-conditions',
  'split-no-nomatch',
  'split-invalid-condition',
  'split-shadowed-option',
  'split-unreachable-option',
  'split-accepts-junk',
  'wait-no-timeout',
  'wait-no-delivery-failure',
  'no-opt-out',
  'rest-opener-not-template',
  'rest-not-routed',
  'message-too-long',
  'terminal-without-row',
  'no-outcome-column',
  'publish-fail-thanks',
  'encrypt-fail-publishes',
] as const;
export type SurveyCheckId = (typeof SURVEY_CHECK_IDS)[number];

/** The check a finding of surveyChecks() comes from. */
export function surveyCheckId(finding: Finding): SurveyCheckId | undefined {
  const id = /^\[([a-z-]+)\]/.exec(finding.message)?.[1];
  return SURVEY_CHECK_IDS.find((x) => x === id);
}

/**
 * Twilio's Messages resource takes a body of at most 1,600 characters
 * (twilio.com/docs/api/errors/21617 and 21605: "The current Messages resource
 * accepts body values up to 1,600 characters"); WhatsApp's own 4,096 is the
 * looser limit. 21617 says emoji and other non-GSM characters may count as
 * several, so the text is measured in UTF-16 code units (an emoji counts 2).
 */
export const MAX_BODY_CHARS = 1600;

/** Replies a respondent who wants out sends (outcomes.ts, in the respondents' languages); WhatsApp does not act on them for us. */
export const STOP_WORDS = ['STOP', ...DECLARED_STOP_WORDS] as const;
/** The stop words lint walks through a flow ([no-opt-out]): English ones, which any flow is expected to honour. */
const PROBED_STOP_WORDS = ['STOP', 'stop', 'unsubscribe', 'cancel', 'quit', 'end'] as const;

interface Reply {
  readonly text: string;
  /** How the reply is named in messages. */
  readonly label: string;
}
const reply = (text: string): Reply => ({ text, label: JSON.stringify(text) });

/** Replies that answer no question: a media message (no text), a shrug, a keyboard mash, a pasted essay. */
const LONG_REPLY = 'asdf '.repeat(400);
const JUNK: readonly Reply[] = [reply(''), reply(' '), reply('?'), reply('🙂'), reply('asdf'), reply('0'), { text: LONG_REPLY, label: `a ${LONG_REPLY.length}-character reply` }];
/** The junk a free-text answer (an option with no texts of its own, e.g. a name pattern) must still refuse: nothing but spaces or signs. */
const SIGNLESS = (r: Reply) => !/[\p{L}\p{N}]/u.test(r.text);
/** Typical answers to open questions, so a pattern such as ^[0-9]{6,10}$ is seen to be reachable. */
const SAMPLES = ['yes', 'no', 'hello', 'Jane Wanjiru', '42', '123456', '12345678', '1234567890', '2024-01-31', 'jane@example.com'];

const hasLiquid = (s: string) => /\{\{|\{%/.test(s);
const quote = (s: string) => JSON.stringify(s);

type Path = readonly string[];
const related = (a: Path, b: Path) => (a.length <= b.length ? a.every((s, i) => s === b[i]) : b.every((s, i) => s === a[i]));
/** Whether a template reads any of the paths (or part of one). */
function reads(template: string, paths: readonly Path[]): boolean {
  const refs = liquidReferences(template);
  return 'paths' in refs && refs.paths.some((p) => paths.some((t) => related(p, t)));
}

const isPublish = (w: Widget) => w.type === 'run-function' && (w.name === 'publish' || urlPath(typeof w.properties.url === 'string' ? w.properties.url : '').endsWith('/publish'));
const isEncrypt = (w: Widget) => w.type === 'run-function' && (w.name === 'encrypt' || urlPath(typeof w.properties.url === 'string' ? w.properties.url : '').endsWith('/encrypt'));
const isMessage = (w: Widget) => w.type === 'send-message' || w.type === 'send-and-wait-for-reply';
const leadsTo = (w: Widget, event: string) => w.transitions.find((t) => t.event === event)?.next || undefined;
const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function surveyChecks(flow: FlowDefinition, file: string): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (widget: string, property: string, severity: Severity, id: SurveyCheckId, message: string) => {
    const key = `${widget}\0${property}\0${id}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push({ file, widget, property, severity, message: `[${id}] ${message}` });
  };

  for (const hit of findCredentials(flow as unknown as Record<string, unknown>)) {
    add(hit.widget, hit.property, 'error', 'credential', `holds ${hit.kind}: a definition is exported, pulled into git and shown to everyone with Studio access; revoke it, then keep it in the Functions' environment and call a Function that uses it instead`);
  }
  if (!flow.states.some(isPublish)) return findings;

  const byName = new Map(flow.states.map((w) => [w.name, w]));
  const replyPaths = replyDerived(flow);
  for (const w of flow.states) {
    w.transitions.forEach((t, i) => {
      if ((t.conditions?.length ?? 0) > 1) {
        add(w.name, `transitions[${i}]`, 'error', 'multiple-conditions', `has ${t.conditions?.length} conditions on one transition, which Studio's editor never produces, so how Studio combines them is not documented: give each transition one condition and chain splits where all must hold`);
      }
    });
    if (w.type === 'split-based-on') checkSplit(w, replyPaths, add);
    if (w.type === 'send-and-wait-for-reply') {
      if (!leadsTo(w, 'timeout')) {
        add(w.name, 'transitions.timeout', 'warning', 'wait-no-timeout', `a respondent who does not answer within ${str(w.properties.timeout) || '3600'} s ends the survey here without a word: connect "timeout" to a reminder or a goodbye message`);
      }
      if (!leadsTo(w, 'deliveryFailure')) {
        add(w.name, 'transitions.deliveryFailure', 'warning', 'wait-no-delivery-failure', 'when the question cannot be delivered the execution ends here and nothing records why: connect "deliveryFailure" to a widget that records the respondent as unreachable (or retries)');
      }
    }
    if (isMessage(w)) {
      const literal = str(w.properties.body).replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, '');
      if (literal.length > MAX_BODY_CHARS) {
        add(w.name, 'body', 'error', 'message-too-long', `the message text is ${literal.length} characters before any {{ }} is filled in; Twilio refuses a body over ${MAX_BODY_CHARS} (error 21617): shorten it or split it into two messages`);
      }
    }
  }
  checkRestLaunch(flow, byName, add);
  checkOptOut(flow, byName, add);
  checkRows(flow, byName, add);

  const order = new Map(flow.states.map((w, i) => [w.name, i]));
  return findings.map((f, i) => ({ f, i })).sort((a, b) => (order.get(a.f.widget) ?? -1) - (order.get(b.f.widget) ?? -1) || a.i - b.i).map(({ f }) => f);
}

type Add = (widget: string, property: string, severity: Severity, id: SurveyCheckId, message: string) => void;

/** What holds a respondent's reply: the answers of Send & Wait widgets, the first message, and flow variables set from them. */
function replyDerived(flow: FlowDefinition): Path[] {
  const paths: Path[] = [['trigger', 'message', 'Body']];
  for (const w of flow.states) if (w.type === 'send-and-wait-for-reply') paths.push(['widgets', w.name, 'inbound']);
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of flow.states) {
      if (w.type !== 'set-variables') continue;
      for (const { key, value } of keyValues(w.properties.variables)) {
        const target = ['flow', 'variables', key];
        if (!paths.some((p) => related(p, target)) && reads(value, paths)) (paths.push(target), (changed = true));
      }
    }
  }
  return paths;
}

/** The subject a split tests: its input (Studio's "Variable to Test"); the conditions' arguments where a flow has no input. */
const splitSubject = (w: Widget) => (str(w.properties.input) !== '' ? [str(w.properties.input)] : w.transitions.flatMap((t) => t.conditions?.flatMap((c) => c.arguments) ?? []));

/**
 * The transition a split takes for a reply, as the runner takes it (first
 * match wins), or undefined for noMatch. The reply is the subject as is:
 * filters between the answer and the split (downcase, strip) are not applied.
 */
function route(w: Widget, text: string): number | undefined {
  const render = (template: string) => (hasLiquid(template) ? text : template);
  const i = w.transitions.findIndex((t) => t.event !== 'noMatch' && t.conditions !== undefined && allHold(t.conditions, render, text, w.name));
  return i < 0 ? undefined : i;
}

/** Replies a condition is written for: its value, each value of a list, the next number past a bound. */
function ownTexts(type: string, value: string): string[] {
  switch (type) {
    case 'equal_to':
    case 'starts_with':
    case 'contains':
      return [value];
    case 'matches_any_of':
      return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
    case 'greater_than':
    case 'less_than':
      return Number.isFinite(Number(value)) && value.trim() !== '' ? [String(Number(value) + (type === 'greater_than' ? 1 : -1))] : [];
    case 'is_blank':
      return [''];
    default:
      return [];
  }
}

function checkSplit(w: Widget, replyPaths: readonly Path[], add: Add): void {
  const onReply = splitSubject(w).some((s) => reads(s, replyPaths));
  if (!leadsTo(w, 'noMatch')) {
    add(w.name, 'transitions.noMatch', onReply ? 'error' : 'warning', 'split-no-nomatch', onReply
      ? 'a reply that matches no option ends the survey here without a word: connect "noMatch" to a message that asks again'
      : 'when no condition holds the execution ends here: connect "noMatch" to the widget that should follow');
  }
  if (!onReply) return;
  const matches = w.transitions.map((t, i) => ({ t, i })).filter(({ t }) => t.event !== 'noMatch' && t.conditions !== undefined);
  // A value with Liquid in it depends on the execution: such a split cannot be evaluated here.
  if (matches.some(({ t }) => t.conditions?.some((c) => hasLiquid(c.value)))) return;
  const option = (i: number) => {
    const k = matches.findIndex((m) => m.i === i);
    const name = matches[k]?.t.conditions?.[0]?.friendly_name;
    return `option ${k + 1}${name ? ` (${quote(name)})` : ''}`;
  };

  const texts = matches.map(({ t }) => [...new Set(t.conditions?.flatMap((c) => ownTexts(c.type, c.value)) ?? [])]);
  const positions = matches.map((_, k) => String(k + 1));
  // Each text also in a longer reply ("yes thanks"), which a prefix, substring or pattern option is there to catch.
  const candidates = [...new Set([...texts.flat().flatMap((x) => [x, `${x} thanks`]), ...positions, ...SAMPLES, ...JUNK.map((j) => j.text)])];
  let routes: Map<string, number | undefined>;
  try {
    routes = new Map(candidates.map((c) => [c, route(w, c)]));
  } catch (error) {
    if (!(error instanceof FlowError)) throw error;
    add(w.name, 'transitions', 'error', 'split-invalid-condition', `${error.message}; Studio cannot evaluate it either: fix the condition`);
    return;
  }
  const reached = new Set(routes.values());

  matches.forEach(({ t, i }, k) => {
    if (reached.has(i)) return;
    const own = (texts[k] ?? []).filter((x) => t.conditions !== undefined && allHold(t.conditions, (s) => (hasLiquid(s) ? x : s), x, w.name));
    if (own.length > 0) {
      const takers = [...new Set(own.map((x) => routes.get(x)).filter((r): r is number => r !== undefined))].map(option);
      add(w.name, `transitions[${i}]`, 'error', 'split-shadowed-option', `${option(i)} is never taken: the replies it is written for (${own.slice(0, 3).map(quote).join(', ')}${own.length > 3 ? ', …' : ''}) are taken first by ${takers.join(' and ')}; move it above them, or remove it`);
    } else {
      add(w.name, `transitions[${i}]`, 'warning', 'split-unreachable-option', `${option(i)} matches none of the replies tried (the options' texts, their positions 1–${matches.length}, typical answers and junk), so it may never be taken: check its condition against the replies you expect`);
    }
  });

  // An option written for listed replies is a choice, and junk is no answer to it; one that only tests a
  // pattern (or a bound, or not-blank) takes free text, which must at least hold a letter or a digit.
  const optionTexts = new Set([...texts.flat(), ...positions].map((x) => x.trim().toLowerCase()));
  const accepted = JUNK.filter((j) => !optionTexts.has(j.text.trim().toLowerCase())).flatMap((j) => {
    const r = routes.get(j.text);
    if (r === undefined) return [];
    const choice = (texts[matches.findIndex((m) => m.i === r)] ?? []).length > 0;
    return choice || SIGNLESS(j) ? [`${j.label} → ${option(r)}`] : [];
  });
  if (accepted.length > 0) {
    add(w.name, 'transitions', 'warning', 'split-accepts-junk', `accepts junk as an answer: ${accepted.join(', ')}; tighten that condition (anchor a pattern with ^…$, list the accepted replies) so junk goes to "noMatch" and is asked again`);
  }
}

/** Widgets reached from `start` through widgets that send nothing, and the first message widgets on each path. */
function firstMessages(start: string, byName: Map<string, Widget>): Widget[] {
  const found: Widget[] = [];
  const seen = new Set<string>();
  const stack = [start];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    const w = byName.get(n);
    if (!w || seen.has(n)) continue;
    seen.add(n);
    if (isMessage(w)) found.push(w);
    else for (const t of w.transitions) if (t.next) stack.push(t.next);
  }
  return found;
}

function checkRestLaunch(flow: FlowDefinition, byName: Map<string, Widget>, add: Add): void {
  const trigger = flow.states.find((w) => w.type === 'trigger');
  if (!trigger) return;
  const strings = flow.states.flatMap((w) => [...stringProperties(w).map((s) => s.value), ...splitSubject(w)]);
  const first = leadsTo(trigger, 'incomingRequest');
  if (!first) {
    const rest = [['flow', 'data'], ['trigger', 'request']] as const;
    if (strings.some((s) => reads(s, rest))) {
      add(trigger.name, 'transitions.incomingRequest', 'error', 'rest-not-routed', 'the flow reads flow.data or trigger.request, so it is launched through the REST API, but "incomingRequest" leads nowhere: every such execution ends at once; connect "incomingRequest" to the first message, a content template');
    }
    return;
  }
  // WhatsApp is seen in a whatsapp: address or a content template; on SMS a free-form opener is allowed.
  const whatsapp = strings.some((s) => /whatsapp:/i.test(s)) || flow.states.some((w) => str(w.properties.content_sid) !== '');
  for (const w of firstMessages(first, byName)) {
    if (str(w.properties.content_sid) !== '') continue;
    add(w.name, 'content_sid', whatsapp ? 'error' : 'warning', 'rest-opener-not-template', `is the first message of a REST-launched execution but is free text: WhatsApp refuses a free-form message to someone who has not written in the last 24 hours (error 63016); send an approved content template (message_type "content_template" with content_sid and content_variables)`);
  }
}

/** Every widget reachable from `start` (itself included). */
function reachable(start: string | undefined, byName: Map<string, Widget>): Set<string> {
  const seen = new Set<string>();
  for (const stack = start ? [start] : []; stack.length > 0; ) {
    const w = byName.get(stack.pop() as string);
    if (!w || seen.has(w.name)) continue;
    seen.add(w.name);
    for (const t of w.transitions) if (t.next) stack.push(t.next);
  }
  return seen;
}

/** A row that says only how the execution ended: execution_sid, the outcome columns and the last question answered, no answer. */
const outcomeOnly = (w: Widget) => keyValues(w.properties.parameters).every((p) => [EXECUTION_SID, OUTCOME_COLUMN, FINAL_STATUS_COLUMN, LAST_ANSWERED_COLUMN].includes(p.key));

/**
 * One row per execution, saying how it ended (outcomes.ts): every way out of
 * the flow passes a publish widget; a publish failure never reaches the
 * message its success sends (the thank-you); an encrypt failure publishes at
 * most the outcome, never the answers (in clear, as encrypt did not seal them).
 */
function checkRows(flow: FlowDefinition, byName: Map<string, Widget>, add: Add): void {
  const publishes = flow.states.filter(isPublish);
  // Only flows that record outcomes (a publish widget with an outcome parameter) are held to one row per path.
  if (!publishes.some((w) => keyValues(w.properties.parameters).some((p) => p.key === OUTCOME_COLUMN))) {
    const [first] = publishes;
    if (first) {
      add(first.name, 'parameters', 'warning', 'no-outcome-column', `the survey publishes no ${OUTCOME_COLUMN} column, so a declined, stopped or unreachable respondent leaves no row and attrition cannot be counted: publish ${OUTCOME_COLUMN} and ${FINAL_STATUS_COLUMN} on every way out of the flow (flows/whatsapp-survey.json shows how; the values are in src/flow/outcomes.ts)`);
    }
    return;
  }
  // Ways out of the flow that no publish widget precedes: (widget, published yet) states from the trigger.
  const trigger = flow.states.find((w) => w.type === 'trigger');
  const seen = new Set<string>();
  const stack = (trigger?.transitions ?? []).flatMap((t) => (t.next ? [{ at: t.next, published: false }] : []));
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    const w = byName.get(s.at);
    const key = `${s.at}\0${s.published}`;
    if (!w || seen.has(key)) continue;
    seen.add(key);
    const published = s.published || isPublish(w);
    if (!published && w.transitions.every((t) => !t.next)) {
      const events = w.transitions.map((t) => t.event);
      add(w.name, events.length > 0 ? `transitions.${events.join('/')}` : 'transitions', 'warning', 'terminal-without-row', `an execution can end here without a row, so the sheet never learns how it ended (declined, stopped, timed out, undeliverable): set flow.variables.${OUTCOME_COLUMN} and lead this path to a publish widget that publishes ${EXECUTION_SID}, ${OUTCOME_COLUMN} and ${FINAL_STATUS_COLUMN}`);
    }
    for (const t of w.transitions) if (t.next) stack.push({ at: t.next, published });
  }
  for (const p of publishes) {
    const success = leadsTo(p, 'success');
    const afterFail = reachable(leadsTo(p, 'fail'), byName);
    const thanks = success ? firstMessages(success, byName).filter((m) => afterFail.has(m.name)) : [];
    if (thanks.length > 0) {
      add(p.name, 'transitions.fail', 'error', 'publish-fail-thanks', `when publish fails the respondent still gets ${thanks.map((m) => m.name).join(', ')}, the message sent when the answers were stored: they are told their answers were saved when they were not; lead "fail" to a message saying the answers could not be saved (and a row that says ${OUTCOME_COLUMN} failed)`);
    }
  }
  for (const e of flow.states.filter(isEncrypt)) {
    const leaks = [...reachable(leadsTo(e, 'fail'), byName)].map((n) => byName.get(n) as Widget).filter((w) => isPublish(w) && !outcomeOnly(w));
    if (leaks.length > 0) {
      add(e.name, 'transitions.fail', 'error', 'encrypt-fail-publishes', `when encrypt fails the flow goes on to ${leaks.map((w) => w.name).join(', ')}, which publishes the answers although nothing was sealed (plain answers in clear, sealed columns empty): lead "fail" to a publish widget that publishes only ${EXECUTION_SID}, ${OUTCOME_COLUMN} and ${FINAL_STATUS_COLUMN}, with ${OUTCOME_COLUMN} failed`);
    }
  }
}

/**
 * Walks a stop word sent in reply to each question that can reach publish:
 * splits on that reply are evaluated, every other branch is followed (later
 * replies are unknown), and what holds the stop word is tracked through
 * Set Variables and Functions. A stop word that reaches publish's parameters
 * is stored as an answer, so the survey has no way out at that question.
 */
function checkOptOut(flow: FlowDefinition, byName: Map<string, Widget>, add: Add): void {
  const canPublish = reachingPublish(flow);
  const presence = presenceOnlyLastAnswered(flow, flow.states.filter(isPublish));
  for (const q of flow.states) {
    if (q.type !== 'send-and-wait-for-reply' || !canPublish.has(q.name)) continue;
    const stored = PROBED_STOP_WORDS.filter((word) => storesReply(q, word, byName, presence));
    if (stored.length > 0) {
      add(q.name, 'transitions.incomingMessage', 'warning', 'no-opt-out', `a reply of ${stored.map(quote).join(', ')} here is taken as the answer and published: a respondent who wants to stop is kept in the survey; route stop words (matches any of "${PROBED_STOP_WORDS.filter((s) => s === s.toLowerCase()).join(',')}") to a goodbye before the answer is checked`);
    }
  }
}

/** Widgets from which a publish widget can be reached. */
function reachingPublish(flow: FlowDefinition): Set<string> {
  const set = new Set(flow.states.filter(isPublish).map((w) => w.name));
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of flow.states) if (!set.has(w.name) && w.transitions.some((t) => t.next && set.has(t.next))) (set.add(w.name), (changed = true));
  }
  return set;
}

/** `presence`: publish widgets whose last_answered only tests whether replies exist (presenceOnlyLastAnswered), so it stores no reply. */
function storesReply(question: Widget, word: string, byName: Map<string, Widget>, presence: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  const stack: Array<{ at: string | undefined; holds: Path[] }> = [{ at: leadsTo(question, 'incomingMessage'), holds: [['widgets', question.name, 'inbound']] }];
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    const w = s.at === undefined ? undefined : byName.get(s.at);
    if (!w || s.holds.length === 0) continue;
    const key = `${w.name}\0${s.holds.map((p) => p.join('.')).sort().join('\0')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let holds = s.holds;
    const next = (event?: string) => w.transitions.filter((t) => t.next && (event === undefined || t.event === event)).forEach((t) => stack.push({ at: t.next, holds }));
    switch (w.type) {
      case 'set-variables':
        for (const { key: name, value } of keyValues(w.properties.variables)) {
          const target = ['flow', 'variables', name];
          const rest = holds.filter((p) => !related(p, target));
          holds = reads(value, holds) ? [...rest, target] : rest;
        }
        next();
        break;
      case 'split-based-on': {
        if (!splitSubject(w).some((x) => reads(x, holds)) || w.transitions.some((t) => t.conditions?.some((c) => hasLiquid(c.value)))) {
          next();
          break;
        }
        let taken: number | undefined;
        try {
          taken = route(w, word);
        } catch (error) {
          if (!(error instanceof FlowError)) throw error;
          next();
          break;
        }
        const t = taken === undefined ? w.transitions.find((x) => x.event === 'noMatch') : w.transitions[taken];
        if (t?.next) stack.push({ at: t.next, holds });
        break;
      }
      case 'run-function':
      case 'make-http-request': {
        const params = keyValues(w.properties.parameters).filter((p) => !(p.key === LAST_ANSWERED_COLUMN && presence.has(w.name))).map((p) => p.value);
        if (isPublish(w) && params.some((v) => reads(v, holds))) return true;
        if (params.some((v) => reads(v, holds)) || reads(str(w.properties.body), holds)) holds = [...holds, ['widgets', w.name]];
        next();
        break;
      }
      case 'send-and-wait-for-reply':
        // Asked again, the question's answer is a new, unknown reply.
        if (w.name === question.name) holds = holds.filter((p) => !related(p, ['widgets', w.name]));
        next();
        break;
      default:
        next();
    }
  }
  return false;
}
