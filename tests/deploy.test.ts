// sealed-survey deploy, flow pull and doctor as an operator runs them: the
// built CLI in a project folder, against the Twilio stand-in behind Prism
// (every request checked against Twilio's OpenAPI documents), the local Sheets
// server for the sheet, and the real Functions for doctor's unsigned call.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_MARKER, FINGERPRINT_VARIABLE } from '../src/deploy/deploy.js';
import { PLACEHOLDER_SERVICE_SID } from '../src/deploy/flow-binding.js';
import { PROJECT_ROOT, type RunningFunctions } from '../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount, type RunningSheetsServer } from '../src/dev/sheets-server.js';
import { flowColumns } from '../src/flow/columns.js';
import { readFlow } from '../src/flow/definition.js';
import { formatPublicKey, newSealedKeyPair } from '../src/keys/keys.js';
import { sheetsClient } from '../src/sheets/client.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { startTestFunctions } from './helpers/functions.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

const SENDER = '+15005550006';
const flowFile = join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json');
const header = flowColumns(readFlow(flowFile)).header;
/** The Function path of each Run Function widget of the repository's flow, in order (encrypt, publish, …). */
const runFunctionPaths = readFlow(flowFile).states.filter((w) => w.type === 'run-function').map((w) => new URL(String(w.properties.url)).pathname);

let mocks: TwilioMocks;
let sheets: RunningSheetsServer;
let functions: RunningFunctions | undefined;
let project: string;
let spreadsheetId: string;
const outputs: string[] = [];

/** A project folder as `npm ci` leaves it: build/, flows/, the Google key asset and .env.<env>. */
function makeProject(env: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-deploy-'));
  cpSync(join(PROJECT_ROOT, 'build'), join(dir, 'build'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'flows'), join(dir, 'flows'), { recursive: true, filter: (f) => !f.includes(`${join('flows', 'answers')}`) });
  writeEnv(dir, 'dev', env);
  return dir;
}

