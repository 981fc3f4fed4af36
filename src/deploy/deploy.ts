// sealed-survey deploy: the Functions and assets (through
// @twilio-labs/serverless-api, as `twilio-run deploy` does), the Sync service
// of the queue, and the flows (bound to the deployed Functions, validated,
// published) — checked before anything is written, idempotent, and refusing
// to overwrite a flow someone edited in the Console.

import { createHash } from 'node:crypto';
import type TwilioSdk from 'twilio';
import type { TwilioServerlessApiClient } from '@twilio-labs/serverless-api';
import { bindFlow, type Deployment, type WidgetChange } from './flow-binding.js';
import { fingerprint, RUNTIME, type FlowInput, type Inputs } from './inputs.js';
import { checkContext, type Finding } from './preflight.js';

/** Written into every revision deploy makes; a latest revision without it was made by someone else. */
export const DEPLOY_MARKER = '[sealed-survey deploy]';
/** The deployed fingerprint, kept as a variable: equal → the Functions are up to date. */
export const FINGERPRINT_VARIABLE = 'SEALED_SURVEY_DEPLOYED';
/** The Sync service of the queue and the row claims, found by friendly name. */
export const SYNC_SERVICE_NAME = 'sealed-survey';

export interface DeployOptions {
  readonly serviceName: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  /** e.g. the git commit, for the flows' commit messages. */
  readonly revisionNote: string;
  readonly say: (line: string) => void;
}

export interface FlowOutcome {
  readonly friendlyName: string;
  readonly sid: string | undefined;
  readonly revision: number | undefined;
  readonly action: 'created' | 'updated' | 'unchanged' | 'would create' | 'would update';
  readonly changes: readonly WidgetChange[];
}

export interface DeployReport {
  readonly serviceSid: string | undefined;
  readonly environmentSid: string | undefined;
  readonly domainName: string | undefined;
  readonly functionUrls: readonly string[];
  readonly functions: 'deployed' | 'unchanged' | 'would deploy' | 'would not change';
  readonly variablesRemoved: readonly string[];
  readonly contextBytes: number;
  readonly syncServiceSid: string | undefined;
  readonly flows: readonly FlowOutcome[];
}

export class DeployRefused extends Error {
  override readonly name = 'DeployRefused';
  constructor(readonly findings: readonly Finding[]) {
    super(`${findings.length} problem${findings.length === 1 ? '' : 's'} to fix before deploying`);
  }
}

export interface Existing {
  readonly serviceSid: string | undefined;
  readonly environmentSid: string | undefined;
  readonly domainName: string | undefined;
  readonly variables: ReadonlyMap<string, string>;
  readonly functions: ReadonlyMap<string, string>;
}

/** What is deployed now, read only. */
export async function readExisting(twilio: TwilioSdk.Twilio, serviceName: string, envName: string): Promise<Existing> {
  const none: Existing = { serviceSid: undefined, environmentSid: undefined, domainName: undefined, variables: new Map(), functions: new Map() };
  const service = (await twilio.serverless.v1.services.list()).find((s) => s.uniqueName === serviceName);
  if (!service) return none;
  const environment = (await twilio.serverless.v1.services(service.sid).environments.list()).find((e) => e.domainSuffix === envName || e.uniqueName === `${envName}-environment`);
  if (!environment) return { ...none, serviceSid: service.sid };
  const variables = await twilio.serverless.v1.services(service.sid).environments(environment.sid).variables.list();
  const functions = new Map<string, string>();
  if (environment.buildSid) {
    const build = await twilio.serverless.v1.services(service.sid).builds(environment.buildSid).fetch();
    for (const v of (build.functionVersions ?? []) as Array<{ path?: string; function_sid?: string }>) if (v.path && v.function_sid) functions.set(v.path, v.function_sid);
  }
  return { serviceSid: service.sid, environmentSid: environment.sid, domainName: environment.domainName, variables: new Map(variables.map((v) => [v.key, v.value])), functions };
}

const DEPLOY_ATTEMPTS = 4;

/**
 * serverless-api retries its API calls but not an upload answered 429 (its
 * HTTP library cannot resend a stream), so a busy account fails a deploy
 * midway. Deploying again is safe: the service, environment and resources are
 * found again, and only new versions are uploaded.
 */
