// The survey's columns, derived once from the flow: the sheet header, each
// column's class, PII_COLUMNS, and what is wrong with them. lint, deploy,
// simulate, the demo and the local stack all read them from here.
//
// A column is a parameter of the publish widget (received_at, which publish
// stamps, comes first). It is
//   sealed  its value is exactly {{widgets.<encrypt>.parsed.<field>}}: a token;
//   system  execution_sid = {{flow.sid}}, respondent_id (encrypt's pseudonym),
//           received_at, outcome, final_status or last_answered (the name
//           of the last question answered, order.ts);
//   plain   anything else: published in plaintext, so it must be declared
//           publishable (publishable.ts), with the reason that is acceptable.
// A token with text or filters around it is an error, not a plain value: it
// can no longer be decrypted, and publish refuses it.

import { columnKey, FIELD_NAME, fieldMatchesColumn } from '../envelope/index.js';
import { RESPONDENT_ID, RESPONDENT_PARAM } from '../functions/encrypt.js';
import { EXECUTION_SID, RECEIVED_AT } from '../publish/row.js';
import { keyValues, type FlowDefinition, type Widget } from './definition.js';
import { isEncryptWidget, isPublishWidget, liquidReferences, voiceSealField } from './lint.js';
import { FINAL_STATUS_COLUMN, FINAL_STATUSES, OUTCOME_COLUMN, OUTCOME_NAMES, OUTCOME_VARIABLE } from './outcomes.js';
import { LAST_ANSWERED_COLUMN, lastAnsweredLiquid } from './order.js';
import { declarationPath, readDeclaration, REASON_PLACEHOLDER, skeleton } from './publishable.js';

/** How each execution ended (outcomes.ts): system columns every row of a survey carries. */
export const OUTCOME_COLUMNS = [OUTCOME_COLUMN, FINAL_STATUS_COLUMN] as const;
/** Reserved for when each execution ended, which the launch and monitor commands will record; a flow may not publish it. */
export const RESERVED_COLUMNS = ['ended_at'] as const;

export type ColumnClass = 'sealed' | 'system' | 'plain';

export interface Column {
  readonly name: string;
  readonly class: ColumnClass;
  /** The widget the value comes from: the encrypt widget for tokens and respondent_id, else the publish widget. */
  readonly source: string;
  /** Plain columns: why publishing it in plaintext is acceptable, as declared; undefined when not declared. */
  readonly reason?: string | undefined;
}

export interface ColumnProblem {
  /** Stable: no-publish, no-encrypt, missing-execution-sid, execution-sid, respondent-id, reserved-column, outcome-value, last-answered-value, bad-column-name, duplicate-column, liquid-syntax, altered-token, unknown-field, field-mismatch, no-declaration, bad-declaration, undeclared-column, stale-declaration. */
  readonly id: string;
  readonly severity: 'error' | 'warning';
  /** A widget's name, or "(flow)" for the declaration file. */
  readonly widget: string;
  /** As lint names it: "parameters.age", "parameters", "publishable.age". */
  readonly property: string;
  readonly column?: string;
  readonly message: string;
}

export interface FlowColumns {
  /** The sheet's row 1: received_at, then the publish parameters in order. Empty without a publish widget. */
  readonly header: readonly string[];
  readonly columns: readonly Column[];
  /** The sealed columns: the publish Function's PII_COLUMNS. */
  readonly piiColumns: readonly string[];
  readonly problems: readonly ColumnProblem[];
}

export interface SurveyColumns extends FlowColumns {
  /** The publishable declaration's path (it may not exist). */
  readonly declaration: string;
}

/** Run Function widgets calling the Function at `/<name>` (or named so), as the linter recognises them. */
function functionWidgets(flow: FlowDefinition, name: 'encrypt' | 'publish'): Widget[] {
  return flow.states.filter(name === 'encrypt' ? isEncryptWidget : isPublishWidget);
}

/** PII_COLUMNS for this flow (kept for callers that need nothing else). */
export function sealedFields(flow: FlowDefinition): string[] {
  return [...flowColumns(flow).piiColumns];
}

