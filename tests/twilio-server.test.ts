// The Twilio stand-in (src/dev/twilio-server.ts) behind Prism: the real
// @twilio-labs/serverless-api deploys a tiny project, the real `twilio`
// client drives Studio, phone numbers, Messaging Services and Sync, and Prism
// checks every request and (strict) response against Twilio's documents. The
// upload host has no document: its multipart shape is the stand-in's check.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TwilioServerlessApiClient } from '@twilio-labs/serverless-api';
import type TwilioSdk from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_USER_SID } from '../src/dev/twilio/studio.js';
import { syncService } from '../src/queue/sync-client.js';
import { serverlessClient, twilioClient } from '../src/twilio/client.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

let mocks: TwilioMocks;
let client: TwilioSdk.Twilio;
let serverless: TwilioServerlessApiClient;
const warnings: string[] = [];

beforeAll(async () => {
  mocks = await startTwilioMocks({
    phoneNumbers: [{ phoneNumber: '+15005550006', smsUrl: 'https://old.example.com/sms' }, { phoneNumber: '+15005550007' }, { phoneNumber: '+447700900123' }],
    messagingServices: [{ friendlyName: 'Survey sender', inboundRequestUrl: 'https://old.example.com/inbound', phoneNumbers: ['+15005550007'], senders: ['whatsapp:+15005550007'] }],
    buildingFetches: 0,
  });
  const options = { env: mocks.env, warn: (line: string) => warnings.push(line) };
  client = await twilioClient(mocks.credentials, options);
  serverless = await serverlessClient(mocks.credentials, options);
});

afterAll(async () => {
  await mocks?.stop();
});

const FLAGS = { allow_concurrent_calls: true };
/** A minimal valid flow: a trigger whose incoming message goes to one Run Function widget. */
function flowDefinition(url = 'https://example.twil.io/encrypt', next = 'encrypt') {
  return {
    description: 'test survey',
    flags: FLAGS,
    initial_state: 'Trigger',
    states: [
      { name: 'Trigger', type: 'trigger', properties: { offset: { x: 0, y: 0 } }, transitions: [{ event: 'incomingMessage', next }] },
      {
        name: 'encrypt',
        type: 'run-function',
        properties: { service_sid: `ZS${'0'.repeat(32)}`, environment_sid: `ZE${'0'.repeat(32)}`, function_sid: `ZH${'0'.repeat(32)}`, url, parameters: [] },
        transitions: [{ event: 'success' }, { event: 'fail' }],
      },
    ],
  };
}

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

const auth = () => `Basic ${Buffer.from(`${mocks.accountSid}:${mocks.authToken}`).toString('base64')}`;
const deployConfig = (overrides: Record<string, unknown> = {}) => ({
  username: mocks.accountSid,
  password: mocks.authToken,
  serviceName: 'sealed-survey',
  functionsEnv: 'staging',
  env: { SURVEY_PUBLIC_KEY: 'pk-1', PII_COLUMNS: 'full_name' },
  pkgJson: { dependencies: { twilio: '^5.0.0' } },
  runtime: 'node22',
  functions: [{ name: 'encrypt', path: '/encrypt', access: 'protected' as const, content: 'exports.handler = (c, e, cb) => cb(null, {});' }],
  assets: [{ name: 'google-service-account.json', path: '/google-service-account.json', access: 'private' as const, content: '{"type":"service_account"}' }],
  ...overrides,
});