function writeEnv(dir: string, name: string, env: Record<string, string>): void {
  writeFileSync(join(dir, `.env.${name}`), Object.entries(env).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', { mode: 0o600 });
}

async function cli(args: string[], cwd = project): Promise<CliResult> {
  const result = await runCli('sealed-survey', args, { cwd, env: { ...mocks.env, SHEETS_API_URL: sheets.url } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

const services = () => mocks.server.serverless();
const flows = () => mocks.server.flows();

beforeAll(async () => {
  mocks = await startTwilioMocks({ phoneNumbers: [{ phoneNumber: SENDER, smsUrl: 'https://demo.twilio.com/welcome/sms/reply' }], buildingFetches: 0 });
  sheets = await startSheetsServer();
  const account = await testServiceAccount(sheets);
  const client = sheetsClient({ account, rootUrl: sheets.url });
  spreadsheetId = (await client.spreadsheets.create({ requestBody: { sheets: [{ properties: { title: 'Responses' } }] } })).data.spreadsheetId as string;
  project = makeProject({ SURVEY_PUBLIC_KEY: formatPublicKey(newSealedKeyPair().pair.publicRaw), SHEET_ID: spreadsheetId });
  mkdirSync(join(project, 'build', 'assets'), { recursive: true });
  writeFileSync(join(project, 'build', 'assets', 'google-service-account.private.json'), JSON.stringify(account));
}, 120_000);

afterAll(async () => {
  const violations = mocks ? await mocks.violations() : [];
  await Promise.all([mocks?.stop(), sheets?.stop(), functions?.stop()]);
  if (project) rmSync(project, { recursive: true, force: true });
  // Every call to Twilio was one its API accepts, and no secret reached the output.
  expect(violations).toEqual([]);
  const all = outputs.join('\n');
  expect(all).not.toContain(mocks.authToken);
  expect(all).not.toContain('PRIVATE KEY');
  expect(all).not.toContain(SENDER);
});

describe('deploy', () => {
  it('--dry-run checks everything, prints the plan and the header, and writes nothing', async () => {
    const before = mocks.server.requests().filter((r) => r.method !== 'GET').length;
    const res = await cli(['deploy', '--env', 'dev', '--dry-run', '--init-sheet']);
    expect(res.stderr).toContain('TWILIO_API_URL is set');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Dry run: nothing was changed');
    expect(res.stdout).toContain('Functions    would deploy');
    expect(res.stdout).toContain('flow         whatsapp-survey: would create');
    expect(res.stdout).toContain(`header       ${header.join(', ')}`);
    expect(res.stdout).toContain(`would write ${header.join(', ')} into row 1`);
    expect(mocks.server.requests().filter((r) => r.method !== 'GET').length).toBe(before);
    expect(services()).toEqual([]);
    expect(sheets.rows(spreadsheetId, 'Responses')).toEqual([]);
  });

  it('lists every problem at once before writing anything', async () => {
    const broken = makeProject({ SURVEY_PUBLIC_KEY: 'sspk1.nope', AUTH_TOKEN: 'x', GOOGLE_SERVICE_ACCOUNT_JSON: '{}', SHEETS_API_URL: 'http://127.0.0.1:1', BIG: 'x'.repeat(3000) });
    try {
      const before = mocks.server.requests().filter((r) => r.method !== 'GET').length;
      const res = await cli(['deploy', '--env', 'dev'], broken);
      expect(res.code).toBe(1);
      for (const expected of ['SURVEY_PUBLIC_KEY in .env.dev is not valid', 'does not set SHEET_ID', '.env.dev sets AUTH_TOKEN', 'SHEETS_API_URL, a development override', 'sets GOOGLE_SERVICE_ACCOUNT_JSON', 'assets/google-service-account.private.json is missing', "over Twilio's 3072-byte limit"]) {
        expect(res.stderr).toContain(expected);
      }
      expect(res.stderr).toMatch(/deploy stopped: \d+ problems to fix/);
      expect(mocks.server.requests().filter((r) => r.method !== 'GET').length).toBe(before);
      const noEnv = await cli(['deploy', '--env', 'prod'], broken);
      expect(noEnv.code).toBe(1);
      expect(noEnv.stderr).toContain('.env.prod does not exist');
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('deploys Functions (protected), the Google key (private), derived variables, the Sync service, the bound flow, the sheet header and the sender webhook', async () => {
    const res = await cli(['deploy', '--env', 'dev', '--init-sheet', '--number', `whatsapp:${SENDER}`]);
    expect(res.stderr).toBe(res.stderr.replace(/Error:|at .*\.js:\d+/g, ''));
    expect(res.code).toBe(0);
    const [service] = services();
    expect(service?.uniqueName).toBe('sealed-survey');
    expect(service?.includeCredentials).toBe(true);
    const environment = service?.environments[0];
    expect(environment?.domainSuffix).toBe('dev');
    const versions = [...(service?.functions ?? []), ...(service?.assets ?? [])].map((r) => r.versions.at(-1));
    expect(versions.map((v) => `${v?.path} ${v?.visibility}`).sort()).toEqual(['/breaker protected', '/encrypt protected', '/google-service-account.json private', '/publish protected', '/recording-status protected', '/voice-answer protected', '/voice-gather protected']);
    const vars = environment?.variables ?? {};
    expect(vars.PII_COLUMNS).toBe(flowColumns(readFlow(flowFile)).piiColumns.join(','));
    expect(vars.SYNC_SERVICE_SID).toBe(mocks.server.syncServices().find((s) => s.friendlyName === 'sealed-survey')?.sid);
    expect(vars[FINGERPRINT_VARIABLE]).toMatch(/^[0-9a-f]{24}$/);
    expect(Object.keys(vars).some((k) => k.startsWith('TWILIO_') || k === 'AUTH_TOKEN')).toBe(false);
    // The flow: published, its Run Function widgets bound to the deployment, the revision marked as ours.
    const [flow] = flows();
    expect(flow?.status).toBe('published');
    const revision = flow?.revisions.at(-1);
    expect(revision?.commitMessage).toContain(DEPLOY_MARKER);
    const widgets = ((revision?.definition as { states: Array<{ type: string; properties: Record<string, string> }> }).states).filter((w) => w.type === 'run-function');
    expect(widgets.map((w) => w.properties.url)).toEqual(runFunctionPaths.map((path) => `https://${environment?.domainName}${path}`));
    expect(widgets.every((w) => w.properties.service_sid === service?.sid && w.properties.environment_sid === environment?.sid)).toBe(true);
    // The sender now hands incoming messages to the flow; the previous target is reported.
    expect(mocks.server.phoneNumbers()[0]?.smsUrl).toBe(`https://webhooks.twilio.com/v1/Accounts/${mocks.accountSid}/Flows/${flow?.sid}`);
    expect(res.stdout).toContain('was: https://demo.twilio.com/welcome/sms/reply');
    expect(sheets.rows(spreadsheetId, 'Responses')[0]).toEqual([...header]);
    expect(res.stdout).toContain(`flow         whatsapp-survey: created (${flow?.sid}`);
  });

  it('a second deploy with nothing changed changes nothing and says so', async () => {
    const writesBefore = mocks.server.requests().filter((r) => r.method !== 'GET').length;
    const res = await cli(['deploy', '--env', 'dev', '--number', SENDER]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Functions    unchanged');
    expect(res.stdout).toContain('whatsapp-survey: unchanged');
    expect(res.stdout).toContain('already points at the flow');
    expect(res.stdout).toContain('row 1 has every column');
    expect(mocks.server.requests().filter((r) => r.method !== 'GET').length).toBe(writesBefore);
    expect(flows()[0]?.revisions).toHaveLength(1);
    expect(services()[0]?.builds).toHaveLength(1);
  });

  it('a changed variable redeploys into the same service and environment, never a second one', async () => {
    const env = readFileSync(join(project, '.env.dev'), 'utf8');
    writeFileSync(join(project, '.env.dev'), `${env}SHEET_MISSING_VALUE='No Data'\n`);
    const res = await cli(['deploy', '--env', 'dev']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Functions    deployed');
    expect(services()).toHaveLength(1);
    expect(services()[0]?.environments).toHaveLength(1);
    expect(services()[0]?.environments[0]?.variables.SHEET_MISSING_VALUE).toBe('No Data');
    expect(flows()).toHaveLength(1);
  });

  it('refuses to overwrite a flow edited in the Console until pulled or forced; flow pull brings it back with placeholders', async () => {
    const [flow] = flows();
    const edited = structuredClone(flow?.revisions.at(-1)?.definition) as { description?: string };
    edited.description = 'edited in the Console';
    mocks.server.consoleEdit(flow?.sid as string, { definition: edited, commitMessage: 'fix a typo' });
    const refused = await cli(['deploy', '--env', 'dev']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('was last changed outside sealed-survey deploy');
    expect(refused.stderr).toContain(`sealed-survey flow pull ${flow?.sid}`);
    expect(flows()[0]?.revisions).toHaveLength(2);

    const pulled = await cli(['flow', 'pull', 'whatsapp-survey', '--env', 'dev', '-o', 'flows/pulled.json']);
    expect(pulled.code).toBe(0);
    const file = JSON.parse(readFileSync(join(project, 'flows', 'pulled.json'), 'utf8')) as { description: string; states: Array<{ type: string; properties: Record<string, string> }> };
    expect(file.description).toBe('edited in the Console');
    const widgets = file.states.filter((w) => w.type === 'run-function');
    expect(widgets.map((w) => w.properties.service_sid)).toEqual(runFunctionPaths.map(() => PLACEHOLDER_SERVICE_SID));
    // Apart from the Console's edit, the pulled file is the repository's flow.
    expect({ ...file, description: undefined }).toEqual({ ...JSON.parse(readFileSync(flowFile, 'utf8')), description: undefined });
    rmSync(join(project, 'flows', 'pulled.json'));

    const forced = await cli(['deploy', '--env', 'dev', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('whatsapp-survey: updated');
    expect(flows()[0]?.revisions.at(-1)?.commitMessage).toContain(DEPLOY_MARKER);
  });

  it('flow pull refuses a definition that seems to hold a credential, naming where, not what', async () => {
    const [flow] = flows();
    const definition = structuredClone(flow?.revisions.at(-1)?.definition) as { states: Array<{ name: string; type: string; properties: Record<string, unknown> }> };
    const secret = 'f'.repeat(32);
    const first = definition.states.find((w) => w.type === 'send-message' || w.type === 'send-and-wait-for-reply');
    if (first) first.properties.body = `Token ${secret}`;
    mocks.server.consoleEdit(flow?.sid as string, { definition });
    const res = await cli(['flow', 'pull', flow?.sid as string, '--env', 'dev', '-o', 'flows/leaky.json']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${first?.name} → body: what looks like an auth token or API secret`);
    expect(res.stderr).not.toContain(secret);
    const missing = await cli(['flow', 'pull', 'no-such-flow', '--env', 'dev']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no flow of this account is called');
    // Put ours back for doctor.
    expect((await cli(['deploy', '--env', 'dev', '--force'])).code).toBe(0);
  });
});

describe('doctor', () => {
  it('passes every check on a good deployment, then names what broke and the fix', async () => {
    functions = await startTestFunctions({ SURVEY_PUBLIC_KEY: formatPublicKey(newSealedKeyPair().pair.publicRaw) });
    mkdirSync(join(project, 'assets'), { recursive: true });
    cpSync(join(project, 'build', 'assets', 'google-service-account.private.json'), join(project, 'assets', 'google-service-account.private.json'));
    const ok = await cli(['doctor', '--env', 'dev', '--number', SENDER, '--functions-url', functions.url]);
    expect(ok.stdout).not.toContain('FAIL');
    expect(ok.code).toBe(0);
    for (const line of ['/encrypt refuses an unsigned request: HTTP 403', '/publish refuses an unsigned request: HTTP 403', 'context under 3 KB', 'Sync queue: empty', 'deployed by sealed-survey', 'incoming messages go to the flow', 'sheet header']) expect(ok.stdout).toContain(line);

    mocks.server.consoleEdit(flows()[0]?.sid as string, { status: 'draft' });
    const bad = await cli(['doctor', '--env', 'dev', '--number', SENDER, '--functions-url', functions.url]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}flow whatsapp-survey: FW[0-9a-f]{32} is a draft\n {6}fix: run `sealed-survey deploy`/);
    expect(bad.stderr).toContain('1 check of');
  });

  it('answers missing credentials with exit 2 naming the variables', async () => {
    const res = await runCli('sealed-survey', ['doctor', '--env', 'dev'], { cwd: project, env: { TWILIO_API_URL: mocks.url } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('TWILIO_ACCOUNT_SID is not set');
  });
});
