// How each execution of a survey ended: the `outcome` and `final_status`
// columns of its one row. Declared here once; tools/flow-outcomes.ts writes
// the final_status mapping (as Liquid), last_answered (order.ts) and the stop
// words into the flow, and tests/outcomes.test.ts fails when the flow uses a
// value not declared here.

import { urlPath, type FlowDefinition, type Widget } from './definition.js';
import { LAST_ANSWERED_COLUMN, lastAnsweredLiquid } from './order.js';

/** Every way an execution can end, as the `outcome` column says it. */
export const OUTCOMES = {
  complete: 'answered every question and the answers were stored',
  declined: 'said no to the consent question',
  optout: 'sent a stop word at some question',
  incomplete: 'stopped answering after consenting (timed out, or three invalid answers)',
  no_reply: 'never answered: the invitation or the consent question timed out (on a call: no key pressed at consent, or the call was not picked up)',
  hung_up: 'the caller hung up during the survey (voice): nothing was stored but this row',
  undeliverable: 'a message could not be delivered, or a call could not be placed',
  failed: 'encrypt or publish failed: the system, never the respondent',
} as const;
export type Outcome = keyof typeof OUTCOMES;
export const OUTCOME_NAMES = Object.keys(OUTCOMES) as Outcome[];

export const FINAL_STATUSES = ['complete', 'declined', 'incomplete', 'failed'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/**
 * final_status for analysts: what the respondent did, or `failed` when the
 * survey could not reach them or could not store their answers. An opt-out is
 * a refusal; not answering leaves the survey incomplete.
 */
export const FINAL_STATUS: Readonly<Record<Outcome, FinalStatus>> = {
  complete: 'complete',
  declined: 'declined',
  optout: 'declined',
  incomplete: 'incomplete',
  no_reply: 'incomplete',
  hung_up: 'incomplete',
  undeliverable: 'failed',
  failed: 'failed',
};

/** The columns every row carries (system columns: no declaration needed). */
export const OUTCOME_COLUMN = 'outcome';
export const FINAL_STATUS_COLUMN = 'final_status';
/** The flow variable each terminal path sets before the row is published. */
export const OUTCOME_VARIABLE = 'outcome';

/**
 * Replies that end the survey at any question, in the respondents' languages
 * (English and Swahili: "acha" = stop, "sitisha" = halt). Matched after the
 * reply is trimmed, in any case.
 */
export const STOP_WORDS = ['stop', 'unsubscribe', 'cancel', 'quit', 'end', 'acha', 'sitisha'] as const;

/**
 * The publish parameter `final_status`: the mapping above as one Liquid
 * if/elsif chain on flow.variables.outcome. Anything undeclared (a variable
 * never set) falls to `failed`, which blames the system, never the respondent.
 */
export function finalStatusLiquid(): string {
  const v = `flow.variables.${OUTCOME_VARIABLE}`;
  const branches = FINAL_STATUSES.filter((s) => s !== 'failed').map((status, i) => {
    const tests = OUTCOME_NAMES.filter((o) => FINAL_STATUS[o] === status).map((o) => `${v} == "${o}"`);
    return `{% ${i === 0 ? 'if' : 'elsif'} ${tests.join(' or ')} %}${status}`;
  });
  return `${branches.join('')}{% else %}failed{% endif %}`;
}

/** The publish parameter `outcome`. */
export const OUTCOME_LIQUID = `{{flow.variables.${OUTCOME_VARIABLE}}}`;

/** A Split whose name starts with `stop_`: its match transitions hold the stop words. */
const isStopSplit = (w: Widget) => w.type === 'split-based-on' && w.name.startsWith('stop_');
/** As lint's isPublishWidget (not imported: lint imports this module through survey-checks). */
const isPublish = (w: Widget) => w.type === 'run-function' && (w.name === 'publish' || urlPath(typeof w.properties.url === 'string' ? w.properties.url : '').endsWith('/publish'));

/**
 * Writes the declarations into a flow definition, in place: every publish
 * widget's `outcome` and `final_status` parameters, its `last_answered`
 * parameter (order.ts; added after final_status, or last, when missing), and
 * the stop words of every `stop_*` split. Returns the names of the widgets it
 * changed.
 */
export function writeOutcomes(flow: FlowDefinition): string[] {
  const changed = new Set<string>();
  const set = (name: string, target: { value: string }, value: string) => {
    if (target.value !== value) (target.value = value), changed.add(name);
  };
  for (const w of flow.states) {
    if (isPublish(w)) {
      if (!Array.isArray(w.properties.parameters)) w.properties.parameters = [];
      const params = w.properties.parameters as Array<{ key: string; value: string }>;
      if (!params.some((p) => p.key === LAST_ANSWERED_COLUMN)) {
        const at = params.findIndex((p) => p.key === FINAL_STATUS_COLUMN);
        params.splice(at < 0 ? params.length : at + 1, 0, { key: LAST_ANSWERED_COLUMN, value: '' });
        changed.add(w.name);
      }
      for (const p of params) {
        if (p.key === OUTCOME_COLUMN) set(w.name, p, OUTCOME_LIQUID);
        if (p.key === FINAL_STATUS_COLUMN) set(w.name, p, finalStatusLiquid());
        if (p.key === LAST_ANSWERED_COLUMN) set(w.name, p, lastAnsweredLiquid(flow, w.name));
      }
    }
    if (isStopSplit(w)) for (const c of w.transitions.flatMap((t) => t.conditions ?? [])) if (c.type === 'matches_any_of') set(w.name, c, STOP_WORDS.join(','));
  }
  return [...changed];
}
