// Studio v2 for the Twilio stand-in: Flows (create, update, fetch, list,
// delete), every revision kept with its definition and commit message, and
// Flow Validate. Bodies as twilio_studio_v2.json has them; as in its examples,
// a revision list leaves definition, valid and errors null (fetch a revision
// for them).
//
// Invalid definitions get Twilio's error 81022 ("Flow definition validation
// failed"), whose `details.errors` lists `{ message, property_path }` (the
// shape Studio deploy tools read): property_path points into the definition
// (#/states/3/transitions/0/next) and the message names the widget. The
// checks are the structural ones Studio documents for 81022 (schema, unique
// widget names, transitions to widgets that exist) plus Run Function SIDs.
//
// Executions (REST launches) follow Twilio's rules for them: at most 20 new
// Executions a second per account (a 1 s sliding window; beyond it 429, code
// 20429) and one active Execution per contact (409, code 20409). Nothing
// advances an execution here, so each stays active until ended through the
// API (Status=ended). setExecutionLimit() changes an account's rate, as
// Twilio raises it on request; the server's setFaults forces 429s.
//
// For reconcile and purge, tests seed executions as a round leaves them
// (addExecution: contact, sender, status, steps with their widgets, creation
// and end times). Each execution has its Context (flow.channel.address is the
// sender, flow.data the parameters, as Studio's Liquid context has them) and
// Steps with their own Context; DELETE removes an execution with its steps.

import { createHash } from 'node:crypto';
import {
  type ApiRequest,
  type Entry,
  invalid,
  iso,
  newSid,
  notFound,
  pageV1,
  required,
  type Route,
  TwilioError,
} from './http.js';

export type FlowStatus = 'draft' | 'published';

export interface ValidationFailure {
  readonly message: string;
  readonly property_path: string;
}

interface Revision {
  readonly revision: number;
  readonly friendlyName: string;
  readonly status: FlowStatus;
  readonly definition: unknown;
  readonly commitMessage: string | null;
  readonly errors: readonly ValidationFailure[];
  readonly authorSid: string;
  readonly created: string;
}

interface Flow {
  readonly sid: string;
  readonly seq: number;
  readonly created: string;
  readonly revisions: Revision[];
  readonly executions: Execution[];
}

interface Step {
  readonly sid: string;
  readonly seq: number;
  /** The event that caused the transition (Incoming Message, Audio Complete…). */
  readonly name: string;
  readonly transitionedFrom: string;
  readonly transitionedTo: string;
  readonly context: unknown;
  readonly created: string;
}

interface Execution {
  readonly sid: string;
  readonly seq: number;
  readonly to: string;
  readonly from: string;
  readonly parameters: unknown;
  readonly flowVersion: number;
  readonly created: string;
  status: 'active' | 'ended';
  updated: string | null;
  readonly context: unknown;
  readonly steps: Step[];
}

/** An execution as a round leaves it, for tests of reconcile and purge. */
export interface ExecutionSeed {
  readonly flowSid: string;
  /** The contact's address, e.g. whatsapp:+2547…. */
  readonly to: string;
  /** The sender's address (flow.channel.address). */
  readonly from: string;
  readonly status?: 'active' | 'ended';
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Transitions in order; `name` is the event, transitionedTo the widget reached ('Ended' when the flow ended). */
  readonly steps?: ReadonlyArray<{ readonly name?: string; readonly transitionedFrom: string; readonly transitionedTo: string; readonly context?: unknown }>;
  /** Answers the execution collected, kept in its Context under widgets (never to be printed). */
  readonly widgets?: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch; the stand-in's clock when unset. */
  readonly created?: number;
  /** When it ended (date_updated); `created` + 1 min for an ended execution when unset. */
  readonly ended?: number;
}

export interface ExecutionSnapshot {
  readonly sid: string;
  readonly to: string;
  readonly from: string;
  /** `Parameters` as sent, parsed (flow.data). */
  readonly parameters: unknown;
  readonly status: 'active' | 'ended';
}

