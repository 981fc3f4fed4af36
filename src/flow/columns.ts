// What a flow's Run Function widgets say about the sheet: which fields the
// encrypt widget seals (the PII columns) and which columns publish writes.

import { keyValues, urlPath, type FlowDefinition, type Widget } from './definition.js';
import { EXECUTION_SID } from '../publish/row.js';
import { isEncryptWidget, liquidReferences } from './lint.js';

/** The Run Function widget calling the Function at `/<name>` (or named so); encrypt as the linter recognises it. */
export function functionWidget(flow: FlowDefinition, name: 'encrypt' | 'publish'): Widget | undefined {
  const matches = name === 'encrypt' ? isEncryptWidget : (w: Widget) => w.type === 'run-function' && (urlPath(typeof w.properties.url === 'string' ? w.properties.url : '').endsWith('/publish') || w.name === 'publish');
  return flow.states.find(matches);
}

/** The fields encrypt seals: the columns of the sheet that hold tokens (execution_sid binds them and is not sealed). */
export function sealedFields(flow: FlowDefinition): string[] {
  const w = functionWidget(flow, 'encrypt');
  return w ? keyValues(w.properties.parameters).map((p) => p.key).filter((k) => k !== EXECUTION_SID) : [];
}

/** The sheet's header for this flow: received_at, then publish's parameters in order. */
export function sheetHeader(flow: FlowDefinition): string[] {
  const w = functionWidget(flow, 'publish');
  const keys = w ? keyValues(w.properties.parameters).map((p) => p.key) : [];
  return ['received_at', ...keys.filter((k) => k !== 'received_at')];
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
  for (const { value } of keyValues(functionWidget(flow, 'encrypt')?.properties.parameters)) visit(value);
  return names;
}