/** The sheet's header for this flow (kept for callers that need nothing else). */
export function sheetHeader(flow: FlowDefinition): string[] {
  return [...flowColumns(flow).header];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `{{ path }}` and nothing else: whitespace inside the braces only, no filter. */
const isExactly = (value: string, path: string) => new RegExp(`^\\{\\{-?\\s*${escapeRegExp(path)}\\s*-?\\}\\}$`).test(value);

/** The columns of the flow's publish widget(s), classified, without the declaration. */
export function flowColumns(flow: FlowDefinition): FlowColumns {
  const problems: ColumnProblem[] = [];
  const publishes = functionWidgets(flow, 'publish');
  if (publishes.length === 0) {
    problems.push({ id: 'no-publish', severity: 'warning', widget: '(flow)', property: 'states', message: 'the flow has no publish widget (a Run Function whose URL ends in /publish), so it writes no row and has no columns' });
    return { header: [], columns: [], piiColumns: [], problems };
  }
  // Each encrypt widget with the fields it seals (execution_sid binds them and is not sealed).
  const encrypts = new Map(functionWidgets(flow, 'encrypt').map((w) => [w.name, new Set(keyValues(w.properties.parameters).map((p) => p.key).filter((k) => k !== EXECUTION_SID))]));
  if (encrypts.size === 0) {
    problems.push({ id: 'no-encrypt', severity: 'warning', widget: '(flow)', property: 'states', message: 'the flow has no encrypt widget (a Run Function whose URL ends in /encrypt), so no column is sealed: every column but execution_sid is published in plaintext' });
  }

  // Each TwiML Redirect to voice-gather with the one field it seals.
  const voices = new Map(flow.states.flatMap((w) => { const f = voiceSealField(w); return f === undefined ? [] : [[w.name, f] as const]; }));
  const columns: Column[] = [{ name: RECEIVED_AT, class: 'system', source: (publishes[0] as Widget).name }];
  const byKey = new Map<string, { column: Column; widget: string }>();
  for (const publish of publishes) {
    const lastAnswered = lastAnsweredLiquid(flow, publish.name);
    const params = keyValues(publish.properties.parameters);
    if (!params.some((p) => p.key === EXECUTION_SID)) {
      problems.push({ id: 'missing-execution-sid', severity: 'error', widget: publish.name, property: 'parameters', message: `has no ${EXECUTION_SID} parameter, and publish refuses a row without it: add ${EXECUTION_SID} = {{flow.sid}}` });
    }
    const seen = new Set<string>();
    for (const { key, value } of params) {
      const at = { widget: publish.name, property: `parameters.${key}`, column: key };
      const error = (id: string, message: string) => problems.push({ id, severity: 'error', ...at, message });
      const ck = columnKey(key);
      if (seen.has(ck)) {
        error('duplicate-column', `"${key}" is a second parameter for the same column (names are matched ignoring case and spacing), and publish cannot take both: remove or rename one`);
        continue;
      }
      seen.add(ck);
      if (ck === columnKey(RECEIVED_AT) || (RESERVED_COLUMNS as readonly string[]).includes(ck)) {
        const why = ck === columnKey(RECEIVED_AT) ? 'the publish Function stamps it' : 'it is reserved for when each execution ended, which the launch and monitor commands record';
        error('reserved-column', `"${key}" cannot be published by the flow (${why}): rename the parameter`);
        continue;
      }
      if (!FIELD_NAME.test(key)) error('bad-column-name', `"${key}" is not a column name publish accepts: use letters, digits and _, not starting with a digit, at most 64 characters`);
      const column = classify(key, value, publish.name, encrypts, voices, lastAnswered, error);
      const earlier = byKey.get(ck);
      if (!earlier) {
        byKey.set(ck, { column, widget: publish.name });
        columns.push(column);
      } else if (earlier.column.class !== column.class) {
        error('duplicate-column', `"${key}" is ${column.class} here but ${earlier.column.class} in ${earlier.widget}: one column holds one kind of value; make them the same or rename one`);
      }
    }
  }
  return { header: columns.map((c) => c.name), columns, piiColumns: columns.filter((c) => c.class === 'sealed').map((c) => c.name), problems };
}

type ErrorAt = (id: string, message: string) => void;

function classify(key: string, value: string, publish: string, encrypts: ReadonlyMap<string, ReadonlySet<string>>, voices: ReadonlyMap<string, string>, lastAnswered: string, error: ErrorAt): Column {
  const plain: Column = { name: key, class: 'plain', source: publish };
  const refs = liquidReferences(value);
  if ('error' in refs) {
    error('liquid-syntax', `Liquid syntax error: ${refs.error}; fix the {{ }} or {% %} markup`);
    return plain;
  }
  if (key === EXECUTION_SID) {
    if (!isExactly(value, 'flow.sid')) error('execution-sid', `${EXECUTION_SID} must be exactly {{flow.sid}}: it keeps one row per execution and binds the sealed answers to it`);
    return { name: key, class: 'system', source: publish };
  }
  const outcome = (OUTCOME_COLUMNS as readonly string[]).find((c) => columnKey(c) === columnKey(key));
  if (outcome !== undefined) {
    checkOutcomeValue(outcome, value, refs.paths, error);
    return { name: key, class: 'system', source: publish };
  }
  if (columnKey(key) === columnKey(LAST_ANSWERED_COLUMN)) {
    // Only the generated chain is known to test answers for presence and never output one.
    if (value !== lastAnswered) error('last-answered-value', `${key} is not what tools/flow-outcomes.ts writes for this flow (the name of the last question answered, testing only that each answer exists, in the flow's order): run npx tsx tools/flow-outcomes.ts on the flow, which writes it (docs/FLOW.md)`);
    return { name: key, class: 'system', source: publish };
  }
  const voiceRefs = refs.paths.filter((p) => p[0] === 'widgets' && p[1] !== undefined && p[2] !== undefined && voices.get(p[1]) === p[2]);
  if (voiceRefs.length > 0) return voiceColumn(key, value, voiceRefs, error);
  const sealedRefs = refs.paths.filter((p) => p[0] === 'widgets' && p[1] !== undefined && encrypts.has(p[1]));
  const [ref] = sealedRefs;
  if (ref === undefined) {
    if (columnKey(key) === columnKey(RESPONDENT_ID)) error('respondent-id', `"${key}" is reserved for the encrypt widget's pseudonym: set it to {{widgets.<encrypt>.parsed.${RESPONDENT_ID}}} or rename the column`);
    return plain;
  }
  const widget = ref[1] as string;
  const field = ref[2] === 'parsed' ? ref[3] : undefined;
  const token = `widgets.${widget}.parsed.${field ?? '<field>'}`;
  if (sealedRefs.length !== 1 || ref.length !== 4 || field === undefined || !isExactly(value, token)) {
    error('altered-token', `the value is not exactly {{${token}}}: a token with text, filters or other output of ${widget} around it cannot be decrypted, and publish refuses it; make the value exactly {{${token}}}`);
    return { name: key, class: 'sealed', source: widget };
  }
  if (field === RESPONDENT_ID) {
    if (columnKey(key) !== columnKey(RESPONDENT_ID)) error('respondent-id', `the encrypt widget's pseudonym is published as "${key}": name the column ${RESPONDENT_ID}`);
    if (!encrypts.get(widget)?.has(RESPONDENT_PARAM)) error('unknown-field', `${widget} is given no "${RESPONDENT_PARAM}" parameter, so ${RESPONDENT_ID} is always empty: add ${RESPONDENT_PARAM} = {{contact.channel.address}} to ${widget}`);
    return { name: key, class: 'system', source: widget };
  }
  if (!encrypts.get(widget)?.has(field)) {
    error('unknown-field', `${widget} is given no "${field}" parameter, so {{${token}}} is always empty: add ${field} to ${widget}'s parameters or publish a field it seals`);
  } else if (!fieldMatchesColumn(field, key)) {
    error('field-mismatch', `the token of field "${field}" is published as "${key}", but a token belongs in the column of its own field (publish and decrypt-csv refuse it elsewhere): name the column ${field}`);
  }
  return { name: key, class: 'sealed', source: widget };
}

/** A column holding the token a voice-gather redirect returned: exactly {{widgets.<redirect>.<field>}}, in the column of its field. */
function voiceColumn(key: string, value: string, refs: ReadonlyArray<readonly string[]>, error: ErrorAt): Column {
  const [widget, field] = [refs[0]?.[1] as string, refs[0]?.[2] as string];
  const token = `widgets.${widget}.${field}`;
  if (refs.length !== 1 || refs[0]?.length !== 3 || !isExactly(value, token)) {
    error('altered-token', `the value is not exactly {{${token}}}: a token with text, filters or other output of ${widget} around it cannot be decrypted, and publish refuses it; make the value exactly {{${token}}}`);
  } else if (!fieldMatchesColumn(field, key)) {
    error('field-mismatch', `the token of field "${field}" (sealed by voice-answer for ${widget}) is published as "${key}", but a token belongs in the column of its own field: name the column ${field}`);
  }
  return { name: key, class: 'sealed', source: widget };
}

/**
 * An outcome column says how the execution ended and nothing else: a value
 * of the vocabulary, or Liquid reading only flow.variables.outcome (the
 * variable each terminal path sets), never a reply.
 */
function checkOutcomeValue(column: string, value: string, paths: readonly (readonly string[])[], error: ErrorAt): void {
  const allowed: readonly string[] = column === OUTCOME_COLUMN ? OUTCOME_NAMES : FINAL_STATUSES;
  const fix = 'run npx tsx tools/flow-outcomes.ts on the flow, which writes the declared values (docs/FLOW.md)';
  if (paths.length === 0) {
    if (!allowed.includes(value)) error('outcome-value', `"${value}" is not a declared ${column} (${allowed.join(', ')}): use one of them, or ${fix}`);
    return;
  }
  const other = paths.find((p) => p.join('.') !== `flow.variables.${OUTCOME_VARIABLE}`);
  if (other) error('outcome-value', `reads ${other.join('.')}, but ${column} may only be derived from flow.variables.${OUTCOME_VARIABLE} (set on each terminal path), so no answer reaches it: ${fix}`);
}

/** The flow's columns with the publishable declaration beside `flowFile` (publishable.ts) read and checked. */
export function surveyColumns(flow: FlowDefinition, flowFile: string): SurveyColumns {
  const found = flowColumns(flow);
  const declaration = declarationPath(flowFile);
  const plain = found.columns.filter((c) => c.class === 'plain');
  if (found.header.length === 0) return { ...found, declaration };
  const read = readDeclaration(declaration);
  const problems = [...found.problems];
  const publish = found.columns[0]?.source ?? '(flow)';
  if (read.status === 'invalid') {
    for (const message of read.problems) problems.push({ id: 'bad-declaration', severity: 'error', widget: '(flow)', property: 'publishable', message });
    return { ...found, declaration, problems };
  }
  if (read.status === 'missing') {
    if (plain.length > 0) {
      const names = plain.map((c) => c.name);
      problems.push({
        id: 'no-declaration',
        severity: 'error',
        widget: publish,
        property: 'parameters',
        message: `publishes ${names.join(', ')} in plaintext, but no ${declaration} declares them publishable: create it as ${skeleton(names)}, replacing each ${REASON_PLACEHOLDER} with the reason; seal any column that can hold personal data instead`,
      });
    }
    return { ...found, declaration, problems };
  }
  const reasons = new Map(Object.entries(read.publishable).map(([name, reason]) => [columnKey(name), { name, reason }]));
  const columns = found.columns.map((c) => (c.class === 'plain' ? { ...c, reason: reasons.get(columnKey(c.name))?.reason } : c));
  for (const c of columns) {
    if (c.class !== 'plain' || c.reason !== undefined) continue;
    problems.push({
      id: 'undeclared-column',
      severity: 'error',
      widget: c.source,
      property: `parameters.${c.name}`,
      column: c.name,
      message: `"${c.name}" is published in plaintext but not declared publishable: if it can never hold personal data, add "${c.name}": "${REASON_PLACEHOLDER}" to "publishable" in ${declaration}; if it can, give it to the encrypt widget and publish {{widgets.<encrypt>.parsed.${c.name}}}`,
    });
  }
  const byKey = new Map(found.columns.map((c) => [columnKey(c.name), c]));
  for (const [key, { name }] of reasons) {
    const column = byKey.get(key);
    if (column?.class === 'plain') continue;
    const why = column ? `is ${column.class}, not published in plaintext` : 'is no longer published by the flow';
    problems.push({ id: 'stale-declaration', severity: 'warning', widget: '(flow)', property: `publishable.${name}`, column: name, message: `"${name}" is declared publishable in ${declaration} but ${why}: remove it from the declaration, so that it is reviewed again if the flow ever publishes it in plaintext` });
  }
  return { ...found, columns, declaration, problems };
}

/**
 * Widgets whose typed answers the encrypt widget seals: the answers its
 * parameters reference, directly or through flow variables set from them
 * (references found by liquidjs, as the linter finds them).
 */
export function piiAnswerWidgets(flow: FlowDefinition): Set<string> {
  const refs = (text: string) => {
    const found = liquidReferences(text);
    return 'paths' in found ? found.paths : [];
  };
  const assignments = new Map<string, string[]>();
  for (const w of flow.states.filter((s) => s.type === 'set-variables')) {
    for (const { key, value } of keyValues(w.properties.variables)) assignments.set(key, [...(assignments.get(key) ?? []), value]);
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (text: string) => {
    for (const [root, name, part] of refs(text)) {
      if (root === 'widgets' && name && part === 'inbound') names.add(name);
      if (root === 'flow' && name === 'variables' && part && !seen.has(part)) {
        seen.add(part);
        for (const value of assignments.get(part) ?? []) visit(value);
      }
    }
  };
  for (const { value } of keyValues(functionWidgets(flow, 'encrypt')[0]?.properties.parameters)) visit(value);
  return names;
}