export interface FlowSnapshot {
  readonly sid: string;
  readonly friendlyName: string;
  readonly status: FlowStatus;
  readonly webhookUrl: string;
  /** Oldest first. */
  readonly revisions: ReadonlyArray<{
    readonly revision: number;
    readonly friendlyName: string;
    readonly status: FlowStatus;
    readonly definition: unknown;
    readonly commitMessage: string | null;
    readonly valid: boolean;
    /** A User SID: one per credential for revisions made through the API, CONSOLE_USER_SID for Console edits. */
    readonly authorSid: string;
  }>;
  /** REST-launched executions, oldest first. */
  readonly executions: readonly ExecutionSnapshot[];
}

export interface StudioOptions {
  readonly accountSid: string;
  readonly clock: () => number;
  readonly seq: () => number;
}

export interface Studio {
  readonly routes: readonly Route[];
  snapshot(): FlowSnapshot[];
  /** Seeds an execution with its context and steps; returns its SID. */
  addExecution(seed: ExecutionSeed): string;
  /** A revision made by someone in the Console (a user as author, no commit message unless given). */
  consoleEdit(flowSid: string, change: { definition?: unknown; status?: FlowStatus; commitMessage?: string | null }): void;
}

const STATUSES: readonly string[] = ['draft', 'published'];

/** Twilio's limit on new REST-triggered Executions per account. */
export const EXECUTIONS_PER_SECOND = 20;
const executionLimits = new Map<string, number>();

/** New Executions a second this account may create in every stand-in (Twilio raises the limit per account on request); undefined restores 20. */
export function setExecutionLimit(accountSid: string, perSecond: number | undefined): void {
  if (perSecond === undefined) executionLimits.delete(accountSid);
  else if (!(perSecond > 0)) throw new RangeError('setExecutionLimit: perSecond must be > 0');
  else executionLimits.set(accountSid, perSecond);
}
const RUN_FUNCTION_SIDS = { service_sid: 'ZS', environment_sid: 'ZE', function_sid: 'ZH' } as const;

/**
 * Studio's author_sid is a User SID (US…). Revisions made through the API are
 * given one User per credential (account or API key), Console edits another.
 */
const userSid = (who: string) => `US${createHash('sha256').update(who).digest('hex').slice(0, 32)}`;
export const CONSOLE_USER_SID = userSid('console');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Everything wrong with a flow definition, as Studio reports it in 81022's details. */
export function validateDefinition(definition: unknown): ValidationFailure[] {
  const failures: ValidationFailure[] = [];
  const fail = (property_path: string, message: string) => failures.push({ message, property_path });
  if (!isObject(definition)) {
    fail('#', 'The definition must be a JSON object with states, initial_state and flags');
    return failures;
  }
  if (typeof definition.initial_state !== 'string') fail('#/initial_state', 'initial_state is required: the name of the Trigger widget');
  if (!isObject(definition.flags)) fail('#/flags', 'flags is required: an object (e.g. {"allow_concurrent_calls": true})');
  if (!Array.isArray(definition.states)) {
    fail('#/states', 'states is required: the list of widgets');
    return failures;
  }
  const states = definition.states as unknown[];
  const names = states.map((s) => (isObject(s) && typeof s.name === 'string' ? s.name : undefined));
  states.forEach((state, i) => {
    const at = `#/states/${i}`;
    if (!isObject(state)) {
      fail(at, `Widget ${i} must be an object`);
      return;
    }
    const name = names[i];
    const widget = name === undefined ? `Widget ${i}` : `Widget "${name}"`;
    if (name === undefined || name === '') fail(`${at}/name`, `${widget} has no name`);
    else if (names.indexOf(name) !== i) fail(`${at}/name`, `${widget}: widget names must be unique`);
    if (typeof state.type !== 'string') fail(`${at}/type`, `${widget} has no type`);
    if (!isObject(state.properties)) fail(`${at}/properties`, `${widget} has no properties object`);
    if (!Array.isArray(state.transitions)) {
      fail(`${at}/transitions`, `${widget} has no transitions list`);
    } else {
      state.transitions.forEach((t: unknown, j: number) => {
        if (!isObject(t) || typeof t.event !== 'string') {
          fail(`${at}/transitions/${j}`, `${widget}: transition ${j} has no event`);
          return;
        }
        if (t.next !== undefined && (typeof t.next !== 'string' || !names.includes(t.next))) {
          fail(`${at}/transitions/${j}/next`, `${widget}: the ${t.event} transition goes to "${String(t.next)}", which is not a widget of this flow`);
        }
      });
    }
    if (state.type === 'run-function' && isObject(state.properties)) {
      for (const [property, prefix] of Object.entries(RUN_FUNCTION_SIDS)) {
        const value = state.properties[property];
        if (value !== undefined && (typeof value !== 'string' || !new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(value))) {
          fail(`${at}/properties/${property}`, `${widget}: ${property} must be a SID starting with ${prefix}`);
        }
      }
      const url = state.properties.url;
      if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) fail(`${at}/properties/url`, `${widget}: url must be the Function's URL`);
    }
  });
  if (typeof definition.initial_state === 'string' && !names.includes(definition.initial_state)) {
    fail('#/initial_state', `initial_state "${definition.initial_state}" is not a widget of this flow`);
  }
  return failures;
}

