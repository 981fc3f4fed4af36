// What is checked before the first send, every problem listed at once: the
// flow exists and is published; every flow.data value it reads is sent; its
// REST opener is a content template (WhatsApp); the sender's incoming
// messages reach this flow; no tracker would be launched over. --force passes
// only the checks that cannot be made here (a sender this account's API does
// not list, e.g. one registered through WhatsApp Senders).

import type TwilioSdk from 'twilio';
import { parseFlow, type FlowDefinition } from '../flow/definition.js';
import { liquidReferences } from '../flow/lint.js';
import { surveyCheckId, surveyChecks } from '../flow/survey-checks.js';
import { flowWebhook, senderOwner } from '../deploy/webhook.js';
import { maskNumber } from './numbers.js';

export interface LaunchFlow {
  readonly sid: string;
  readonly name: string;
  readonly definition: FlowDefinition;
}

export interface CheckInput {
  readonly flowRef: string;
  /** E.164, without whatsapp:. */
  readonly sender: string;
  readonly whatsapp: boolean;
  /** The flow.data names each execution is given. */
  readonly sent: readonly string[];
  readonly accountSid: string;
  readonly force: boolean;
}

export interface CheckResult {
  readonly flow: LaunchFlow | undefined;
  readonly problems: string[];
  readonly warnings: string[];
}

/** Every flow.data.<name> a widget (properties or split conditions) reads. */
export function flowDataReads(flow: FlowDefinition): Map<string, string> {
  const reads = new Map<string, string>();
  const walk = (value: unknown, widget: string) => {
    if (typeof value === 'string') {
      const refs = liquidReferences(value);
      if ('paths' in refs) for (const p of refs.paths) if (p[0] === 'flow' && p[1] === 'data' && p[2] !== undefined && !reads.has(p[2])) reads.set(p[2], widget);
    } else if (Array.isArray(value)) value.forEach((v) => walk(v, widget));
    else if (value && typeof value === 'object') Object.values(value).forEach((v) => walk(v, widget));
  };
  for (const w of flow.states) walk([w.properties, w.transitions], w.name);
  return reads;
}

/** A flow by name (as deployed) or FW… SID; undefined when this account has none. */
export async function findFlow(twilio: TwilioSdk.Twilio, ref: string) {
  if (/^FW[0-9a-fA-F]{32}$/.test(ref)) {
    try {
      return await twilio.studio.v2.flows(ref).fetch();
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }
  return (await twilio.studio.v2.flows.list()).find((f) => f.friendlyName === ref);
}

export async function launchChecks(twilio: TwilioSdk.Twilio, input: CheckInput): Promise<CheckResult> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const found = await findFlow(twilio, input.flowRef);
  if (!found) return { flow: undefined, problems: [`no flow ${input.flowRef} in this account: give its name as deployed (the file name without .json) or its FW… SID`], warnings };
  const flow: LaunchFlow = { sid: found.sid, name: found.friendlyName, definition: parseFlow(JSON.stringify(found.definition), found.friendlyName) };
  if (found.status !== 'published') problems.push(`flow ${flow.name} (${flow.sid}) is a draft: executions run its last published revision, if any; publish it (sealed-survey deploy)`);

  const sent = new Set(input.sent);
  for (const [name, widget] of flowDataReads(flow.definition)) {
    if (sent.has(name)) continue;
    const like = input.sent.find((s) => s.toLowerCase() === name.toLowerCase());
    problems.push(
      like !== undefined
        ? `the flow reads flow.data.${name} (widget ${widget}) but "${like}" is sent: names are case-sensitive, so it would render empty ("Hi ,"); rename the column to "${name}"`
        : `the flow reads flow.data.${name} (widget ${widget}), which is not sent: add a "${name}" column to --param-columns${name === 'content_sid' ? ' or give --content-sid HX…' : ''}`,
    );
  }
  const reads = flowDataReads(flow.definition);
  const unread = input.sent.filter((s) => !reads.has(s));
  if (unread.length > 0) warnings.push(`the flow does not read flow.data.${unread.join(', flow.data.')}: it is sent to Twilio for nothing (Studio keeps it in the execution log)`);

  for (const f of surveyChecks(flow.definition, flow.name)) {
    const id = surveyCheckId(f);
    if ((id === 'rest-opener-not-template' || id === 'rest-not-routed') && (f.severity === 'error' || input.whatsapp)) problems.push(`widget ${f.widget}: ${f.message.replace(/^\[[a-z-]+\] /, '')}`);
  }

  const masked = maskNumber(input.sender);
  const webhook = await senderOwner(twilio, input.sender);
  const target = flowWebhook(input.accountSid, flow.sid);
  if (!webhook) {
    const message = `sender ${masked} is not a phone number or Messaging Service number this account lists, so where its replies go cannot be checked: check --from; for a WhatsApp sender registered in the Console (Messaging → Senders), check that its webhook is ${target}`;
    if (input.force) warnings.push(message);
    else problems.push(`${message}, then add --force`);
  } else if (webhook.url !== target) {
    problems.push(`replies to sender ${masked} go to ${webhook.url ?? 'nowhere'}, not to flow ${flow.name}: answers would never reach the survey; run \`sealed-survey deploy --number <sender>\` to point it at the flow`);
  }
  return { flow, problems, warnings };
}
