// The widget an execution stopped at, from its Steps: each Step is one
// transition (transitioned_from → transitioned_to), so the last one names the
// widget the execution reached, or, when it went to "Ended", the widget it
// ended from. Steps carry the execution's context (answers among it): only
// the widget names and times are kept, the rest is dropped at once.

import type TwilioSdk from 'twilio';

export interface Transition {
  readonly from: string;
  readonly to: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** Studio's name for the end of a flow in transitioned_to. */
const ENDED = 'Ended';

/**
 * The widget of the last transition. Steps made in the same second (Studio's
 * timestamps have no milliseconds) are ordered by the chain itself: the last
 * is the one whose target no other of them leaves from.
 */
export function lastWidget(steps: readonly Transition[]): string | undefined {
  if (steps.length === 0) return undefined;
  const latest = Math.max(...steps.map((s) => s.at));
  const tied = steps.filter((s) => s.at === latest);
  const last = tied.find((s) => !tied.some((o) => o !== s && o.from === s.to)) ?? (tied.at(-1) as Transition);
  return last.to === ENDED || last.to === '' ? last.from || undefined : last.to;
}

export async function endedAtWidget(twilio: TwilioSdk.Twilio, flowSid: string, executionSid: string): Promise<string | undefined> {
  const steps = await twilio.studio.v2.flows(flowSid).executions(executionSid).steps.list({ pageSize: 1000 });
  return lastWidget(steps.map((s) => ({ from: s.transitionedFrom ?? '', to: s.transitionedTo ?? '', at: s.dateCreated instanceof Date ? s.dateCreated.getTime() : 0 })));
}