async function withRetries<T>(say: (line: string) => void, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const text = error instanceof Error ? error.message : '';
      const status = (error as { response?: { statusCode?: number }; status?: number }).response?.statusCode ?? (error as { status?: number }).status;
      const transient = status === 429 || (status !== undefined && status >= 500) || /Failed to upload|429|Too Many Requests/i.test(text);
      if (!transient || attempt >= DEPLOY_ATTEMPTS) throw error;
      const seconds = 2 ** attempt;
      say(`  Twilio is busy (${status ?? 'upload refused'}); deploying again in ${seconds} s (attempt ${attempt + 1} of ${DEPLOY_ATTEMPTS})`);
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
  }
}

/** The deployment as flows are bound to it; undefined when nothing is deployed yet. */
export function deploymentOf(existing: Existing): Deployment | undefined {
  if (!existing.serviceSid || !existing.environmentSid || !existing.domainName || existing.functions.size === 0) return undefined;
  return { serviceSid: existing.serviceSid, environmentSid: existing.environmentSid, domainName: existing.domainName, functions: existing.functions };
}

async function syncService(twilio: TwilioSdk.Twilio, dryRun: boolean): Promise<string | undefined> {
  const found = (await twilio.sync.v1.services.list()).find((s) => s.friendlyName === SYNC_SERVICE_NAME);
  if (found || dryRun) return found?.sid;
  return (await twilio.sync.v1.services.create({ friendlyName: SYNC_SERVICE_NAME })).sid;
}

/** JSON with sorted keys: the same definition hashes the same however it was serialized. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The definition's hash, written into the commit message: Studio may store a
 * definition in its own form, so "unchanged" is decided by what deploy sent.
 */
export function definitionHash(definition: unknown): string {
  return createHash('sha256').update(canonical(definition)).digest('hex').slice(0, 12);
}