describe('Serverless through @twilio-labs/serverless-api', () => {
  it('deployProject lands: service, environment, a build that goes building → completed, the deployment, variables, visibility as asked', async () => {
    mocks.server.setBuildOutcome('completed', 1);
    const statuses: string[] = [];
    const listener = (u: { status: string }) => statuses.push(u.status);
    serverless.on('status-update', listener);
    const result = await serverless.deployProject(deployConfig()).finally(() => serverless.off('status-update', listener));
    mocks.server.setBuildOutcome('completed', 0);

    expect(statuses.filter((s) => s === 'building')).toHaveLength(2); // "Waiting for deployment", then once still building
    const [service, ...others] = mocks.server.serverless();
    expect(others).toEqual([]);
    expect(service).toMatchObject({ sid: result.serviceSid, uniqueName: 'sealed-survey', friendlyName: 'sealed-survey', includeCredentials: true, uiEditable: false });
    const [env] = service!.environments;
    expect(env).toMatchObject({ sid: result.environmentSid, uniqueName: 'staging-environment', domainSuffix: 'staging', buildSid: result.buildSid, variables: { SURVEY_PUBLIC_KEY: 'pk-1', PII_COLUMNS: 'full_name' } });
    expect(env!.domainName).toMatch(/^sealed-survey-\d{4}-staging\.twil\.io$/);
    expect(result.domain).toBe(env!.domainName);
    expect(env!.deployments.map((d) => d.buildSid)).toEqual([result.buildSid]);
    const [fn] = service!.functions;
    const [asset] = service!.assets;
    expect(fn!.versions.map((v) => ({ path: v.path, visibility: v.visibility, content: v.content.toString(), filename: v.filename }))).toEqual([
      { path: '/encrypt', visibility: 'protected', content: 'exports.handler = (c, e, cb) => cb(null, {});', filename: 'encrypt' },
    ]);
    expect(asset!.versions.map((v) => [v.path, v.visibility, v.content.toString()])).toEqual([['/google-service-account.json', 'private', '{"type":"service_account"}']]);
    expect(service!.builds).toEqual([
      { sid: result.buildSid, status: 'completed', functionVersions: [fn!.versions[0]!.sid], assetVersions: [asset!.versions[0]!.sid], dependencies: [{ name: 'twilio', version: '^5.0.0' }], runtime: 'node22' },
    ]);
  });

  it('a second deploy of the same project finds the service and environment, adds versions and updates variables without duplicating', async () => {
    // Without overrideExistingService the library refuses a service name that exists.
    const refused = await rejection(serverless.deployProject(deployConfig()));
    expect(refused.name).toBe('conflicting-servicename');
    const content = 'exports.handler = (c, e, cb) => cb(null, { v: 2 });';
    const base = deployConfig();
    const result = await serverless.deployProject(
      deployConfig({ overrideExistingService: true, env: { SURVEY_PUBLIC_KEY: 'pk-2', PII_COLUMNS: 'full_name' }, functions: [{ ...base.functions[0]!, content }] }),
    );

    const [service, ...others] = mocks.server.serverless();
    expect(others).toEqual([]);
    expect(result.serviceSid).toBe(service!.sid);
    expect(service!.environments).toHaveLength(1);
    const [env] = service!.environments;
    expect(env!.variables).toEqual({ SURVEY_PUBLIC_KEY: 'pk-2', PII_COLUMNS: 'full_name' });
    expect(env!.deployments.map((d) => d.buildSid)).toEqual([service!.builds[0]!.sid, result.buildSid]);
    expect(service!.functions.map((f) => [f.friendlyName, f.versions.length])).toEqual([['encrypt', 2]]);
    expect(service!.functions[0]!.versions.at(-1)!.content.toString()).toBe(content);
    expect(service!.assets.map((a) => [a.friendlyName, a.versions.length])).toEqual([['google-service-account.json', 2]]);
  });

  it('deployLocalProject reads functions/ and assets/, takes visibility from the file names, and names resources by path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-deploy-'));
    try {
      mkdirSync(join(dir, 'functions'));
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'functions', 'encrypt.protected.js'), 'exports.handler = (c, e, cb) => cb(null, {});');
      writeFileSync(join(dir, 'assets', 'google-service-account.private.json'), '{"type":"service_account"}');
      const { functions: _f, assets: _a, ...config } = deployConfig({ serviceName: 'local-project' });
      const result = await serverless.deployLocalProject({ ...config, cwd: dir, envPath: join(dir, '.env') });
      const service = mocks.server.serverless().find((s) => s.sid === result.serviceSid);
      // Names differ from deployProject's ('encrypt'): switching between the two would add a second Function.
      expect(service!.functions.map((f) => [f.friendlyName, f.versions.map((v) => [v.path, v.visibility])])).toEqual([['/encrypt', [['/encrypt', 'protected']]]]);
      expect(service!.assets.map((a) => [a.friendlyName, a.versions.map((v) => [v.path, v.visibility])])).toEqual([
        ['/google-service-account.json', [['/google-service-account.json', 'private']]],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('variables, list and activateBuild: the other calls deploy and doctor make', async () => {
    const service = mocks.server.serverless().find((s) => s.uniqueName === 'sealed-survey');
    const serviceSid = service!.sid;
    const set = await serverless.setEnvironmentVariables({ serviceName: 'sealed-survey', environment: 'staging', env: { EXTRA: 'x' }, append: false, username: mocks.accountSid, password: mocks.authToken });
    expect(set.serviceSid).toBe(serviceSid);
    const got = await serverless.getEnvironmentVariables({ serviceSid, environment: 'staging', keys: [], getValues: true, username: mocks.accountSid, password: mocks.authToken });
    expect(got.variables).toEqual([{ key: 'EXTRA', value: 'x' }]);

    const listed = await serverless.list({ types: ['environments', 'builds', 'functions', 'assets', 'variables'], serviceSid, environment: 'staging', username: mocks.accountSid, password: mocks.authToken });
    expect(listed.environments?.map((e) => e.unique_name)).toEqual(['staging-environment']);
    expect(listed.builds).toHaveLength(2);
    expect(listed.functions?.entries.map((f) => [f.path, f.visibility])).toEqual([['/encrypt', 'PROTECTED']]);
    expect(listed.assets?.entries.map((a) => [a.path, a.visibility])).toEqual([['/google-service-account.json', 'PRIVATE']]);
    expect(listed.variables?.entries.map((v) => v.key)).toEqual(['EXTRA']);
    expect((await serverless.list({ types: 'services', username: mocks.accountSid, password: mocks.authToken })).services?.map((s) => s.unique_name)).toEqual(['sealed-survey', 'local-project']);

    const activated = await serverless.activateBuild({ serviceSid, sourceEnvironment: 'staging', targetEnvironment: 'prod', createEnvironment: true, env: { STAGE: 'prod' }, username: mocks.accountSid, password: mocks.authToken });
    const prod = mocks.server.serverless().find((s) => s.sid === serviceSid)!.environments.find((e) => e.sid === activated.environmentSid);
    expect(prod).toMatchObject({ uniqueName: 'prod-environment', buildSid: service!.environments[0]!.buildSid, variables: { STAGE: 'prod' } });
    expect(activated.domain).toBe(prod!.domainName);
  });

  it('a failed build fails the deploy before anything is activated', async () => {
    mocks.server.setBuildOutcome('failed', 0);
    try {
      const before = mocks.server.serverless()[0]!.environments[0]!.deployments.length;
      expect(await rejection(serverless.deployProject(deployConfig({ overrideExistingService: true })))).toBe('failed');
      expect(mocks.server.serverless()[0]!.environments[0]!.deployments).toHaveLength(before);
    } finally {
      mocks.server.setBuildOutcome('completed', 0);
    }
  });
});

