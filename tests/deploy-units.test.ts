// deploy's local decisions, one by one: binding a flow to a deployment and
// back, the checks made before anything is written, and the fingerprint that
// makes a second deploy a no-op.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultFlowFiles } from '../src/cli/flow-files.js';
import { contextBytes } from '../src/deploy/context-size.js';
import { bindFlow, PLACEHOLDER_DOMAIN, PLACEHOLDER_ENVIRONMENT_SID, PLACEHOLDER_SERVICE_SID, unbindFlow, type Deployment } from '../src/deploy/flow-binding.js';
import { fingerprint } from '../src/deploy/inputs.js';
import { checkContext, checkUpload, checkVariables, functionVariables } from '../src/deploy/preflight.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { formatPublicKey, newSealedKeyPair } from '../src/keys/keys.js';

const flowFile = join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json');
const raw = JSON.parse(readFileSync(flowFile, 'utf8')) as Record<string, unknown>;
const sid = (prefix: string, n: number) => `${prefix}${String(n).padStart(32, 'a')}`;
const deployment: Deployment = {
  serviceSid: sid('ZS', 1),
  environmentSid: sid('ZE', 2),
  domainName: 'sealed-survey-4321-dev.twil.io',
  functions: new Map([
    ['/encrypt', sid('ZH', 3)],
    ['/publish', sid('ZH', 4)],
  ]),
};
/** The Function path each Run Function widget of the repository's flow calls, in order. */
const paths = (raw.states as Array<{ type: string; properties: Record<string, unknown> }>).filter((w) => w.type === 'run-function').map((w) => new URL(String(w.properties.url)).pathname);
const runFunctions = (definition: Record<string, unknown>) =>
  (definition.states as Array<{ name: string; type: string; properties: Record<string, unknown> }>).filter((w) => w.type === 'run-function');

const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-deploy-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('binding a flow to a deployment', () => {
  it('rewrites every Run Function widget that calls our Functions, and nothing else in the definition', () => {
    const bound = bindFlow(raw, deployment);
    const widgets = runFunctions(bound.definition);
    expect(paths).toContain('/encrypt');
    expect(widgets.map((w) => w.properties.url)).toEqual(paths.map((p) => `https://sealed-survey-4321-dev.twil.io${p}`));
    expect(widgets.map((w) => w.properties.function_sid)).toEqual(paths.map((p) => deployment.functions.get(p)));
    expect(widgets.every((w) => w.properties.service_sid === deployment.serviceSid && w.properties.environment_sid === deployment.environmentSid)).toBe(true);
    expect(bound.changes).toHaveLength(4 * paths.length);
    // The rest is byte for byte the file: only those four properties of two widgets differ.
    const strip = (d: Record<string, unknown>) => JSON.stringify(d, (k, v) => (['service_sid', 'environment_sid', 'function_sid', 'url'].includes(k) ? undefined : v));
    expect(strip(bound.definition)).toBe(strip(raw));
    // The input is untouched.
    expect(runFunctions(raw)[0]?.properties.service_sid).toBe(PLACEHOLDER_SERVICE_SID);
  });

  it('is idempotent, and unbinding gives back the repository\'s placeholders exactly', () => {
    const once = bindFlow(raw, deployment);
    expect(bindFlow(once.definition, deployment).changes).toEqual([]);
    const back = unbindFlow(once.definition, deployment);
    expect(back.definition).toEqual(raw);
    const widgets = runFunctions(back.definition);
    expect(widgets.map((w) => w.properties.environment_sid)).toEqual(paths.map(() => PLACEHOLDER_ENVIRONMENT_SID));
    expect(widgets.map((w) => new URL(String(w.properties.url)).host)).toEqual(paths.map(() => PLACEHOLDER_DOMAIN));
  });

  it('leaves a Function of another service alone, and names a widget calling a path the deployment lacks', () => {
    const copy = structuredClone(raw);
    const [encrypt, publish] = runFunctions(copy);
    Object.assign(encrypt?.properties ?? {}, { service_sid: sid('ZS', 9), url: 'https://other-1111-prod.twil.io/encrypt' });
    Object.assign(publish?.properties ?? {}, { url: `https://${PLACEHOLDER_DOMAIN}/export` });
    const bound = bindFlow(copy, deployment);
    expect(runFunctions(bound.definition)[0]?.properties.url).toBe('https://other-1111-prod.twil.io/encrypt');
    expect(bound.unknownPaths).toEqual([{ widget: publish?.name, path: '/export' }]);
  });
});

describe('binding the voice survey', () => {
  const voice = JSON.parse(readFileSync(join(PROJECT_ROOT, 'flows', 'voice-survey.json'), 'utf8')) as Record<string, unknown>;
  const redirects = (d: Record<string, unknown>) => (d.states as Array<{ type: string; properties: Record<string, unknown> }>).filter((w) => w.type === 'add-twiml-redirect').map((w) => String(w.properties.url));

  it('points its TwiML Redirects at the deployed voice-gather, query and Liquid kept, and back on pull', () => {
    const bound = bindFlow(voice, deployment);
    expect(redirects(voice)).toHaveLength(2);
    expect(redirects(bound.definition)).toEqual(redirects(voice).map((u) => u.replace(`https://${PLACEHOLDER_DOMAIN}/`, 'https://sealed-survey-4321-dev.twil.io/')));
    expect(redirects(bound.definition)[0]).toMatch(/^https:\/\/sealed-survey-4321-dev\.twil\.io\/voice-gather\?execution_sid=\{\{flow\.sid\}\}&flow_sid=\{\{flow\.flow_sid\}\}&field=national_id&/);
    expect(bindFlow(bound.definition, deployment).changes).toEqual([]);
    expect(unbindFlow(bound.definition, deployment).definition).toEqual(voice);
  });

  it('is not deployed or checked by default (one survey, one sheet per environment): it is given with --flow', () => {
    expect(defaultFlowFiles(PROJECT_ROOT)).toContain(join('flows', 'whatsapp-survey.json'));
    expect(defaultFlowFiles(PROJECT_ROOT)).not.toContain(join('flows', 'voice-survey.json'));
  });
});

