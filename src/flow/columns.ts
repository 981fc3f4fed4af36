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

/** Widgets whose typed answers the encrypt widget seals, by the Liquid references in its parameters. */
export function piiAnswerWidgets(flow: FlowDefinition): Set<string> {
  const w = functionWidget(flow, 'encrypt');
  const names = new Set<string>();
  for (const { value } of keyValues(w?.properties.parameters)) for (const m of value.matchAll(/widgets\.([A-Za-z0-9_-]+)\.inbound\.Body/g)) names.add(m[1] as string);
  return names;
}
