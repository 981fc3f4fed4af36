// The breaker Function as Twilio calls it: the real Functions server
// (twilio-run) receives Usage Trigger callbacks signed as Twilio signs them,
// fired by the Twilio stand-in (behind Prism) from triggers `breaker set`'s
// code created; the Function reaches the stand-in through TWILIO_API_URL.
// A main account (notify at 50%; hold the sender and end executions at 100%)
// and a subaccount (notify, then suspend with the parent's key).

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type TwilioSdk from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ENDED_PER_CALL } from '../src/breaker/actions.js';
import { parseLimit, type Period } from '../src/breaker/plan.js';
import { setBreaker } from '../src/breaker/triggers.js';
import { flowWebhook } from '../src/deploy/webhook.js';
import type { RunningFunctions } from '../src/dev/functions-server.js';
import { setExecutionLimit } from '../src/dev/twilio/studio.js';
import { twilioClient } from '../src/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, signedPost, startTestFunctions } from './helpers/functions.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

const SENDER = '+15005550006';
const OPERATOR = '+15005550123';
/** More respondents than one callback may end (MAX_ENDED_PER_CALL). */
const RESPONDENTS = Array.from({ length: MAX_ENDED_PER_CALL + 3 }, (_, i) => `+1500555${String(1000 + i).padStart(4, '0')}`);
const DEFINITION = { description: 'survey', states: [{ name: 'Trigger', type: 'trigger', properties: {}, transitions: [] }], initial_state: 'Trigger', flags: { allow_concurrent_calls: true } };

interface Stack {
  readonly mocks: TwilioMocks;
  readonly functions: RunningFunctions;
  readonly twilio: TwilioSdk.Twilio;
}

const stacks: Stack[] = [];
const hooks: Array<Record<string, unknown>> = [];
let hookServer: Server;
let hookUrl: string;

async function stack(options: Parameters<typeof startTwilioMocks>[0], env: Record<string, string>): Promise<Stack> {
  const mocks = await startTwilioMocks({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, phoneNumbers: [{ phoneNumber: SENDER }], ...options });
  const functions = await startTestFunctions({ TWILIO_API_URL: mocks.url, BREAKER_SENDER: `whatsapp:${SENDER}`, BREAKER_NOTIFY_TO: OPERATOR, ...env });
  const twilio = await twilioClient(mocks.credentials, { env: mocks.env, warn: () => {} });
  await setBreaker(twilio, ACCOUNT_SID, parseLimit('50USD'), 'daily' satisfies Period, `${functions.url}/breaker`);
  const made = { mocks, functions, twilio };
  stacks.push(made);
  return made;
}

/** Fires the breaker trigger of `level` as Twilio would, and posts its callback, signed, to the Function. */
async function fire(s: Stack, level: 50 | 80 | 100, spend: number, options: { params?: Record<string, string>; signWith?: string | null } = {}) {
  s.mocks.server.setSpend(spend);
  const trigger = s.mocks.server.usageTriggers().find((t) => t.friendlyName.startsWith(`sealed-survey breaker ${level}%`));
  const callback = s.mocks.server.fireUsageTrigger(trigger?.sid as string);
  expect(callback.url).toBe(`${s.functions.url}/breaker`);
  const params = options.params ?? callback.params;
  return { params, res: await signedPost(s.functions, '/breaker', params, options.signWith === undefined ? {} : { signWith: options.signWith }) };
}

const bodies = async (s: Stack) => Promise.all(s.mocks.server.messages().map(async (m) => (await s.twilio.api.v2010.accounts(ACCOUNT_SID).messages(m.sid).fetch()).body));

beforeAll(async () => {
  hookServer = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      hooks.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => hookServer.listen(0, '127.0.0.1', () => ok()));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  const violations = (await Promise.all(stacks.map((s) => s.mocks.violations()))).flat();
  const logs = stacks.map((s) => s.functions.output()).join('\n');
  await Promise.all(stacks.flatMap((s) => [s.mocks.stop(), s.functions.stop()]));
  await new Promise<void>((ok) => hookServer.close(() => ok()));
  setExecutionLimit(ACCOUNT_SID, undefined);
  expect(violations).toEqual([]);
  // The Functions' logs name levels and actions, never a number or a credential.
  expect(logs).toContain('breaker: level');
  for (const secret of [SENDER, OPERATOR, ...RESPONDENTS, AUTH_TOKEN]) expect(logs).not.toContain(secret);
  for (const secret of [SENDER, OPERATOR, ...RESPONDENTS].map((n) => n.slice(1))) expect(logs).not.toContain(secret);
});