/** The flow's latest revision (twilio-node 6.2 cannot list revisions: fetch "LatestRevision"). */
export async function latestRevision(twilio: TwilioSdk.Twilio, flowSid: string): Promise<{ revision: number; commitMessage: string | null } | undefined> {
  try {
    const r = await twilio.studio.v2.flows(flowSid).revisions('LatestRevision').fetch();
    return { revision: r.revision, commitMessage: r.commitMessage };
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}

/** Validates, then creates or updates one flow; never overwrites one last changed outside deploy unless forced. */
async function deployFlow(twilio: TwilioSdk.Twilio, flow: FlowInput, deployment: Deployment | undefined, options: DeployOptions): Promise<FlowOutcome> {
  const bound = deployment ? bindFlow(flow.raw, deployment) : { definition: flow.raw, changes: [], unknownPaths: [] };
  if (bound.unknownPaths.length > 0) {
    throw new DeployRefused(bound.unknownPaths.map((u) => ({ problem: `${flow.file}: widget ${u.widget} calls ${u.path}, which this deployment has no Function for`, fix: 'point it at /encrypt or /publish, or deploy the Function it needs' })));
  }
  const existing = (await twilio.studio.v2.flows.list()).find((f) => f.friendlyName === flow.friendlyName);
  const hash = definitionHash(bound.definition);
  const latest = existing ? await latestRevision(twilio, existing.sid) : undefined;
  if (existing && !options.force) {
    if (latest && !latest.commitMessage?.includes(DEPLOY_MARKER)) {
      throw new DeployRefused([
        {
          problem: `flow "${flow.friendlyName}" (${existing.sid}) was last changed outside sealed-survey deploy (revision ${latest.revision}${latest.commitMessage ? `, "${latest.commitMessage}"` : ''})`,
          fix: `run \`sealed-survey flow pull ${existing.sid}\` to bring the Console's changes into ${flow.file} and review them, or deploy with --force to overwrite them`,
        },
      ]);
    }
  }
  if (existing && existing.status === 'published' && latest?.commitMessage?.includes(`definition ${hash} ${DEPLOY_MARKER}`)) {
    return { friendlyName: flow.friendlyName, sid: existing.sid, revision: existing.revision, action: 'unchanged', changes: bound.changes };
  }
  if (options.dryRun) return { friendlyName: flow.friendlyName, sid: existing?.sid, revision: existing?.revision, action: existing ? 'would update' : 'would create', changes: bound.changes };
  const validation = await twilio.studio.v2.flowValidate.update({ friendlyName: flow.friendlyName, status: 'published', definition: bound.definition });
  if (!validation.valid) throw new DeployRefused([{ problem: `Studio found ${flow.file} invalid`, fix: 'open it in Studio\'s editor or run `sealed-survey lint` on it' }]);
  const commitMessage = `${options.revisionNote}, definition ${hash} ${DEPLOY_MARKER}`;
  const saved = existing
    ? await twilio.studio.v2.flows(existing.sid).update({ status: 'published', definition: bound.definition, commitMessage })
    : await twilio.studio.v2.flows.create({ friendlyName: flow.friendlyName, status: 'published', definition: bound.definition, commitMessage });
  return { friendlyName: flow.friendlyName, sid: saved.sid, revision: saved.revision, action: existing ? 'updated' : 'created', changes: bound.changes };
}

/**
 * Deploys. Local findings (inputs.findings) and the context size are checked
 * first; any finding stops the deploy before anything is written.
 */
export async function deploy(inputs: Inputs, twilio: TwilioSdk.Twilio, serverless: () => Promise<TwilioServerlessApiClient>, accountSid: string, options: DeployOptions): Promise<DeployReport> {
  const { say } = options;
  const existing = await readExisting(twilio, options.serviceName, inputs.envName);
  const domainGuess = existing.domainName ?? `${options.serviceName}-0000-${inputs.envName}.twil.io`;
  // Before anything is written: SIDs and the fingerprint are counted at their lengths.
  const sized = { ...inputs.variables, SYNC_SERVICE_SID: `IS${'0'.repeat(32)}`, [FINGERPRINT_VARIABLE]: '0'.repeat(24) };
  const context = checkContext(sized, { accountSid, domainName: domainGuess, includeCredentials: true });
  const findings = [...inputs.findings, ...context.findings];
  if (findings.length > 0) throw new DeployRefused(findings);
  say(`context: ${context.bytes} of 3072 bytes`);

  const syncSid = await syncService(twilio, options.dryRun);
  const variables = { ...inputs.variables, ...(syncSid ? { SYNC_SERVICE_SID: syncSid } : {}) };
  const print = fingerprint({ ...inputs, variables });
  const withPrint = { ...variables, [FINGERPRINT_VARIABLE]: print };

  const upToDate = existing.variables.get(FINGERPRINT_VARIABLE) === print && existing.functions.size > 0;
  const removed = [...existing.variables.keys()].filter((k) => !(k in withPrint));
  let deployment: Deployment | undefined;
  let functionsAction: DeployReport['functions'];
  if (upToDate) {
    functionsAction = options.dryRun ? 'would not change' : 'unchanged';
    deployment = deploymentOf(existing);
    say('Functions and assets: unchanged');
  } else if (options.dryRun) {
    functionsAction = 'would deploy';
    deployment = deploymentOf(existing);
  } else {
    const client = await serverless();
    client.on('status-update', (u: { message: string }) => say(`  ${u.message}`));
    const result = await withRetries(say, () => client.deployProject({
      username: '',
      password: '',
      serviceName: options.serviceName,
      ...(existing.serviceSid ? { serviceSid: existing.serviceSid } : {}),
      functionsEnv: inputs.envName,
      env: withPrint,
      pkgJson: { dependencies: { ...inputs.dependencies } },
      functions: inputs.functions.map((f) => ({ name: f.name, path: f.path, access: f.access, content: f.content })),
      assets: inputs.assets.map((a) => ({ name: a.name, path: a.path, access: a.access, content: a.content })),
      runtime: RUNTIME,
      overrideExistingService: true,
    } as Parameters<TwilioServerlessApiClient['deployProject']>[0]));
    if (removed.length > 0) {
      await client.setEnvironmentVariables({ username: '', password: '', serviceSid: result.serviceSid, environment: result.environmentSid, env: withPrint, append: false } as Parameters<TwilioServerlessApiClient['setEnvironmentVariables']>[0]);
    }
    functionsAction = 'deployed';
    deployment = { serviceSid: result.serviceSid, environmentSid: result.environmentSid, domainName: result.domain, functions: new Map(result.functionResources.map((f) => [f.path, f.sid])) };
  }

  const flows: FlowOutcome[] = [];
  for (const flow of inputs.flows) flows.push(await deployFlow(twilio, flow, deployment, options));
  return {
    serviceSid: deployment?.serviceSid ?? existing.serviceSid,
    environmentSid: deployment?.environmentSid ?? existing.environmentSid,
    domainName: deployment?.domainName ?? existing.domainName,
    functionUrls: deployment ? [...deployment.functions.keys()].map((p) => `https://${deployment?.domainName}${p}`) : [],
    functions: functionsAction,
    variablesRemoved: removed,
    contextBytes: context.bytes,
    syncServiceSid: syncSid,
    flows,
  };
}
