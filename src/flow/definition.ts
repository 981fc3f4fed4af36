// A Studio flow definition, as Studio exports it ("Export to JSON") and the
// Flows API stores it: states (widgets) with typed properties and transitions.
// Shared by the runner (`simulate`) and the linter (`lint`).

import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Condition = z.object({
  friendly_name: z.string().optional(),
  arguments: z.array(z.string()),
  type: z.string(),
  value: z.string(),
});

const Transition = z.object({
  event: z.string(),
  next: z.string().optional(),
  conditions: z.array(Condition).optional(),
});

const Widget = z.object({
  name: z.string().min(1),
  type: z.string().min(1),
  transitions: z.array(Transition),
  properties: z.record(z.string(), z.unknown()),
});

const Definition = z.object({
  description: z.string().optional(),
  states: z.array(Widget).min(1),
  initial_state: z.string(),
  flags: z.record(z.string(), z.unknown()).optional(),
});

export type Condition = z.infer<typeof Condition>;
export type Transition = z.infer<typeof Transition>;
export type Widget = z.infer<typeof Widget>;
export type FlowDefinition = z.infer<typeof Definition>;

export class FlowError extends Error {
  override readonly name = 'FlowError';
}

/** Parses a definition; messages name the file and the path inside it. */
export function parseFlow(text: string, source: string): FlowDefinition {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FlowError(`${source} is not JSON: export the flow from Studio (Flow → Export to JSON) or fetch its definition with the Flows API`);
  }
  // `twilio api:studio:v2:flows:fetch -o json` prints an array of one flow.
  if (Array.isArray(json)) {
    if (json.length !== 1) throw new FlowError(`${source} is a list of ${json.length} flows: give one flow (fetch it by SID with twilio api:studio:v2:flows:fetch --sid FW… -o json, or export it from Studio)`);
    json = json[0];
  }
  // The Flows API wraps the definition in the flow resource; accept both.
  const body = json && typeof json === 'object' && 'definition' in json ? (json as { definition: unknown }).definition : json;
  const parsed = Definition.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new FlowError(`${source} is not a Studio flow definition (${where ? `at ${where}: ` : ''}${issue?.message ?? 'invalid'})`);
  }
  const names = new Set<string>();
  for (const w of parsed.data.states) {
    if (names.has(w.name)) throw new FlowError(`${source}: two widgets are named "${w.name}"; Studio requires unique names`);
    names.add(w.name);
  }
  if (!names.has(parsed.data.initial_state)) throw new FlowError(`${source}: initial_state "${parsed.data.initial_state}" is not a widget of the flow`);
  return parsed.data;
}

export function readFlow(path: string): FlowDefinition {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new FlowError(`cannot read ${path}: give the path of a flow exported from Studio, e.g. flows/whatsapp-survey.json`);
  }
  return parseFlow(text, path);
}

export function widgetsByName(flow: FlowDefinition): Map<string, Widget> {
  return new Map(flow.states.map((w) => [w.name, w]));
}

/** The widget a transition event leads to, if any. */
export function nextOf(widget: Widget, event: string): string | undefined {
  return widget.transitions.find((t) => t.event === event)?.next || undefined;
}

/** The flow takes calls and no messages (its Trigger routes incomingCall, not incomingMessage nor incomingConversationMessage): a voice survey. */
export function takesOnlyCalls(flow: FlowDefinition): boolean {
  const trigger = flow.states.find((w) => w.type === 'trigger');
  return trigger !== undefined && nextOf(trigger, 'incomingCall') !== undefined && !nextOf(trigger, 'incomingMessage') && !nextOf(trigger, 'incomingConversationMessage');
}

/** The path of a Run Function or HTTP URL (a deployed Function is found locally by it). */
export function urlPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.startsWith('/') ? url : `/${url}`;
  }
}

/** A key/value list as Studio writes it (Run Function parameters, Set Variables, HTTP parameters). */
export function keyValues(value: unknown): Array<{ key: string; value: string }> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((p) =>
    p && typeof p === 'object' && typeof (p as { key?: unknown }).key === 'string' ? [{ key: (p as { key: string }).key, value: String((p as { value?: unknown }).value ?? '') }] : [],
  );
}

/** Every string property of a widget with its path ("body", "parameters[2].value"), for rendering and linting. */
export function stringProperties(widget: Widget): Array<{ path: string; value: string }> {
  const out: Array<{ path: string; value: string }> = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') out.push({ path, value });
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (k !== 'offset') walk(v, path ? `${path}.${k}` : k);
  };
  walk(widget.properties, '');
  return out;
}
