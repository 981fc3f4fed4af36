// The one Twilio client (src/twilio/client.ts): credentials read as the Twilio
// CLI reads them, and the TWILIO_API_URL override proven on the wire, with the
// real `twilio` client and the real @twilio-labs/serverless-api against the
// local stand-in (the contract itself is checked through Prism in
// twilio-server.test.ts).

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioServer, type RunningTwilioServer } from '../src/dev/twilio-server.js';
import { ConfigError } from '../src/functions/config-error.js';
import { apiUrlOverride, serverlessClient, twilioClient, twilioCredentials, type TwilioCredentials } from '../src/twilio/client.js';

const hex = (n: number) => randomBytes(n).toString('hex');
const ACCOUNT_SID = `AC${hex(16)}`;
const AUTH_TOKEN = hex(16);
const API_KEY = `SK${hex(16)}`;
const API_SECRET = `secret${hex(13)}`;

let server: RunningTwilioServer;
/** Warnings the clients printed, per test. */
let warnings: string[] = [];
const warn = (line: string) => warnings.push(line);

beforeAll(async () => {
  server = await startTwilioServer({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    apiKeys: [{ sid: API_KEY, secret: API_SECRET }],
    phoneNumbers: [{ phoneNumber: '+15005550006' }],
    buildingFetches: 0,
  });
});

afterAll(async () => {
  await server?.stop();
});

const byToken: TwilioCredentials = { accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password: AUTH_TOKEN };
const overridden = () => ({ env: { TWILIO_API_URL: `${server.url}/` }, warn });
/** The products of the requests the stand-in saw from `from` on. */
const productsSince = (from: number) => [...new Set(server.requests().slice(from).map((r) => `${r.method} ${r.product}`))].sort();

/** The ConfigError `f` throws; its message must not quote any of `secrets`. */
function configError(f: () => unknown, secrets: readonly string[]): ConfigError {
  let thrown: unknown;
  try {
    f();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  const error = thrown as ConfigError;
  for (const s of secrets) expect(error.message).not.toContain(s);
  return error;
}

describe('twilioCredentials: the Twilio CLI variables', () => {
  it('prefers an API key and secret, and falls back to the auth token', () => {
    expect(twilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_API_KEY: API_KEY, TWILIO_API_SECRET: API_SECRET, TWILIO_AUTH_TOKEN: AUTH_TOKEN })).toEqual({
      accountSid: ACCOUNT_SID,
      username: API_KEY,
      password: API_SECRET,
    });
    expect(twilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_API_KEY: '' })).toEqual(byToken);
  });

  it('names every problem at once and the variable to fix, never a value', () => {
    const badSid = `AC${hex(15)}zz`;
    const badKey = `KS${hex(16)}`;
    const spaced = `${hex(8)} ${hex(8)}`;
    const error = configError(() => twilioCredentials({ TWILIO_ACCOUNT_SID: badSid, TWILIO_API_KEY: badKey, TWILIO_API_SECRET: spaced }), [badSid, badKey, spaced]);
    expect(error.configVariable).toBe('TWILIO_ACCOUNT_SID');
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(/^TWILIO_ACCOUNT_SID is not an Account SID/),
      expect.stringMatching(/^TWILIO_API_KEY is not an API key SID/),
      expect.stringMatching(/^TWILIO_API_SECRET has spaces or line breaks/),
    ]);
  });

  it('says what is missing: the account, the other half of a key, or any credential', () => {
    expect(configError(() => twilioCredentials({ TWILIO_AUTH_TOKEN: AUTH_TOKEN }), [AUTH_TOKEN]).message).toMatch(/^TWILIO_ACCOUNT_SID is not set/);
    const noSecret = configError(() => twilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_API_KEY: API_KEY }), [API_KEY]);
    expect([noSecret.configVariable, noSecret.message]).toEqual(['TWILIO_API_SECRET', expect.stringMatching(/^TWILIO_API_SECRET is not set/)]);
    const noKey = configError(() => twilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_API_SECRET: API_SECRET }), [API_SECRET]);
    expect(noKey.message).toMatch(/^TWILIO_API_KEY is not set/);
    const none = configError(() => twilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID }), []);
    expect(none.message).toBe('no Twilio credentials: set TWILIO_API_KEY and TWILIO_API_SECRET (preferred) or TWILIO_AUTH_TOKEN');
  });
});