const invalidFlow = (errors: readonly ValidationFailure[]) => new TwilioError(400, 81022, 'Invalid Flow Definition', { errors });

function parseDefinition(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidFlow([{ message: 'The definition is not valid JSON', property_path: '#' }]);
  }
}

function status(form: URLSearchParams): FlowStatus {
  const value = required(form, 'Status');
  if (!STATUSES.includes(value)) throw invalid('Status', 'must be draft or published');
  return value as FlowStatus;
}

export function createStudio(options: StudioOptions): Studio {
  const { accountSid, clock, seq } = options;
  const flows = new Map<string, Flow>();

  const latest = (f: Flow) => f.revisions.at(-1) as Revision;
  const webhookUrl = (f: Flow) => `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${f.sid}`;
  const flowUrl = (r: ApiRequest, f: Flow) => `${r.base}/v2/Flows/${f.sid}`;
  const flowBody = (r: ApiRequest, f: Flow) => {
    const rev = latest(f);
    const url = flowUrl(r, f);
    return {
      sid: f.sid,
      account_sid: accountSid,
      author_sid: rev.authorSid,
      friendly_name: rev.friendlyName,
      definition: rev.definition,
      status: rev.status,
      revision: rev.revision,
      commit_message: rev.commitMessage,
      valid: rev.errors.length === 0,
      errors: rev.errors,
      warnings: [],
      date_created: f.created,
      date_updated: f.revisions.length > 1 ? rev.created : null,
      webhook_url: webhookUrl(f),
      url,
      links: { test_users: `${url}/TestUsers`, revisions: `${url}/Revisions`, executions: `${url}/Executions` },
    };
  };
  const revisionBody = (r: ApiRequest, f: Flow, rev: Revision, full: boolean) => ({
    sid: f.sid,
    account_sid: accountSid,
    author_sid: rev.authorSid,
    friendly_name: rev.friendlyName,
    definition: full ? rev.definition : null,
    status: rev.status,
    revision: rev.revision,
    commit_message: rev.commitMessage,
    valid: full ? rev.errors.length === 0 : null,
    errors: full ? rev.errors : null,
    date_created: rev.created,
    date_updated: rev.revision > 1 ? rev.created : null,
    url: `${flowUrl(r, f)}/Revisions/${rev.revision}`,
  });
  const findFlow = (r: ApiRequest, sid: string) => {
    const flow = flows.get(sid);
    if (!flow) throw notFound(r.path);
    return flow;
  };

  /** A new revision; a published one must be valid (a draft keeps its errors, as Studio's editor saves it). */
  const revise = (flow: Flow | undefined, change: Omit<Revision, 'revision' | 'created' | 'errors'>): Revision => {
    const errors = validateDefinition(change.definition);
    if (change.status === 'published' && errors.length > 0) throw invalidFlow(errors);
    return { ...change, errors, revision: (flow?.revisions.length ?? 0) + 1, created: iso(clock()) };
  };

  const executionBody = (r: ApiRequest, f: Flow, e: Execution) => {
    const url = `${flowUrl(r, f)}/Executions/${e.sid}`;
    return {
      sid: e.sid,
      account_sid: accountSid,
      flow_sid: f.sid,
      contact_channel_address: e.to,
      contact_sid: `FC${e.sid.slice(2)}`,
      flow_version: e.flowVersion,
      context: {},
      status: e.status,
      date_created: e.created,
      date_updated: e.updated,
      initiated_by: `RQ${e.sid.slice(2)}`,
      url,
      links: { steps: `${url}/Steps`, execution_context: `${url}/Context` },
    };
  };
  const findExecution = (r: ApiRequest, f: Flow, sid: string) => {
    const execution = f.executions.find((e) => e.sid === sid);
    if (!execution) throw notFound(r.path);
    return execution;
  };
  const stepUrl = (r: ApiRequest, f: Flow, e: Execution, step: Step) => `${flowUrl(r, f)}/Executions/${e.sid}/Steps/${step.sid}`;
  const stepBody = (r: ApiRequest, f: Flow, e: Execution, step: Step) => ({
    sid: step.sid,
    account_sid: accountSid,
    flow_sid: f.sid,
    execution_sid: e.sid,
    parent_step_sid: null,
    name: step.name,
    context: step.context,
    transitioned_from: step.transitionedFrom,
    transitioned_to: step.transitionedTo,
    type: null,
    date_created: step.created,
    date_updated: null,
    url: stepUrl(r, f, e, step),
    links: { step_context: `${stepUrl(r, f, e, step)}/Context` },
  });
  const findStep = (r: ApiRequest, e: Execution, sid: string) => {
    const step = e.steps.find((x) => x.sid === sid);
    if (!step) throw notFound(r.path);
    return step;
  };
  /** The Liquid context Studio keeps for an execution: flow (sender, data) and the widgets' results. */
  const executionContext = (flowSid: string, sid: string, from: string, parameters: unknown, widgets: unknown = {}) => ({
    flow: { flow_sid: flowSid, sid, channel: { address: from }, data: parameters, variables: {} },
    widgets,
  });
  /** Creation times (clock ms) within the last second, for the account's rate limit. */
  let recentCreates: number[] = [];
  const throttle = () => {
    const now = clock();
    recentCreates = recentCreates.filter((t) => now - t < 1000);
    if (recentCreates.length >= (executionLimits.get(accountSid) ?? EXECUTIONS_PER_SECOND)) throw new TwilioError(429, 20429, 'Too Many Requests: too many new Executions a second for this account');
    recentCreates.push(now);
  };
  const activeFor = (to: string) => [...flows.values()].some((f) => f.executions.some((e) => e.status === 'active' && e.to === to));

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/v2/Flows',
      handle: (r) => ({ status: 200, body: pageV1('flows', [...flows.values()].map((f): Entry => ({ seq: f.seq, body: flowBody(r, f) })), r) }),
    },
    {
      method: 'POST',
      pattern: '/v2/Flows',
      handle: (r) => {
        const friendlyName = required(r.form, 'FriendlyName');
        const flowStatus = status(r.form);
        const definition = parseDefinition(required(r.form, 'Definition'));
        const revision = revise(undefined, { friendlyName, status: flowStatus, definition, commitMessage: r.form.get('CommitMessage'), authorSid: userSid(r.principal) });
        const flow: Flow = { sid: newSid('FW'), seq: seq(), created: revision.created, revisions: [revision], executions: [] };
        flows.set(flow.sid, flow);
        return { status: 201, body: flowBody(r, flow) };
      },
    },
    {
      method: 'POST',
      pattern: '/v2/Flows/Validate',
      handle: (r) => {
        required(r.form, 'FriendlyName');
        status(r.form);
        const errors = validateDefinition(parseDefinition(required(r.form, 'Definition')));
        if (errors.length > 0) throw invalidFlow(errors);
        return { status: 200, body: { valid: true } };
      },
    },
    { method: 'GET', pattern: '/v2/Flows/:Sid', handle: (r, p) => ({ status: 200, body: flowBody(r, findFlow(r, p.Sid as string)) }) },
    {
      method: 'POST',
      pattern: '/v2/Flows/:Sid',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const before = latest(flow);
        const definitionText = r.form.get('Definition');
        const revision = revise(flow, {
          friendlyName: r.form.get('FriendlyName') ?? before.friendlyName,
          status: status(r.form),
          definition: definitionText === null ? before.definition : parseDefinition(definitionText),
          commitMessage: r.form.get('CommitMessage'),
          authorSid: userSid(r.principal),
        });
        flow.revisions.push(revision);
        return { status: 200, body: flowBody(r, flow) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/v2/Flows/:Sid',
      handle: (r, p) => {
        flows.delete(findFlow(r, p.Sid as string).sid);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Revisions',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        // Newest first: a page token orders by seq, so the newest revision gets the smallest.
        const entries = flow.revisions.map((rev): Entry => ({ seq: 1_000_000 - rev.revision, body: revisionBody(r, flow, rev, false) }));
        return { status: 200, body: pageV1('revisions', entries, r) };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Revisions/:Revision',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const wanted = p.Revision as string;
        const rev =
          wanted === 'LatestRevision'
            ? latest(flow)
            : wanted === 'LatestPublished'
              ? flow.revisions.findLast((x) => x.status === 'published')
              : /^[1-9]\d{0,5}$/.test(wanted)
                ? flow.revisions[Number(wanted) - 1]
                : undefined;
        if (!rev) throw notFound(r.path);
        return { status: 200, body: revisionBody(r, flow, rev, true) };
      },
    },
    {
      method: 'POST',
      pattern: '/v2/Flows/:Sid/Executions',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const to = required(r.form, 'To');
        const from = required(r.form, 'From');
        const text = r.form.get('Parameters');
        let parameters: unknown = {};
        if (text !== null) {
          try {
            parameters = JSON.parse(text);
          } catch {
            throw invalid('Parameters', 'must be JSON');
          }
          if (!isObject(parameters)) throw invalid('Parameters', 'must be a JSON object');
        }
        const published = flow.revisions.findLast((x) => x.status === 'published');
        if (!published) throw new TwilioError(400, 20001, 'The Flow has no published revision to execute');
        if (activeFor(to)) throw new TwilioError(409, 20409, `Execution already active for contact ${to.slice(-4).padStart(to.length, '•')}: end it before starting another`);
        throttle();
        const sid = newSid('FN');
        const execution: Execution = { sid, seq: seq(), to, from, parameters, flowVersion: published.revision, created: iso(clock()), status: 'active', updated: null, context: executionContext(flow.sid, sid, from, parameters), steps: [] };
        flow.executions.push(execution);
        return { status: 201, body: executionBody(r, flow, execution) };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Executions',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const wanted = r.query.get('status');
        const from = r.query.get('DateCreatedFrom');
        const to = r.query.get('DateCreatedTo');
        const time = (v: string | null, name: string) => {
          if (v === null) return undefined;
          const t = Date.parse(v);
          if (Number.isNaN(t)) throw invalid(name, 'must be an ISO 8601 date-time');
          return t;
        };
        const after = time(from, 'DateCreatedFrom');
        const before = time(to, 'DateCreatedTo');
        const entries = flow.executions
          .filter((e) => (wanted === null || e.status === wanted) && (after === undefined || Date.parse(e.created) >= after) && (before === undefined || Date.parse(e.created) <= before))
          .map((e): Entry => ({ seq: e.seq, body: executionBody(r, flow, e) }));
        return { status: 200, body: pageV1('executions', entries, r) };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        return { status: 200, body: executionBody(r, flow, findExecution(r, flow, p.ExecutionSid as string)) };
      },
    },
    {
      method: 'POST',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const execution = findExecution(r, flow, p.ExecutionSid as string);
        if (required(r.form, 'Status') !== 'ended') throw invalid('Status', 'can only be ended');
        execution.status = 'ended';
        execution.updated = iso(clock());
        return { status: 200, body: executionBody(r, flow, execution) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const execution = findExecution(r, flow, p.ExecutionSid as string);
        // Its steps and their contexts go with it.
        flow.executions.splice(flow.executions.indexOf(execution), 1);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid/Context',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const execution = findExecution(r, flow, p.ExecutionSid as string);
        const url = `${flowUrl(r, flow)}/Executions/${execution.sid}/Context`;
        return { status: 200, body: { account_sid: accountSid, context: execution.context, flow_sid: flow.sid, execution_sid: execution.sid, url } };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid/Steps',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const execution = findExecution(r, flow, p.ExecutionSid as string);
        return { status: 200, body: pageV1('steps', execution.steps.map((step): Entry => ({ seq: step.seq, body: stepBody(r, flow, execution, step) })), r) };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid/Steps/:StepSid',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const execution = findExecution(r, flow, p.ExecutionSid as string);
        return { status: 200, body: stepBody(r, flow, execution, findStep(r, execution, p.StepSid as string)) };
      },
    },
    {
      method: 'GET',
      pattern: '/v2/Flows/:Sid/Executions/:ExecutionSid/Steps/:StepSid/Context',
      handle: (r, p) => {
        const flow = findFlow(r, p.Sid as string);
        const execution = findExecution(r, flow, p.ExecutionSid as string);
        const step = findStep(r, execution, p.StepSid as string);
        return { status: 200, body: { account_sid: accountSid, context: step.context, execution_sid: execution.sid, flow_sid: flow.sid, step_sid: step.sid, url: `${stepUrl(r, flow, execution, step)}/Context` } };
      },
    },
  ];

  return {
    routes,
    snapshot: () =>
      [...flows.values()].map((f) => ({
        sid: f.sid,
        friendlyName: latest(f).friendlyName,
        status: latest(f).status,
        webhookUrl: webhookUrl(f),
        revisions: f.revisions.map((rev) => ({
          revision: rev.revision,
          friendlyName: rev.friendlyName,
          status: rev.status,
          definition: structuredClone(rev.definition),
          commitMessage: rev.commitMessage,
          valid: rev.errors.length === 0,
          authorSid: rev.authorSid,
        })),
        executions: f.executions.map((e) => ({ sid: e.sid, to: e.to, from: e.from, parameters: structuredClone(e.parameters), status: e.status })),
      })),
    addExecution(seed) {
      const flow = flows.get(seed.flowSid);
      if (!flow) throw new Error(`no flow ${seed.flowSid} in the stand-in`);
      const published = flow.revisions.findLast((x) => x.status === 'published') ?? latest(flow);
      const created = seed.created ?? clock();
      const status = seed.status ?? 'ended';
      const ended = status === 'ended' ? (seed.ended ?? created + 60_000) : undefined;
      const sid = newSid('FN');
      const parameters = structuredClone(seed.parameters ?? {});
      const steps = (seed.steps ?? []).map((step, i, all): Step => ({
        sid: newSid('FT'),
        seq: seq(),
        name: step.name ?? (i === 0 ? 'Incoming Request' : 'Incoming Message'),
        transitionedFrom: step.transitionedFrom,
        transitionedTo: step.transitionedTo,
        context: structuredClone(step.context ?? {}),
        // Spread over the execution's life, the last at its end.
        created: iso(created + ((ended ?? clock()) - created) * ((i + 1) / all.length)),
      }));
      flow.executions.push({
        sid,
        seq: seq(),
        to: seed.to,
        from: seed.from,
        parameters,
        flowVersion: published.revision,
        created: iso(created),
        status,
        updated: ended === undefined ? null : iso(ended),
        context: executionContext(flow.sid, sid, seed.from, parameters, structuredClone(seed.widgets ?? {})),
        steps,
      });
      return sid;
    },
    consoleEdit(flowSid, change) {
      const flow = flows.get(flowSid);
      if (!flow) throw new Error(`no flow ${flowSid} in the stand-in`);
      const before = latest(flow);
      const definition = change.definition === undefined ? before.definition : structuredClone(change.definition);
      flow.revisions.push({
        friendlyName: before.friendlyName,
        status: change.status ?? before.status,
        definition,
        commitMessage: change.commitMessage ?? null,
        errors: validateDefinition(definition),
        authorSid: CONSOLE_USER_SID,
        revision: flow.revisions.length + 1,
        created: iso(clock()),
      });
    },
  };
}