describe('Studio through the twilio client', () => {
  let flowSid: string;

  it('create → update keeps every revision with its commit message and definition', async () => {
    const created = await client.studio.v2.flows.create({ friendlyName: 'Survey', status: 'published', definition: flowDefinition(), commitMessage: '[sealed-survey deploy] abc123' });
    flowSid = created.sid;
    expect(created).toMatchObject({ revision: 1, commitMessage: '[sealed-survey deploy] abc123', status: 'published', valid: true });
    expect(created.webhookUrl).toBe(`https://webhooks.twilio.com/v1/Accounts/${mocks.accountSid}/Flows/${flowSid}`);
    const updated = await client.studio.v2
      .flows(flowSid)
      .update({ status: 'published', definition: flowDefinition('https://example.twil.io/encrypt2'), commitMessage: '[sealed-survey deploy] def456' });
    expect(updated.revision).toBe(2);
    expect((await client.studio.v2.flows(flowSid).fetch()).commitMessage).toBe('[sealed-survey deploy] def456');

    // twilio-node 6.2 cannot list revisions (FlowRevisionInstance reads an undefined revision): read the page itself.
    const page = (await client.request({ method: 'get', uri: `${client.studio.baseUrl}/v2/Flows/${flowSid}/Revisions` })).body as { revisions: any[] };
    expect(page.revisions.map((r) => [r.revision, r.commit_message, r.definition])).toEqual([
      [2, '[sealed-survey deploy] def456', null],
      [1, '[sealed-survey deploy] abc123', null],
    ]);
    const first = await client.studio.v2.flows(flowSid).revisions('1').fetch();
    expect(first.definition).toEqual(flowDefinition());
    expect((await client.studio.v2.flows(flowSid).revisions('LatestRevision').fetch()).revision).toBe(2);
    expect(mocks.server.flows()[0]!.revisions.map((r) => r.commitMessage)).toEqual(['[sealed-survey deploy] abc123', '[sealed-survey deploy] def456']);
  });

  it('a Console edit becomes the latest revision, by a user and without our commit message', async () => {
    mocks.server.consoleEdit(flowSid, { definition: flowDefinition('https://example.twil.io/edited') });
    const flow = await client.studio.v2.flows(flowSid).fetch();
    expect(flow).toMatchObject({ revision: 3, commitMessage: null, authorSid: CONSOLE_USER_SID });
    expect(mocks.server.flows()[0]!.revisions[1]!.authorSid).not.toBe(CONSOLE_USER_SID);
  });

  it('Flow Validate: {valid: true}, or error 81022 whose details name the widget and the property', async () => {
    expect((await client.studio.v2.flowValidate.update({ friendlyName: 'Survey', status: 'published', definition: flowDefinition() })).valid).toBe(true);
    const error = await rejection(client.studio.v2.flowValidate.update({ friendlyName: 'Survey', status: 'published', definition: flowDefinition(undefined, 'nowhere') }));
    expect({ status: error.status, code: error.code, message: error.message }).toEqual({ status: 400, code: 81022, message: 'Invalid Flow Definition' });
    expect(error.details.errors).toEqual([{ message: 'Widget "Trigger": the incomingMessage transition goes to "nowhere", which is not a widget of this flow', property_path: '#/states/0/transitions/0/next' }]);

    const broken = { ...flowDefinition(), states: flowDefinition().states.map((s) => (s.name === 'encrypt' ? { ...s, properties: { ...s.properties, function_sid: 'ZH123' } } : s)) };
    const sidError = await rejection(client.studio.v2.flowValidate.update({ friendlyName: 'Survey', status: 'published', definition: broken }));
    expect(sidError.details.errors).toEqual([{ message: 'Widget "encrypt": function_sid must be a SID starting with ZH', property_path: '#/states/1/properties/function_sid' }]);
    const shapeless = await rejection(client.studio.v2.flowValidate.update({ friendlyName: 'Survey', status: 'published', definition: { states: [] } }));
    expect(shapeless.details.errors.map((e: { property_path: string }) => e.property_path)).toEqual(['#/initial_state', '#/flags']);
  });

  it('an invalid definition cannot be published, but is kept as an invalid draft', async () => {
    const bad = flowDefinition(undefined, 'nowhere');
    expect((await rejection(client.studio.v2.flows.create({ friendlyName: 'Broken', status: 'published', definition: bad }))).code).toBe(81022);
    const draft = await client.studio.v2.flows.create({ friendlyName: 'Broken', status: 'draft', definition: bad });
    expect({ valid: draft.valid, errors: draft.errors.length }).toEqual({ valid: false, errors: 1 });
    expect(mocks.server.flows().map((f) => f.friendlyName)).toEqual(['Survey', 'Broken']);
  });

  it('flows are listed page by page, following next_page_url through Prism', async () => {
    const listed = await client.studio.v2.flows.list({ pageSize: 1 });
    expect(listed.map((f) => f.friendlyName)).toEqual(['Survey', 'Broken']);
  });
});