describe('checks before anything is written', () => {
  const key = formatPublicKey(newSealedKeyPair().pair.publicRaw);

  it('never uploads the deploy credentials, and flags variables that must not be on Twilio', () => {
    const file = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_API_SECRET: 'shh', SURVEY_PUBLIC_KEY: key, SHEET_ID: 'x'.repeat(44) };
    expect(Object.keys(functionVariables(file))).toEqual(['SURVEY_PUBLIC_KEY', 'SHEET_ID']);
    expect(checkVariables(functionVariables(file), '.env.dev')).toEqual([]);
    const bad = checkVariables({ SURVEY_PUBLIC_KEY: key, SURVEY_SECRET_KEY: 'x', AUTH_TOKEN: 'y', SHEETS_API_URL: 'http://127.0.0.1:1', GOOGLE_SERVICE_ACCOUNT_JSON: '{}' }, '.env.dev');
    const text = bad.map((f) => `${f.problem} | ${f.fix}`).join('\n');
    for (const expected of ['both SURVEY_PUBLIC_KEY and SURVEY_SECRET_KEY', 'does not set SHEET_ID', 'sets AUTH_TOKEN', 'SHEETS_API_URL, a development override', 'GOOGLE_SERVICE_ACCOUNT_JSON']) expect(text).toContain(expected);
    expect(text).not.toContain('shh');
    expect(checkVariables({ SURVEY_PUBLIC_KEY: 'sspk1.nope', SHEET_ID: 'x' }, '.env.dev')[0]?.problem).toContain('SURVEY_PUBLIC_KEY in .env.dev is not valid');
  });

  it('measures the context as Twilio does and refuses one over 3 KB, with the size', () => {
    const account = { accountSid: sid('AC', 1), domainName: 'sealed-survey-4321-dev.twil.io', includeCredentials: true };
    const small = { SURVEY_PUBLIC_KEY: key, SHEET_ID: 'x'.repeat(44), PII_COLUMNS: 'full_name,national_id,respondent' };
    const bytes = contextBytes(small, account);
    expect(bytes).toBe(Buffer.byteLength(JSON.stringify({ ACCOUNT_SID: account.accountSid, AUTH_TOKEN: 'x'.repeat(32), DOMAIN_NAME: account.domainName, PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin', SERVICE_SID: `ZS${'0'.repeat(32)}`, ENVIRONMENT_SID: `ZE${'0'.repeat(32)}`, ...small })));
    expect(checkContext(small, account).findings).toEqual([]);
    const big = checkContext({ ...small, GOOGLE_KEY: 'k'.repeat(2600) }, account);
    expect(big.bytes).toBeGreaterThan(3072);
    expect(big.findings[0]?.problem).toContain(`${big.bytes} bytes`);
  });

  it('refuses env files, key files and private keys among the uploads, and a Google key that is not private', () => {
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const googleKey = JSON.stringify({ type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n' });
    mkdirSync(join(dir, 'assets'), { recursive: true });
    const ok = checkUpload([
      { path: write('encrypt.protected.js', 'module.exports = 1'), visibility: 'protected' },
      { path: write('google-service-account.private.json', googleKey), visibility: 'private' },
    ]);
    expect(ok).toEqual([]);
    const bad = checkUpload([
      { path: write('.env.prod', 'A=1'), visibility: 'public' },
      { path: write('survey-private.pem', 'x'), visibility: 'public' },
      { path: write('notes.txt', '-----BEGIN PRIVATE KEY-----\nx'), visibility: 'public' },
      { path: join(dir, 'google-service-account.private.json'), visibility: 'public' },
    ]);
    expect(bad.map((f) => f.problem).join('\n')).toMatch(/\.env\.prod is an env file[\s\S]*survey-private\.pem looks like a key file[\s\S]*notes\.txt contains a private key[\s\S]*would be deployed public/);
    expect(checkUpload([])[0]?.problem).toContain('google-service-account.private.json is missing');
  });

  it('fingerprints what the Functions run: the same inputs give the same print, any change another', () => {
    const base = {
      functions: [{ path: '/encrypt', name: 'encrypt', access: 'protected' as const, filePath: 'x', content: Buffer.from('a') }],
      assets: [],
      dependencies: { twilio: '1' },
      variables: { A: '1' },
    };
    expect(fingerprint(base)).toBe(fingerprint(structuredClone(base)));
    expect(fingerprint({ ...base, variables: { A: '2' } })).not.toBe(fingerprint(base));
    expect(fingerprint({ ...base, functions: [{ ...base.functions[0]!, content: Buffer.from('b') }] })).not.toBe(fingerprint(base));
    expect(fingerprint({ ...base, functions: [{ ...base.functions[0]!, access: 'public' as const }] })).not.toBe(fingerprint(base));
  });
});