describe('breaker Function in a main account', () => {
  let s: Stack;
  let flowSid: string;

  beforeAll(async () => {
    s = await stack({}, { BREAKER_NOTIFY_URL: hookUrl });
    const flow = await s.twilio.studio.v2.flows.create({ friendlyName: 'whatsapp-survey', status: 'published', definition: DEFINITION });
    flowSid = flow.sid;
    const [number] = s.mocks.server.phoneNumbers();
    await s.twilio.api.v2010.accounts(ACCOUNT_SID).incomingPhoneNumbers(number?.sid as string).update({ smsUrl: flowWebhook(ACCOUNT_SID, flowSid), smsMethod: 'POST' });
    // Twilio allows 20 new executions a second; the stand-in is told this account may start them faster.
    setExecutionLimit(ACCOUNT_SID, 10_000);
    for (const to of RESPONDENTS) await s.twilio.studio.v2.flows(flowSid).executions.create({ to, from: SENDER });
  }, 120_000);

  const active = () => s.mocks.server.flows()[0]?.executions.filter((e) => e.status === 'active').length;

  it('refuses an unsigned or forged callback with 403 and does nothing', async () => {
    for (const signWith of [null, randomBytes(16).toString('hex')]) {
      const { res } = await fire(s, 100, 60, { signWith });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('SIGNATURE_INVALID');
    }
    expect(active()).toBe(RESPONDENTS.length);
    expect(s.mocks.server.messages()).toEqual([]);
    expect(hooks).toEqual([]);
  });

  it('at 50% only notifies: an SMS to the operator from the sender, and the webhook', async () => {
    const { res } = await fire(s, 50, 26.5);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ level: 50, action: 'notified', notified: [{ kind: 'message', ok: true }, { kind: 'webhook', ok: true }] });
    const [message] = s.mocks.server.messages();
    expect(message).toMatchObject({ to: OPERATOR, from: SENDER, direction: 'outbound-api' });
    const [text] = await bodies(s);
    expect(text).toContain('spending is 26.50 USD, 50% of the daily limit of 50 USD');
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ event: 'sealed-survey.breaker', level: 50, currentValue: '26.50', limit: 50, currency: 'USD', period: 'daily', action: 'notified' });
    expect(JSON.stringify(hooks[0])).not.toContain(OPERATOR);
    expect(active()).toBe(RESPONDENTS.length);
    expect(s.mocks.server.phoneNumbers()[0]?.smsUrl).toBe(flowWebhook(ACCOUNT_SID, flowSid));
  });

  it('at 100% holds the sender, ends at most 100 active executions, then notifies with what it did and what is left; a retry finishes the work', async () => {
    const { res, params } = await fire(s, 100, 50.2);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ level: 100, action: 'stopped', senderHeld: true });
    const first = res.body as { executionsEnded: number; executionsActive: number };
    // Bounded per callback (10 s): never more than MAX_ENDED_PER_CALL, and what is left is counted, not lost.
    expect(first.executionsEnded).toBeGreaterThan(0);
    expect(first.executionsEnded).toBeLessThanOrEqual(MAX_ENDED_PER_CALL);
    expect(first.executionsEnded + first.executionsActive).toBe(RESPONDENTS.length);
    expect(active()).toBe(first.executionsActive);
    expect(s.mocks.server.phoneNumbers()[0]?.smsUrl).toMatch(/^http:\/\/localhost:\d+\/breaker$/);
    expect(s.mocks.server.messages()).toHaveLength(2);
    expect((await bodies(s)).some((b) => b.includes(`The survey is stopped: its sender now answers nothing, ${first.executionsEnded} executions ended, ${first.executionsActive} still active (end them with \`sealed-survey breaker stop\`)`))).toBe(true);
    expect(hooks.at(-1)).toMatchObject({ level: 100, action: 'stopped', executionsEnded: first.executionsEnded, executionsActive: first.executionsActive });

    // Twilio retrying the same callback ends what is left, and once nothing is, notifies no one again.
    let calls = 0;
    let last: { status: number; body: any } = res;
    while (last.body.action !== 'already stopped' && calls < 5) {
      last = await signedPost(s.functions, '/breaker', params);
      expect(last.status).toBe(200);
      calls++;
    }
    expect(last.body).toMatchObject({ level: 100, action: 'already stopped' });
    expect(active()).toBe(0);
    const notifications = s.mocks.server.messages().length;
    expect(notifications).toBe(1 + calls);
    expect(hooks).toHaveLength(notifications);
    const again = await signedPost(s.functions, '/breaker', params);
    expect(again.body.action).toBe('already stopped');
    expect(s.mocks.server.messages()).toHaveLength(notifications);
  });

  it('answers a held sender\'s incoming message with empty TwiML, and ignores callbacks of triggers that are not the breaker\'s', async () => {
    const inbound = await signedPost(s.functions, '/breaker', { MessageSid: `SM${randomBytes(16).toString('hex')}`, From: `whatsapp:${RESPONDENTS[0]}`, To: `whatsapp:${SENDER}`, Body: 'hello' });
    expect(inbound.status).toBe(200);
    expect(inbound.text).toBe('<Response/>');

    const other = await s.twilio.api.v2010.accounts(ACCOUNT_SID).usage.triggers.create({ usageCategory: 'totalprice', triggerBy: 'price', triggerValue: '10', callbackUrl: `${s.functions.url}/breaker`, friendlyName: 'someone else' });
    const callback = s.mocks.server.fireUsageTrigger(other.sid);
    const res = await signedPost(s.functions, '/breaker', callback.params);
    expect(res.status).toBe(200);
    expect(res.body.ignored).toBe('not a trigger of the breaker');

    const before = s.mocks.server.messages().length;
    const junk = await signedPost(s.functions, '/breaker', { UsageTriggerSid: 'UT1', CurrentValue: 'lots' });
    expect(junk.status).toBe(400);
    expect(junk.body.error.code).toBe('NOT_A_USAGE_TRIGGER_CALLBACK');
    expect(s.mocks.server.messages()).toHaveLength(before);
  });
});