describe('senders: phone numbers and Messaging Services', () => {
  it('finds a number by PhoneNumber (partial, * for a digit), points its incoming-message webhook at the flow, and reports the old one', async () => {
    const [number, ...more] = await client.incomingPhoneNumbers.list({ phoneNumber: '+15005550006' });
    expect(more).toEqual([]);
    expect(number).toMatchObject({ phoneNumber: '+15005550006', smsUrl: 'https://old.example.com/sms', smsMethod: 'POST' });
    expect((await client.incomingPhoneNumbers.list({ phoneNumber: '55500**' })).map((n) => n.phoneNumber)).toEqual(['+15005550006', '+15005550007']);
    expect((await client.incomingPhoneNumbers.list({ pageSize: 1 })).map((n) => n.phoneNumber)).toEqual(['+15005550006', '+15005550007', '+447700900123']);

    const webhook = mocks.server.flows()[0]!.webhookUrl;
    const updated = await client.incomingPhoneNumbers(number!.sid).update({ smsUrl: webhook, smsMethod: 'POST' });
    expect(updated.smsUrl).toBe(webhook);
    expect(mocks.server.phoneNumbers().find((n) => n.sid === number!.sid)).toMatchObject({ smsUrl: webhook, smsMethod: 'POST', voiceUrl: null });
    // Prism refuses a malformed URL itself (422); the stand-in answers Twilio's error when asked directly.
    const direct = await fetch(`${mocks.server.url}/api/2010-04-01/Accounts/${mocks.accountSid}/IncomingPhoneNumbers/${number!.sid}.json`, {
      method: 'POST',
      headers: { authorization: auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'SmsUrl=not+a+url',
    });
    expect(await direct.json()).toMatchObject({ status: 400, code: 20001, message: 'Invalid parameter SmsUrl: must be an http or https URL' });
    expect(mocks.server.phoneNumbers().find((n) => n.sid === number!.sid)!.smsUrl).toBe(webhook);
  });

  it('finds the Messaging Service that owns a WhatsApp sender and points its inbound webhook at the flow', async () => {
    const [service] = await client.messaging.v1.services.list();
    expect(service).toMatchObject({ friendlyName: 'Survey sender', inboundRequestUrl: 'https://old.example.com/inbound', useInboundWebhookOnNumber: false });
    expect((await client.messaging.v1.services(service!.sid).phoneNumbers.list()).map((n) => n.phoneNumber)).toEqual(['+15005550007']);
    const senders = await client.messaging.v1.services(service!.sid).channelSenders.list();
    expect(senders.map((s) => [s.sender, s.senderType])).toEqual([['whatsapp:+15005550007', 'WhatsApp']]);
    const webhook = mocks.server.flows()[0]!.webhookUrl;
    await client.messaging.v1.services(service!.sid).update({ inboundRequestUrl: webhook, useInboundWebhookOnNumber: false });
    expect(mocks.server.messagingServices()[0]).toMatchObject({ inboundRequestUrl: webhook, useInboundWebhookOnNumber: false });
  });

  it('the account answers a credential check', async () => {
    const account = await client.api.v2010.accounts(mocks.accountSid).fetch();
    expect(account).toMatchObject({ sid: mocks.accountSid, status: 'active', type: 'Full' });
  });
});

describe('Sync services', () => {
  it('deploy finds or creates the queue’s service, and the project’s Sync client uses it', async () => {
    expect(await client.sync.v1.services.list()).toEqual([]);
    const created = await client.sync.v1.services.create({ friendlyName: 'sealed-survey queue' });
    expect((await client.sync.v1.services.list()).map((s) => [s.sid, s.friendlyName])).toEqual([[created.sid, 'sealed-survey queue']]);
    const sync = syncService({ accountSid: mocks.accountSid, authToken: mocks.authToken, serviceSid: created.sid, apiUrl: `${mocks.url}/sync` });
    await sync.ensure('map', 'pending-rows', 'creating the queue');
    const context = await sync.context();
    await context.syncMaps('pending-rows').syncMapItems.create({ key: 'FN1', data: { row: 1 } });
    expect(mocks.server.sync.items('pending-rows')).toEqual([{ key: 'FN1', data: { row: 1 } }]);
    const unknown = syncService({ accountSid: mocks.accountSid, authToken: mocks.authToken, serviceSid: `IS${'0'.repeat(32)}`, apiUrl: `${mocks.url}/sync` });
    expect((await rejection(unknown.ensure('map', 'pending-rows', 'creating the queue'))).code).toBe('SERVICE_NOT_FOUND');
  });
});

describe('failures as Twilio answers them', () => {
  it('a 429 burst is retried by the twilio client (GET and POST) and by serverless-api', async () => {
    mocks.server.setFaults({ kinds: [429], count: 2, only: { product: 'studio' } });
    expect((await client.studio.v2.flows.list()).length).toBe(2);
    mocks.server.setFaults({ kinds: [429], count: 2, only: { product: 'studio', method: 'POST' } });
    const flow = await client.studio.v2.flows.create({ friendlyName: 'Retried', status: 'draft', definition: flowDefinition() });
    expect(mocks.server.flows().filter((f) => f.friendlyName === 'Retried').map((f) => f.sid)).toEqual([flow.sid]);
    mocks.server.setFaults({ kinds: [429], count: 1, retryAfterSeconds: 1, only: { product: 'serverless' } });
    expect((await serverless.list({ types: 'services', username: mocks.accountSid, password: mocks.authToken })).services).toHaveLength(2);
    expect(mocks.server.faultsInjected()).toEqual({ 429: 5 });
    mocks.server.setFaults(undefined);
    const refused = mocks.server.requests().filter((r) => r.status === 429);
    expect(refused.map((r) => `${r.method} ${r.product}`)).toEqual(['GET studio', 'GET studio', 'POST studio', 'POST studio', 'GET serverless']);
  });

  it('an upload answered 429 is not retried by serverless-api (got cannot resend a stream body): the deploy fails', async () => {
    mocks.server.setFaults({ kinds: [429], count: 1, only: { product: 'serverless-upload' } });
    const from = mocks.server.requests().length;
    try {
      const error = await rejection(serverless.deployProject(deployConfig({ overrideExistingService: true })));
      expect(error.message).toBe('Failed to upload Function encrypt');
      expect(mocks.server.requests().slice(from).filter((r) => r.product === 'serverless-upload').map((r) => r.status)).toEqual([429]);
    } finally {
      mocks.server.setFaults(undefined);
    }
  });

  it('bad credentials: a Twilio-shaped 401 from every product and from the library', async () => {
    const wrong = await twilioClient({ ...mocks.credentials, password: 'f'.repeat(32) }, { env: mocks.env, warn: () => {} });
    for (const call of [() => wrong.studio.v2.flows.list(), () => wrong.incomingPhoneNumbers.list(), () => wrong.messaging.v1.services.list(), () => wrong.sync.v1.services.list()]) {
      const error = await rejection(call());
      expect({ status: error.status, code: error.code, moreInfo: error.moreInfo }).toEqual({ status: 401, code: 20003, moreInfo: 'https://www.twilio.com/docs/errors/20003' });
    }
    const wrongServerless = await serverlessClient({ ...mocks.credentials, password: 'f'.repeat(32) }, { env: mocks.env, warn: () => {} });
    const error = await rejection(wrongServerless.list({ types: 'services', username: mocks.accountSid, password: 'x' }));
    expect({ name: error.name, code: error.code }).toEqual({ name: 'TwilioApiError', code: 20003 });

    const raw = await fetch(`${mocks.url}/serverless/v1/Services`, { headers: { authorization: `Basic ${Buffer.from(`${mocks.accountSid}:nope`).toString('base64')}` } });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expect(await raw.json()).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
  });

  it('unknown resources are Twilio 404s', async () => {
    const error = await rejection(client.studio.v2.flows(`FW${'0'.repeat(32)}`).fetch());
    expect({ status: error.status, code: error.code }).toEqual({ status: 404, code: 20404 });
    const unknown = await fetch(`${mocks.server.url}/voice/v1/Anything`, { headers: { authorization: auth() } });
    expect(await unknown.json()).toMatchObject({ status: 404, code: 20404 });
  });
});

describe('the upload host: its multipart shape, checked by the stand-in', () => {
  const upload = async (fields: (form: FormData) => void) => {
    const [service] = mocks.server.serverless();
    const fn = service!.functions[0]!;
    const form = new FormData();
    fields(form);
    const response = await fetch(`${mocks.url}/serverless-upload/v1/Services/${service!.sid}/Functions/${fn.sid}/Versions`, { method: 'POST', headers: { authorization: auth() }, body: form });
    return { status: response.status, body: (await response.json()) as any };
  };
  const file = () => new Blob(['exports.handler = () => {};'], { type: 'application/javascript' });

  it('takes Path, Visibility and a Content file part, and answers the version on the API host', async () => {
    const { status, body } = await upload((f) => {
      f.append('Path', '/direct');
      f.append('Visibility', 'public');
      f.append('Content', file(), 'direct.js');
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ path: '/direct', visibility: 'public', url: expect.stringMatching(new RegExp(`^${mocks.url}/serverless/v1/Services/ZS`)) });
    const version = mocks.server.serverless()[0]!.functions[0]!.versions.find((v) => v.sid === body.sid);
    expect(version).toMatchObject({ contentType: 'application/javascript', filename: 'direct.js' });
    expect(version!.content.toString()).toBe('exports.handler = () => {};');
  });

  it('refuses every other shape with a 400 naming the field', async () => {
    const cases: Array<[string, (f: FormData) => void]> = [
      ['Visibility', (f) => (f.append('Path', '/x'), f.append('Visibility', 'secret'), f.append('Content', file(), 'x.js'))],
      ['Content', (f) => (f.append('Path', '/x'), f.append('Visibility', 'public'), f.append('Content', 'not a file'))],
      ['Content', (f) => (f.append('Path', '/x'), f.append('Visibility', 'public'))],
      ['Path', (f) => (f.append('Path', 'x'), f.append('Visibility', 'public'), f.append('Content', file(), 'x.js'))],
      ['Extra', (f) => (f.append('Path', '/x'), f.append('Visibility', 'public'), f.append('Content', file(), 'x.js'), f.append('Extra', '1'))],
    ];
    for (const [field, fill] of cases) {
      const { status, body } = await upload(fill);
      expect({ status, code: body.code, names: body.message.includes(field) }).toEqual({ status: 400, code: 20001, names: true });
    }
    const [service] = mocks.server.serverless();
    const notMultipart = await fetch(`${mocks.url}/serverless-upload/v1/Services/${service!.sid}/Functions/${service!.functions[0]!.sid}/Versions`, {
      method: 'POST',
      headers: { authorization: auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Path=%2Fx&Visibility=public&Content=x',
    });
    expect(await notMultipart.json()).toMatchObject({ status: 400, message: expect.stringContaining('multipart/form-data') });
  });
});

describe('the contract', () => {
  it('Prism saw no violation in any request or response above, and the override warned each time', async () => {
    expect(await mocks.violations()).toEqual([]);
    expect(mocks.prism.violations().length).toBeGreaterThan(0); // the 401s, 404s and 429s above, undeclared in Twilio's documents
    expect(new Set(warnings)).toEqual(new Set([`sealed-survey: TWILIO_API_URL is set: Twilio API calls go to ${mocks.url}/<product>, not to Twilio (development and tests only)`]));
  });

  it('the harness catches a response that breaks a document, for every product (so the check above can fail)', async () => {
    const [service] = mocks.server.serverless();
    const flowSid = mocks.server.flows()[0]!.sid;
    const numberSid = mocks.server.phoneNumbers()[0]!.sid;
    const messagingSid = mocks.server.messagingServices()[0]!.sid;
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['/serverless/v1/Services', () => client.serverless.v1.services.list()],
      [`/serverless/v1/Services/${service!.sid}/Builds`, () => client.serverless.v1.services(service!.sid).builds.list()],
      [`/studio/v2/Flows/${flowSid}`, () => client.studio.v2.flows(flowSid).fetch()],
      [`/api/2010-04-01/Accounts/${mocks.accountSid}/IncomingPhoneNumbers/${numberSid}.json`, () => client.incomingPhoneNumbers(numberSid).fetch()],
      [`/messaging/v1/Services/${messagingSid}`, () => client.messaging.v1.services(messagingSid).fetch()],
      ['/sync/v1/Services', () => client.sync.v1.services.list()],
    ];
    for (const [path, call] of calls) {
      const seen = (await mocks.violations()).length;
      mocks.server.setFaults({ kinds: ['bad-body'], count: 1 });
      expect((await rejection(call())).status).toBe(500);
      expect((await mocks.violations()).slice(seen)).toEqual([{ severity: 'error', message: expect.stringMatching(new RegExp(`^GET ${path.replace(/[.$]/g, '\\$&')}: Request/Response not valid; response\\.body`)) }]);
    }
    mocks.server.setFaults(undefined);
  });

  it('the harness catches a request that breaks a document', async () => {
    const seen = (await mocks.violations()).length;
    const response = await fetch(`${mocks.url}/studio/v2/Flows`, {
      method: 'POST',
      headers: { authorization: auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ FriendlyName: 'x', Status: 'archived', Definition: '{}' }).toString(),
    });
    expect(response.status).toBe(422);
    expect((await mocks.violations()).slice(seen)).toEqual([{ severity: 'error', message: expect.stringContaining('POST /studio/v2/Flows: Invalid request; body.Status') }]);
    expect(mocks.server.flows().some((f) => f.friendlyName === 'x')).toBe(false);
  });
});
