// What a flow's Run Function widgets say about the sheet: which fields the
// encrypt widget seals (the PII columns) and which columns publish writes.

import { keyValues, type FlowDefinition, type Widget } from './definition.js';

const urlPath = (w: Widget): string => {
  const url = typeof w.properties.url === 'string' ? w.properties.url : '';
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
};

/** The Run Function widget calling the Function at `/<name>` (or named so). */
export function functionWidget(flow: FlowDefinition, name: 'encrypt' | 'publish'): Widget | undefined {
  return flow.states.find((w) => w.type === 'run-function' && (urlPath(w).endsWith(`/${name}`) || w.name === name));
}

/** The fields encrypt seals: the columns of the sheet that hold tokens. */
export function sealedFields(flow: FlowDefinition): string[] {
  const w = functionWidget(flow, 'encrypt');
  return w ? keyValues(w.properties.parameters).map((p) => p.key) : [];
}

/** The sheet's header for this flow: received_at, then publish's parameters in order. */
export function sheetHeader(flow: FlowDefinition): string[] {
  const w = functionWidget(flow, 'publish');
  const keys = w ? keyValues(w.properties.parameters).map((p) => p.key) : [];
  return ['received_at', ...keys.filter((k) => k !== 'received_at')];
}

/**
 * Widgets whose typed answers the encrypt widget seals: the answers its
 * parameters reference, directly or through flow variables set from them.
 */
export function piiAnswerWidgets(flow: FlowDefinition): Set<string> {
  const answers = (text: string) => [...text.matchAll(/widgets\.([A-Za-z0-9_-]+)\.inbound\.Body/g)].map((m) => m[1] as string);
  const variables = (text: string) => [...text.matchAll(/flow\.variables\.([A-Za-z0-9_-]+)/g)].map((m) => m[1] as string);
  const assignments = new Map<string, string[]>();
  for (const w of flow.states.filter((s) => s.type === 'set-variables')) {
    for (const { key, value } of keyValues(w.properties.variables)) assignments.set(key, [...(assignments.get(key) ?? []), value]);
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (text: string) => {
    for (const a of answers(text)) names.add(a);
    for (const v of variables(text)) {
      if (seen.has(v)) continue;
      seen.add(v);
      for (const value of assignments.get(v) ?? []) visit(value);
    }
  };
  for (const { value } of keyValues(functionWidget(flow, 'encrypt')?.properties.parameters)) visit(value);
  return names;
}
