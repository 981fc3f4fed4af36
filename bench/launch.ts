// `launch` against the Twilio stand-in (in-process, no Prism): 10,000
// contacts at 200/s (the stand-in's account limit raised, as Twilio raises
// it on request) and 1,000 at 20/s (Twilio's own limit). Reported: the rate
// achieved against the setting (goal: within 5%), 429s met, peak memory of
// the launch process. Yardstick: the setting itself.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flowWebhook } from '../src/deploy/webhook.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { startTwilioServer } from '../src/dev/twilio-server.js';
import { setExecutionLimit } from '../src/dev/twilio/studio.js';
import { twilioClient } from '../src/twilio/client.js';
import { fmt, row, runSealedSurvey } from './stats.js';

const SENDER = '+15005550006';

async function one(contacts: number, rate: number, accountLimit: number | undefined): Promise<void> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  setExecutionLimit(accountSid, accountLimit);
  const server = await startTwilioServer({ accountSid, authToken, phoneNumbers: [{ phoneNumber: SENDER }] });
  const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-bench-launch-'));
  try {
    const env = { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_API_URL: server.url };
    const twilio = await twilioClient({ accountSid, username: accountSid, password: authToken }, { env, warn: () => {} });
    const definition = JSON.parse(readFileSync(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'), 'utf8'));
    const flow = await twilio.studio.v2.flows.create({ friendlyName: 'whatsapp-survey', status: 'published', definition });
    const [number] = await twilio.api.v2010.accounts(accountSid).incomingPhoneNumbers.list({ phoneNumber: SENDER });
    await twilio.api.v2010.accounts(accountSid).incomingPhoneNumbers(number?.sid as string).update({ smsUrl: flowWebhook(accountSid, flow.sid) });
    const lines = Array.from({ length: contacts }, (_, i) => `c${i},+2547${String(10_000_000 + i).padStart(8, '0')},Name${i}`);
    writeFileSync(join(dir, 'contacts.csv'), `caseid,phone,first_name\n${lines.join('\n')}\n`);
    const args = ['launch', 'contacts.csv', '--flow', 'whatsapp-survey', '--from', `whatsapp:${SENDER}`, '--param-columns', 'first_name', '--content-sid', `HX${'ab'.repeat(16)}`, '--rate', `${rate}/s`];
    const { code, out, err, wall, peakMb: peak } = await runSealedSurvey(args, dir, env);
    const executions = server.flows()[0]?.executions.length ?? 0;
    const achieved = Number(/at ([\d.]+)\/s/.exec(out)?.[1]);
    const throttled = Number(/throttled (\d+)/.exec(out)?.[1] ?? 0);
    console.log(`\nlaunch: ${contacts.toLocaleString('en-US')} contacts at --rate ${rate}/s (stand-in account limit ${accountLimit ?? 20}/s)`);
    if (code !== 0) console.log(`  exit ${code}: ${err.split('\n').slice(-5).join(' | ')}`);
    row('executions created', String(executions), `of ${contacts}`);
    row('achieved rate (sends/s, launch loop)', fmt(achieved, 1), `setting ${rate}/s, ${fmt((achieved / rate - 1) * 100, 1)}% off (goal within 5%)`);
    row('wall clock incl. start-up and checks (s)', fmt(wall, 1), `ideal ${fmt(contacts / rate, 1)} s`);
    row('429s met', String(throttled));
    row('peak RSS of the launch process (MB)', fmt(peak, 0));
  } finally {
    setExecutionLimit(accountSid, undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchLaunch(): Promise<void> {
  await one(10_000, 200, 1000);
  await one(1_000, 20, undefined);
}
