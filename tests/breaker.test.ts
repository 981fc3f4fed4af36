// sealed-survey breaker set/status/clear as an operator runs them: the built
// CLI in a project deployed by `sealed-survey deploy` (so the breaker Function
// exists on the stand-in), the Twilio stand-in behind Prism (every request
// checked against Twilio's OpenAPI documents). The account is a subaccount,
// so clear --resume has something to reactivate.

import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { startSheetsServer, testServiceAccount, type RunningSheetsServer } from '../src/dev/sheets-server.js';
import { formatPublicKey, newSealedKeyPair } from '../src/keys/keys.js';
import { sheetsClient } from '../src/sheets/client.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

const SENDER = '+15005550006';
const OPERATOR = '+15005550123';
const PARENT = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
const PARENT_KEY = { sid: `SK${randomBytes(16).toString('hex')}`, secret: randomBytes(16).toString('hex') };

let mocks: TwilioMocks;
let sheets: RunningSheetsServer;
let project: string;
const outputs: string[] = [];

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli('sealed-survey', args, { cwd: project, env: { ...mocks.env, SHEETS_API_URL: sheets.url, NO_COLOR: '1', ...env } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

const triggers = () => mocks.server.usageTriggers();

beforeAll(async () => {
  mocks = await startTwilioMocks({ phoneNumbers: [{ phoneNumber: SENDER }], buildingFetches: 0, owner: { ...PARENT, apiKeys: [PARENT_KEY] } });
  sheets = await startSheetsServer();
  const account = await testServiceAccount(sheets);
  const spreadsheetId = (await sheetsClient({ account, rootUrl: sheets.url }).spreadsheets.create({ requestBody: { sheets: [{ properties: { title: 'Responses' } }] } })).data.spreadsheetId as string;
  // A project as `npm ci` leaves it, with the breaker's variables in .env.dev.
  project = mkdtempSync(join(tmpdir(), 'sealed-survey-breaker-'));
  cpSync(join(PROJECT_ROOT, 'build'), join(project, 'build'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'), join(project, 'flows', 'whatsapp-survey.json'));
  cpSync(join(PROJECT_ROOT, 'flows', 'columns'), join(project, 'flows', 'columns'), { recursive: true });
  mkdirSync(join(project, 'build', 'assets'), { recursive: true });
  writeFileSync(join(project, 'build', 'assets', 'google-service-account.private.json'), JSON.stringify(account));
  const env = { SURVEY_PUBLIC_KEY: formatPublicKey(newSealedKeyPair().pair.publicRaw), SHEET_ID: spreadsheetId, BREAKER_SENDER: `whatsapp:${SENDER}`, BREAKER_NOTIFY_TO: OPERATOR };
  writeFileSync(join(project, '.env.dev'), Object.entries(env).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', { mode: 0o600 });
  const deployed = await cli(['deploy', '--env', 'dev', '--init-sheet', '--number', SENDER]);
  expect(deployed.code, deployed.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  const violations = mocks ? await mocks.violations() : [];
  await Promise.all([mocks?.stop(), sheets?.stop()]);
  if (project) rmSync(project, { recursive: true, force: true });
  // Every call was one Twilio's documents allow, and no secret or whole number reached the output.
  expect(violations).toEqual([]);
  const all = outputs.join('\n');
  for (const secret of [mocks.authToken, PARENT.authToken, PARENT_KEY.secret, SENDER, OPERATOR]) expect(all).not.toContain(secret);
});

describe('breaker set', () => {
  it('refuses a bad --limit or --period with exit 2, naming the problem and the form to use', async () => {
    for (const [args, expected] of [
      [['--limit', '50'], 'give an amount and its currency, e.g. 50USD'],
      [['--limit', 'fiftyUSD'], 'e.g. 50USD'],
      [['--limit', '0.5USD'], 'at least 1'],
      [['--limit', '50USD', '--period', 'weekly'], 'must be one of daily, monthly, yearly, alltime'],
      [[], "required option '--limit <amount>'"],
    ] as const) {
      const res = await cli(['breaker', 'set', ...args]);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain(expected);
    }
    expect(triggers()).toEqual([]);
  });

  it('refuses a limit in another currency than the account\'s, and a service without the breaker Function', async () => {
    const eur = await cli(['breaker', 'set', '--limit', '50EUR']);
    expect(eur.code).toBe(2);
    expect(eur.stderr).toContain("the account's prices are in USD");
    expect(eur.stderr).toContain('--limit 50USD');
    const other = await cli(['breaker', 'set', '--limit', '50USD', '--service', 'another']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('the breaker Function is not deployed');
    expect(triggers()).toEqual([]);
  });

  it('creates three price triggers on totalprice at 50, 80 and 100% calling the deployed Function, and running it again adds nothing', async () => {
    const res = await cli(['breaker', 'set', '--limit', '50USD', '--period', 'daily']);
    expect(res.code, res.stderr).toBe(0);
    const domain = mocks.server.serverless()[0]?.environments[0]?.domainName;
    expect(domain).toBeTruthy();
    const made = triggers();
    expect(made.map((t) => [t.friendlyName, t.triggerValue]).sort()).toEqual([
      ['sealed-survey breaker 100% of 50 USD daily', '50'],
      ['sealed-survey breaker 50% of 50 USD daily', '25'],
      ['sealed-survey breaker 80% of 50 USD daily', '40'],
    ]);
    for (const t of made) {
      expect(t).toMatchObject({ usageCategory: 'totalprice', triggerBy: 'price', recurring: 'daily', callbackUrl: `https://${domain}/breaker`, callbackMethod: 'POST' });
    }
    expect(res.stdout).toContain('on subaccount');
    expect(res.stdout).toContain('suspends the subaccount');
    expect(res.stderr).toContain('BREAKER_PARENT_API_KEY/BREAKER_PARENT_API_SECRET are not deployed');

    const again = await cli(['breaker', 'set', '--limit', '50USD']);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/unchanged/g)).toHaveLength(3);
    expect(triggers().map((t) => t.sid).sort()).toEqual(made.map((t) => t.sid).sort());

    // A new limit replaces the triggers (Twilio cannot change a trigger's value), still three.
    const raised = await cli(['breaker', 'set', '--limit', '60USD', '--period', 'monthly']);
    expect(raised.code).toBe(0);
    expect(raised.stdout.match(/replaced/g)).toHaveLength(3);
    expect(triggers().map((t) => `${t.triggerValue} ${t.recurring}`).sort()).toEqual(['30 monthly', '48 monthly', '60 monthly']);
    expect(triggers().some((t) => made.some((m) => m.sid === t.sid))).toBe(false);
  });
});

describe('breaker status and clear', () => {
  it('status lists the triggers, the account and where the sender points', async () => {
    const res = await cli(['breaker', 'status']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`account  ${mocks.accountSid}: subaccount, ACTIVE`);
    for (const level of ['50%', '80%', '100%']) expect(res.stdout).toMatch(new RegExp(`trigger  ${level}\\s+at \\d+ USD, now 0.00, monthly, last fired never`));
    expect(res.stdout).toMatch(/sender   …0006 \(phone number PN[0-9a-f]{32}\): wired to flow FW[0-9a-f]{32}/);
    expect(res.stdout).toContain('executions 0 active');
  });

  it('status shows a fired trigger and a suspended subaccount; clear deletes the triggers, and only --resume reactivates', async () => {
    const [fired] = triggers();
    mocks.server.fireUsageTrigger(fired?.sid as string);
    mocks.server.setAccountStatus('suspended');
    const status = await cli(['breaker', 'status']);
    expect(status.stdout).toContain('subaccount, SUSPENDED');
    expect(status.stdout).not.toContain('last fired never\n'.repeat(3));
    expect(status.stdout).toMatch(/last fired \d{4}-\d{2}-\d{2}T/);

    const cleared = await cli(['breaker', 'clear']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toContain('removed 3 breaker triggers');
    expect(cleared.stdout).toContain('is still SUSPENDED: add --resume');
    expect(triggers()).toEqual([]);
    expect(mocks.server.account().status).toBe('suspended');

    const noKey = await cli(['breaker', 'clear', '--resume']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('set BREAKER_PARENT_API_KEY and BREAKER_PARENT_API_SECRET');

    const resumed = await cli(['breaker', 'clear', '--resume'], { BREAKER_PARENT_API_KEY: PARENT_KEY.sid, BREAKER_PARENT_API_SECRET: PARENT_KEY.secret });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('removed 0 breaker triggers');
    expect(resumed.stdout).toContain('reactivated');
    expect(mocks.server.account().status).toBe('active');
    expect((await cli(['breaker', 'status'])).stdout).toContain('triggers none: no breaker is set');
  });

  it('stop holds the sender and ends every active execution; status and clear then point at deploy to rewire it', async () => {
    const { twilioClient } = await import('../src/twilio/client.js');
    const twilio = await twilioClient(mocks.credentials, { env: mocks.env, warn: () => {} });
    const flow = mocks.server.flows()[0];
    for (const to of ['+15005550201', '+15005550202']) await twilio.studio.v2.flows(flow?.sid as string).executions.create({ to, from: SENDER });
    const domain = mocks.server.serverless()[0]?.environments[0]?.domainName;

    const stopped = await cli(['breaker', 'stop']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('now HELD by the breaker');
    expect(stopped.stdout).toContain('ended    2 executions');
    expect(mocks.server.flows()[0]?.executions.every((e) => e.status === 'ended')).toBe(true);
    expect(mocks.server.phoneNumbers()[0]?.smsUrl).toBe(`https://${domain}/breaker`);

    const again = await cli(['breaker', 'stop']);
    expect(again.stdout).toContain('was already held');
    expect(again.stdout).toContain('ended    0 executions');

    expect((await cli(['breaker', 'status'])).stdout).toContain('HELD by the breaker');
    const res = await cli(['breaker', 'clear']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('sealed-survey deploy --env dev --number <the sender …0006>');
    // Rewiring is deploy's job: clear leaves the sender held.
    expect(mocks.server.phoneNumbers()[0]?.smsUrl).toBe(`https://${domain}/breaker`);
  });

  it('--help names the subcommands, examples and exit codes', async () => {
    const res = await cli(['breaker', 'set', '--help']);
    expect(res.code).toBe(0);
    for (const expected of ['--limit <amount>', 'BREAKER_NOTIFY_TO', 'Examples:', 'Exit status: 0 done, 1 failed']) expect(res.stdout).toContain(expected);
  });
});
