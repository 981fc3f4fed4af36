// `flow pull`: a deployed flow back into the repository, account-neutral.
// This project's Run Function widgets go back to their placeholders; a
// definition that carries a credential is refused unless the operator says
// otherwise, since the file is meant for git.

import type TwilioSdk from 'twilio';
import type { Deployment } from './flow-binding.js';
import { unbindFlow } from './flow-binding.js';

export interface CredentialHit {
  readonly widget: string;
  readonly property: string;
  readonly kind: string;
}

// An auth token or API secret: 32 hex or alphanumeric characters that are not the tail of a SID.
const SECRET = /(?<![A-Za-z0-9])[0-9a-f]{32}(?![A-Za-z0-9])|(?<![A-Z])SK[0-9a-fA-F]{32}[^A-Za-z0-9]{1,3}[A-Za-z0-9]{32}(?![A-Za-z0-9])/;
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

/** Strings in the definition that look like credentials, by widget and property: never their values. */
export function findCredentials(definition: Record<string, unknown>): CredentialHit[] {
  const hits: CredentialHit[] = [];
  const states = Array.isArray(definition.states) ? (definition.states as Array<Record<string, unknown>>) : [];
  for (const state of states) {
    const widget = String(state.name ?? '?');
    const walk = (value: unknown, path: string) => {
      if (typeof value === 'string') {
        if (URL_CREDENTIALS.test(value)) hits.push({ widget, property: path, kind: 'a user name and password in a URL' });
        else if (SECRET.test(value)) hits.push({ widget, property: path, kind: 'what looks like an auth token or API secret' });
      } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(state.properties, '');
  }
  return hits;
}

export interface Pulled {
  readonly sid: string;
  readonly friendlyName: string;
  readonly revision: number;
  readonly definition: Record<string, unknown>;
  readonly credentials: readonly CredentialHit[];
  readonly placeholders: number;
}

export class FlowNotFound extends Error {
  override readonly name = 'FlowNotFound';
}

/** Fetches a flow by SID (FW…) or friendly name and turns our widgets back into placeholders. */
export async function pullFlow(twilio: TwilioSdk.Twilio, nameOrSid: string, deployment: Deployment | undefined): Promise<Pulled> {
  const flows = await twilio.studio.v2.flows.list();
  const summary = flows.find((f) => f.sid === nameOrSid) ?? flows.find((f) => f.friendlyName === nameOrSid);
  if (!summary) {
    const names = flows.map((f) => `"${f.friendlyName}"`).slice(0, 10).join(', ');
    throw new FlowNotFound(`no flow of this account is called or has the SID "${nameOrSid}"${names ? `; there are: ${names}` : ''}`);
  }
  const flow = await twilio.studio.v2.flows(summary.sid).fetch();
  const raw = (typeof flow.definition === 'string' ? JSON.parse(flow.definition) : flow.definition) as Record<string, unknown>;
  const unbound = deployment ? unbindFlow(raw, deployment) : { definition: raw, changes: [] };
  return {
    sid: flow.sid,
    friendlyName: flow.friendlyName,
    revision: flow.revision,
    definition: unbound.definition,
    credentials: findCredentials(unbound.definition),
    placeholders: new Set(unbound.changes.map((c) => c.widget)).size,
  };
}