describe('TWILIO_API_URL', () => {
  it('is a plain http(s) URL or unset', () => {
    expect(apiUrlOverride({})).toBeUndefined();
    expect(apiUrlOverride({ TWILIO_API_URL: '' })).toBeUndefined();
    expect(apiUrlOverride({ TWILIO_API_URL: 'http://127.0.0.1:4010//' })).toBe('http://127.0.0.1:4010');
    for (const bad of ['127.0.0.1:4010', 'ftp://host', 'http://user:pw@host', 'http://host/?x=1', 'http://host/#x']) {
      const error = configError(() => apiUrlOverride({ TWILIO_API_URL: bad }), ['pw']);
      expect(error.configVariable).toBe('TWILIO_API_URL');
    }
  });

  it('unset: the twilio client talks to Twilio, and nothing is printed', async () => {
    warnings = [];
    const client = await twilioClient(byToken, { env: {}, warn });
    expect([client.studio.baseUrl, client.serverless.baseUrl, client.api.baseUrl, client.messaging.baseUrl, client.sync.baseUrl]).toEqual([
      'https://studio.twilio.com',
      'https://serverless.twilio.com',
      'https://api.twilio.com',
      'https://messaging.twilio.com',
      'https://sync.twilio.com',
    ]);
    expect(warnings).toEqual([]);
  });

  it('set: every product of the twilio client goes to its prefix, TWILIO_REGION/EDGE notwithstanding, with one warning', async () => {
    warnings = [];
    const saved = { region: process.env.TWILIO_REGION, edge: process.env.TWILIO_EDGE };
    process.env.TWILIO_REGION = 'au1';
    process.env.TWILIO_EDGE = 'sydney';
    try {
      const client = await twilioClient(byToken, overridden());
      const from = server.requests().length;
      await client.api.v2010.accounts(ACCOUNT_SID).fetch();
      await client.incomingPhoneNumbers.list();
      await client.studio.v2.flows.list();
      await client.serverless.v1.services.list();
      await client.messaging.v1.services.list();
      await client.sync.v1.services.list();
      expect(productsSince(from)).toEqual(['GET api', 'GET messaging', 'GET serverless', 'GET studio', 'GET sync']);
      expect(server.requests().slice(from).every((r) => r.status === 200)).toBe(true);
    } finally {
      if (saved.region === undefined) delete process.env.TWILIO_REGION;
      else process.env.TWILIO_REGION = saved.region;
      if (saved.edge === undefined) delete process.env.TWILIO_EDGE;
      else process.env.TWILIO_EDGE = saved.edge;
    }
    expect(warnings).toEqual([`sealed-survey: TWILIO_API_URL is set: Twilio API calls go to ${server.url}/<product>, not to Twilio (development and tests only)`]);
  });

  it('set: serverless-api deploys to the stand-in, uploads included; a client made without it still targets Twilio', async () => {
    warnings = [];
    const client = await serverlessClient(byToken, overridden());
    const plain = await serverlessClient(byToken, { env: {}, warn });
    expect(warnings).toHaveLength(1);
    const from = server.requests().length;
    const result = await client.deployProject({
      username: ACCOUNT_SID,
      password: AUTH_TOKEN,
      serviceName: 'client-test',
      functionsEnv: '',
      env: {},
      pkgJson: {},
      runtime: 'node22',
      functions: [{ name: 'hello', path: '/hello', access: 'protected', content: 'exports.handler = (c, e, cb) => cb(null, "hi");' }],
      assets: [],
    });
    // Without the wrapped getApiUrl the upload would go to https://serverless-upload.twilio.com and the deploy would fail.
    expect(productsSince(from)).toEqual(['GET serverless', 'POST serverless', 'POST serverless-upload']);
    const deployed = server.serverless().find((s) => s.sid === result.serviceSid);
    expect(deployed?.functions[0]?.versions.map((v) => [v.path, v.visibility])).toEqual([['/hello', 'protected']]);

    expect(plain.getClient().defaults.options.prefixUrl).toBe('https://serverless.twilio.com/v1/');
    const { getApiUrl } = createRequire(import.meta.url)('@twilio-labs/serverless-api/dist/api/utils/api-client.js') as { getApiUrl: (config: object, product?: string) => string };
    expect(getApiUrl({}, 'serverless-upload')).toBe('https://serverless-upload.twilio.com/v1');
  });

  it('authenticates with an API key; a wrong secret is a Twilio-shaped 401', async () => {
    const key = twilioCredentials({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_API_KEY: API_KEY, TWILIO_API_SECRET: API_SECRET });
    const account = await (await twilioClient(key, overridden())).api.v2010.accounts(ACCOUNT_SID).fetch();
    expect(account.sid).toBe(ACCOUNT_SID);
    const wrong = await twilioClient({ ...key, password: `${API_SECRET}x` }, overridden());
    const error = await wrong.studio.v2.flows.list().then(
      () => expect.fail('expected a 401'),
      (e: unknown) => e as { status: number; code: number; moreInfo: string },
    );
    expect({ status: error.status, code: error.code, moreInfo: error.moreInfo }).toEqual({ status: 401, code: 20003, moreInfo: 'https://www.twilio.com/docs/errors/20003' });
  });
});
