// Where each respondent stands, from the tracker, the messages Twilio logged
// and (when known) the execution's state. Pure: numbers come in only to join
// messages to caseids and never leave in what this returns.

import type { TrackerRow } from './tracker.js';

export interface MessageRecord {
  readonly direction: string;
  /** E.164, the channel prefix removed. */
  readonly from: string;
  readonly to: string;
  readonly status: string;
  readonly errorCode: number | null;
  /** Milliseconds since the epoch, undefined when Twilio has not sent it yet. */
  readonly dateSent: number | undefined;
}

/** The states, from the worst to the best, in the order the summary lists them. */
export const STATES = ['not launched', 'failed', 'launched', 'sent', 'delivered', 'read', 'answered back', 'unsolicited'] as const;
export type CaseState = (typeof STATES)[number];

export interface CaseStatus {
  readonly caseid: string;
  readonly state: CaseState;
  /** The opener's (latest outbound) Twilio status, '' when none was seen. */
  readonly messageStatus: string;
  /** The error code behind `failed`, or the latest on an outbound message. */
  readonly errorCode: number | null;
  /** launch's own error, for a contact it could not launch. */
  readonly launchError: string;
  /** Messages the respondent sent after the opener (or any, when unsolicited). */
  readonly replies: number;
  /** Replies that Twilio could not hand to the flow (an error code on an inbound message: usually 11200). */
  readonly lostReplies: number;
  readonly lostReplyCodes: readonly number[];
  /** active / ended from Studio, '' when unknown. */
  readonly executionStatus: string;
  /** The latest message either way, ms since the epoch. */
  readonly lastActivity: number | undefined;
}

export interface Summary {
  readonly cases: readonly CaseStatus[];
  readonly counts: Readonly<Record<CaseState, number>>;
  /** Error codes with the respondents they touched, outbound and inbound apart. */
  readonly errors: ReadonlyArray<{ readonly code: number; readonly inbound: boolean; readonly cases: number }>;
  readonly lostReplies: number;
  /** Inbound messages from numbers the contact list does not have. */
  readonly fromUnknownNumbers: number;
  readonly executions: { readonly active: number; readonly ended: number; readonly unknown: number };
}

/** Clocks differ: a message this much before the tracker's sent_at still belongs to the launch. */
const CLOCK_MARGIN_MS = 5 * 60_000;

/** Outbound statuses by how far the message got. */
const PROGRESS: Readonly<Record<string, number>> = { accepted: 1, scheduled: 1, queued: 1, sending: 1, sent: 2, delivered: 3, read: 4 };
const FAILED = new Set(['failed', 'undelivered', 'canceled']);

const isInbound = (m: MessageRecord) => m.direction === 'inbound';

interface Gathered {
  outbound: MessageRecord[];
  inbound: MessageRecord[];
}

export function summarize(tracker: readonly TrackerRow[], caseOf: ReadonlyMap<string, string>, messages: Iterable<MessageRecord>, executionStatus: ReadonlyMap<string, string>): Summary {
  const byCase = new Map<string, Gathered>();
  let fromUnknownNumbers = 0;
  for (const m of messages) {
    const caseid = caseOf.get(isInbound(m) ? m.from : m.to);
    if (caseid === undefined) {
      if (isInbound(m)) fromUnknownNumbers += 1;
      continue;
    }
    let g = byCase.get(caseid);
    if (!g) byCase.set(caseid, (g = { outbound: [], inbound: [] }));
    (isInbound(m) ? g.inbound : g.outbound).push(m);
  }

  const cases = tracker.map((row) => caseStatus(row, byCase.get(row.caseid) ?? { outbound: [], inbound: [] }, executionStatus.get(row.executionSid) ?? ''));
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<CaseState, number>;
  const errors = new Map<string, { code: number; inbound: boolean; cases: number }>();
  const countError = (code: number, inbound: boolean) => {
    const key = `${code}/${inbound}`;
    const e = errors.get(key) ?? { code, inbound, cases: 0 };
    e.cases += 1;
    errors.set(key, e);
  };
  const executions = { active: 0, ended: 0, unknown: 0 };
  cases.forEach((c, i) => {
    counts[c.state] += 1;
    if (c.errorCode !== null) countError(c.errorCode, false);
    for (const code of new Set(c.lostReplyCodes)) countError(code, true);
    if (c.executionStatus === 'active') executions.active += 1;
    else if (c.executionStatus === 'ended') executions.ended += 1;
    else if ((tracker[i] as TrackerRow).executionSid !== '') executions.unknown += 1;
  });
  return {
    cases,
    counts,
    errors: [...errors.values()].sort((a, b) => b.cases - a.cases || a.code - b.code),
    lostReplies: cases.reduce((n, c) => n + c.lostReplies, 0),
    fromUnknownNumbers,
    executions,
  };
}

function caseStatus(row: TrackerRow, g: Gathered, executionStatus: string): CaseStatus {
  const launched = row.executionSid !== '';
  const from = row.sentAt === undefined ? -Infinity : row.sentAt - CLOCK_MARGIN_MS;
  const after = (m: MessageRecord) => (m.dateSent ?? Infinity) >= from;
  const outbound = launched ? g.outbound.filter(after) : [];
  const replies = launched ? g.inbound.filter(after) : g.inbound;
  const lost = replies.filter((m) => m.errorCode !== null);
  const latest = [...outbound].sort((a, b) => (a.dateSent ?? Infinity) - (b.dateSent ?? Infinity)).at(-1);
  const furthest = Math.max(0, ...outbound.map((m) => PROGRESS[m.status] ?? 0));
  const failedOne = [...outbound].reverse().find((m) => FAILED.has(m.status));
  const outboundError = [...outbound].reverse().find((m) => m.errorCode !== null)?.errorCode ?? null;

  let state: CaseState;
  if (!launched) state = replies.length > 0 ? 'unsolicited' : row.error !== '' || /fail/i.test(row.status) ? 'failed' : 'not launched';
  else if (replies.length > 0) state = 'answered back';
  else if (furthest >= 4) state = 'read';
  else if (furthest === 3) state = 'delivered';
  else if (failedOne) state = 'failed';
  else if (furthest >= 1) state = 'sent';
  else state = 'launched';

  const times = [...outbound, ...replies].map((m) => m.dateSent).filter((t): t is number => t !== undefined);
  return {
    caseid: row.caseid,
    state,
    messageStatus: latest?.status ?? '',
    errorCode: state === 'failed' ? (failedOne?.errorCode ?? null) : outboundError,
    launchError: launched ? '' : row.error,
    replies: replies.length,
    lostReplies: lost.length,
    lostReplyCodes: lost.map((m) => m.errorCode as number),
    executionStatus,
    lastActivity: times.length > 0 ? Math.max(...times) : undefined,
  };
}
