// `flow pull`: a deployed flow back into the repository, account-neutral.
// This project's Run Function widgets go back to their placeholders; a
// definition that carries a credential is refused unless the operator says
// otherwise, since the file is meant for git.

import type TwilioSdk from 'twilio';
import type { Deployment } from './flow-binding.js';
import { unbindFlow } from './flow-binding.js';
import { findCredentials, type CredentialHit } from '../flow/credentials.js';

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