describe('breaker Function in a subaccount', () => {
  const parent = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
  const key = { sid: `SK${randomBytes(16).toString('hex')}`, secret: randomBytes(16).toString('hex') };
  let s: Stack;

  beforeAll(async () => {
    s = await stack({ owner: { ...parent, apiKeys: [key] } }, { BREAKER_PARENT_API_KEY: key.sid, BREAKER_PARENT_API_SECRET: key.secret });
  }, 120_000);

  it('at 100% notifies first (a suspended account can no longer send), then suspends the subaccount with the parent\'s key', async () => {
    const { res, params } = await fire(s, 100, 51);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ level: 100, action: 'suspended', notified: [{ kind: 'message', ok: true }] });
    expect(s.mocks.server.account()).toEqual({ status: 'suspended', ownerAccountSid: parent.accountSid });
    const [message] = s.mocks.server.messages();
    expect(message).toMatchObject({ to: OPERATOR, from: SENDER });
    expect((await bodies(s))[0]).toContain(`Subaccount …${ACCOUNT_SID.slice(-4)} is being suspended now`);
    // The stand-in refuses a suspended account's messages, as Twilio blocks its SMS.
    await expect(s.twilio.api.v2010.accounts(ACCOUNT_SID).messages.create({ to: OPERATOR, from: SENDER, body: 'x' })).rejects.toMatchObject({ code: 20005 });

    const again = await signedPost(s.functions, '/breaker', params);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ action: 'already suspended' });
    expect(s.mocks.server.messages()).toHaveLength(1);
  });
});

describe('breaker Function misconfigured', () => {
  it('answers 500 CONFIG_INVALID naming the missing variable, before touching Twilio', async () => {
    const functions = await startTestFunctions({ TWILIO_API_URL: 'http://127.0.0.1:9', BREAKER_NOTIFY_TO: OPERATOR });
    try {
      const params = { AccountSid: ACCOUNT_SID, UsageTriggerSid: `UT${randomBytes(16).toString('hex')}`, CurrentValue: '50.00', TriggerValue: '50', UsageCategory: 'totalprice' };
      const res = await signedPost(functions, '/breaker', params);
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('CONFIG_INVALID');
      expect(res.body.error.message).toContain('BREAKER_SENDER is not set');
      expect(functions.output()).toContain('breaker: CONFIG_INVALID BREAKER_SENDER');
      expect(functions.output()).not.toContain(OPERATOR);
    } finally {
      await functions.stop();
    }
  });
});
