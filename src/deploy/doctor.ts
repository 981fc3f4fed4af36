// `doctor`: a live deployment checked, reading only. Each check says what it
// found and, when something is wrong, the fix.

import type TwilioSdk from 'twilio';
import { PENDING_MAP } from '../queue/sync-queue.js';
import { plural } from '../plural.js';
import { CONTEXT_LIMIT_BYTES, contextBytes } from './context-size.js';
import { DEPLOY_MARKER, deploymentOf, latestRevision, readExisting } from './deploy.js';
import { flowWebhook, senderOwner } from './webhook.js';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export interface DoctorOptions {
  readonly serviceName: string;
  readonly envName: string;
  readonly accountSid: string;
  readonly flowNames: readonly string[];
  readonly number?: string | undefined;
  /** Where the Functions answer; https://<domain> of the environment when unset. */
  readonly functionsUrl?: string | undefined;
  /** Row 1 of the sheet compared with the flow's header, done by the caller (it needs the Google key). */
  readonly sheet?: (() => Promise<Check>) | undefined;
  readonly fetch?: typeof fetch;
}

const DEPLOY_FIX = 'run `sealed-survey deploy`';

/** An unsigned POST must be refused: Twilio answers 401 for a protected Function, our guard 403. */
async function refusesUnsigned(url: string, doFetch: typeof fetch): Promise<Check> {
  const name = `${new URL(url).pathname} refuses an unsigned request`;
  try {
    const res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'doctor=1', signal: AbortSignal.timeout(15_000) });
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) return { name, ok: true, detail: `HTTP ${res.status}` };
    return { name, ok: false, detail: `HTTP ${res.status}: anyone can call it`, fix: 'deploy it protected (*.protected.ts) with `sealed-survey deploy`; keep its signature guard' };
  } catch (error) {
    return { name, ok: false, detail: `no answer (${(error as Error).name})`, fix: `check that the environment is deployed and its domain answers; ${DEPLOY_FIX}` };
  }
}

export async function doctor(twilio: TwilioSdk.Twilio, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const existing = await readExisting(twilio, options.serviceName, options.envName);
  const deployment = deploymentOf(existing);
  if (!deployment) {
    checks.push({ name: 'Functions deployed', ok: false, detail: `no service "${options.serviceName}" with a built "${options.envName}" environment`, fix: DEPLOY_FIX });
  } else {
    checks.push({ name: 'Functions deployed', ok: true, detail: `${deployment.serviceSid}, https://${deployment.domainName}` });
    const base = (options.functionsUrl ?? `https://${deployment.domainName}`).replace(/\/+$/, '');
    for (const path of deployment.functions.keys()) checks.push(await refusesUnsigned(`${base}${path}`, options.fetch ?? fetch));
    const variables = Object.fromEntries(existing.variables);
    const bytes = contextBytes(variables, { accountSid: options.accountSid, domainName: deployment.domainName, includeCredentials: true });
    checks.push(
      bytes < CONTEXT_LIMIT_BYTES
        ? { name: 'context under 3 KB', ok: true, detail: `${bytes} bytes` }
        : { name: 'context under 3 KB', ok: false, detail: `${bytes} bytes: every call fails (Twilio error 82006)`, fix: 'remove variables the Functions do not read, then deploy again' },
    );
    const syncSid = variables.SYNC_SERVICE_SID;
    if (syncSid) {
      let waiting: number | undefined;
      try {
        waiting = (await twilio.sync.v1.services(syncSid).syncMaps(PENDING_MAP).syncMapItems.list({ limit: 1000, pageSize: 100 })).length;
      } catch (error) {
        waiting = (error as { status?: number }).status === 404 ? 0 : undefined;
      }
      checks.push(
        waiting === undefined
          ? { name: 'Sync queue', ok: false, detail: `cannot read Sync service ${syncSid}`, fix: DEPLOY_FIX }
          : waiting === 0
            ? { name: 'Sync queue', ok: true, detail: 'empty' }
            : { name: 'Sync queue', ok: false, detail: `${plural(waiting, 'row')}${waiting >= 1000 ? ' or more' : ''} waiting`, fix: 'run `sealed-survey flush` to write them into the sheet' },
      );
    } else {
      checks.push({ name: 'Sync queue', ok: false, detail: 'SYNC_SERVICE_SID is not set', fix: DEPLOY_FIX });
    }
  }

  const flows = await twilio.studio.v2.flows.list();
  let flowSid: string | undefined;
  for (const name of options.flowNames) {
    const flow = flows.find((f) => f.friendlyName === name);
    if (!flow) {
      checks.push({ name: `flow ${name}`, ok: false, detail: 'not in this account', fix: DEPLOY_FIX });
      continue;
    }
    flowSid ??= flow.sid;
    const latest = await latestRevision(twilio, flow.sid);
    const ours = latest?.commitMessage?.includes(DEPLOY_MARKER) === true;
    if (flow.status !== 'published') checks.push({ name: `flow ${name}`, ok: false, detail: `${flow.sid} is a draft`, fix: DEPLOY_FIX });
    else if (!ours) checks.push({ name: `flow ${name}`, ok: false, detail: `${flow.sid} revision ${flow.revision} was changed outside deploy`, fix: `\`sealed-survey flow pull ${flow.sid}\`, review, commit, deploy` });
    else checks.push({ name: `flow ${name}`, ok: true, detail: `${flow.sid}, published revision ${flow.revision}, deployed by sealed-survey` });
  }

  if (options.number && flowSid) {
    const target = flowWebhook(options.accountSid, flowSid);
    const number = options.number;
    const masked = `…${number.slice(-4)}`;
    const found = await senderOwner(twilio, number);
    const current = found?.url;
    checks.push(
      !found
        ? { name: `sender ${masked}`, ok: false, detail: 'not a number of this account', fix: 'check --number' }
        : current === target
          ? { name: `sender ${masked}`, ok: true, detail: 'incoming messages go to the flow' }
          : { name: `sender ${masked}`, ok: false, detail: `incoming messages go elsewhere (${current ?? 'nowhere'})`, fix: '`sealed-survey deploy --number <this sender>` points it at the flow' },
    );
  }
  if (options.sheet) checks.push(await options.sheet());
  return checks;
}
