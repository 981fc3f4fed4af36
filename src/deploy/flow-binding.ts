// A flow's Run Function (and TwiML Redirect) widgets bound to one deployment, and back.
//
// In git a flow is account-neutral: its Run Function widgets name this
// project's Functions with placeholder SIDs (ZS…, ZE…, ZH…) and a placeholder
// domain. deploy binds them to the service it deployed (service, environment
// and function SIDs, URL); `flow pull` turns a deployed definition back into
// placeholders. Everything else in the definition is left byte for byte as it
// was (the raw JSON is edited, not a parsed model that might drop keys).

import { urlPath } from '../flow/definition.js';

export const PLACEHOLDER_SERVICE_SID = `ZS${'0'.repeat(32)}`;
export const PLACEHOLDER_ENVIRONMENT_SID = `ZE${'0'.repeat(32)}`;
export const PLACEHOLDER_DOMAIN = 'sealed-survey-0000-dev.twil.io';
/** Placeholder function SIDs by Function path: ZH…0001 for /encrypt, ZH…0002 for /publish, then in path order. */
const KNOWN_PATHS = ['/encrypt', '/publish'];

export function placeholderFunctionSid(path: string, allPaths: readonly string[]): string {
  const order = [...KNOWN_PATHS, ...[...allPaths].filter((p) => !KNOWN_PATHS.includes(p)).sort()];
  const n = order.indexOf(path) + 1;
  return `ZH${String(n > 0 ? n : order.length + 1).padStart(32, '0')}`;
}

/** What deploy produced: the SIDs and domain a flow's widgets must name. */
export interface Deployment {
  readonly serviceSid: string;
  readonly environmentSid: string;
  /** e.g. sealed-survey-1234-dev.twil.io */
  readonly domainName: string;
  /** Function SID by path ("/encrypt"). */
  readonly functions: ReadonlyMap<string, string>;
}

export interface WidgetChange {
  readonly widget: string;
  readonly property: 'service_sid' | 'environment_sid' | 'function_sid' | 'url';
  readonly from: string;
  readonly to: string;
}

type Json = Record<string, unknown>;

function runFunctionWidgets(definition: Json): Array<{ name: string; properties: Json }> {
  const states = Array.isArray(definition.states) ? (definition.states as unknown[]) : [];
  return states.flatMap((s) => {
    const w = s as Json;
    return w && w.type === 'run-function' && w.properties && typeof w.properties === 'object' ? [{ name: String(w.name), properties: w.properties as Json }] : [];
  });
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** Whether a widget calls one of ours: a placeholder, this deployment's service, or the placeholder/deployed domain. */
function isOurs(p: Json, ours: { serviceSids: readonly string[]; domains: readonly string[] }): boolean {
  if (ours.serviceSids.includes(text(p.service_sid))) return true;
  try {
    return ours.domains.includes(new URL(text(p.url)).host);
  } catch {
    return false;
  }
}

function apply(p: Json, widget: string, next: Record<WidgetChange['property'], string>, changes: WidgetChange[]): void {
  for (const property of ['service_sid', 'environment_sid', 'function_sid', 'url'] as const) {
    const from = text(p[property]);
    if (from !== next[property]) {
      changes.push({ widget, property, from, to: next[property] });
      p[property] = next[property];
    }
  }
}

export interface Bound {
  /** A deep copy of the definition with our widgets bound. */
  readonly definition: Json;
  readonly changes: readonly WidgetChange[];
  /** Widgets that call one of ours at a path the deployment has no Function for. */
  readonly unknownPaths: ReadonlyArray<{ widget: string; path: string }>;
}

/** Binds the flow's Run Function widgets that call this project's Functions to the deployment. */
export function bindFlow(definition: Json, deployment: Deployment): Bound {
  const copy = structuredClone(definition);
  const changes: WidgetChange[] = [];
  const unknownPaths: Array<{ widget: string; path: string }> = [];
  const ours = { serviceSids: [PLACEHOLDER_SERVICE_SID, deployment.serviceSid], domains: [PLACEHOLDER_DOMAIN, deployment.domainName] };
  for (const { name, properties } of runFunctionWidgets(copy)) {
    if (!isOurs(properties, ours)) continue;
    const path = urlPath(text(properties.url));
    const functionSid = deployment.functions.get(path);
    if (!functionSid) {
      unknownPaths.push({ widget: name, path });
      continue;
    }
    apply(properties, name, { service_sid: deployment.serviceSid, environment_sid: deployment.environmentSid, function_sid: functionSid, url: `https://${deployment.domainName}${path}` }, changes);
  }
  rebaseRedirects(copy, ours.domains, deployment.domainName, changes);
  return { definition: copy, changes, unknownPaths };
}

/**
 * TwiML Redirect widgets to one of our Functions (the voice survey's
 * voice-gather) name no SIDs: only their URL's host changes; the path and
 * the query string, Liquid and all, stay as written.
 */
function rebaseRedirects(definition: Json, from: readonly string[], to: string, changes: WidgetChange[]): void {
  const states = Array.isArray(definition.states) ? (definition.states as unknown[]) : [];
  for (const s of states) {
    const w = s as Json;
    if (!w || w.type !== 'add-twiml-redirect' || !w.properties || typeof w.properties !== 'object') continue;
    const p = w.properties as Json;
    const url = text(p.url);
    const host = from.find((d) => url.startsWith(`https://${d}/`));
    if (host === undefined || host === to) continue;
    const next = `https://${to}${url.slice(`https://${host}`.length)}`;
    changes.push({ widget: String(w.name), property: 'url', from: url, to: next });
    p.url = next;
  }
}

/** The reverse, for `flow pull`: our widgets back to the repository's placeholders. */
export function unbindFlow(definition: Json, deployment: Deployment): Bound {
  const copy = structuredClone(definition);
  const changes: WidgetChange[] = [];
  const ours = { serviceSids: [deployment.serviceSid], domains: [deployment.domainName] };
  const paths = [...deployment.functions.keys()];
  for (const { name, properties } of runFunctionWidgets(copy)) {
    if (!isOurs(properties, ours)) continue;
    const path = urlPath(text(properties.url));
    apply(
      properties,
      name,
      { service_sid: PLACEHOLDER_SERVICE_SID, environment_sid: PLACEHOLDER_ENVIRONMENT_SID, function_sid: placeholderFunctionSid(path, paths), url: `https://${PLACEHOLDER_DOMAIN}${path}` },
      changes,
    );
  }
  rebaseRedirects(copy, ours.domains, PLACEHOLDER_DOMAIN, changes);
  return { definition: copy, changes, unknownPaths: [] };
}
