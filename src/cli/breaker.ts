// sealed-survey breaker set | status | clear: the spending circuit breaker's
// Usage Triggers, pointed at the deployed breaker Function, and what it did.

import type { Command } from 'commander';
import type TwilioSdk from 'twilio';
import { accountFacts, activeExecutions, endExecutions, surveyFlows } from '../breaker/actions.js';
import { BREAKER_PATH, LimitError, type Limit, parseLimit, parsePeriod, type Period } from '../breaker/plan.js';
import { accountCurrency, breakerTriggers, clearBreaker, setBreaker } from '../breaker/triggers.js';
import { readExisting } from '../deploy/deploy.js';
import { flowWebhook, pointSender, senderNumber, senderOwner } from '../deploy/webhook.js';
import { maskNumber } from '../mask.js';
import { twilioClient, type TwilioCredentials } from '../twilio/client.js';
import { EXIT_USAGE, plural, UserError } from './common.js';
import { warn } from './terminal.js';
import { credentialsFor, envFileValues } from './twilio-session.js';

interface CommonOptions {
  env: string;
  service: string;
}

const EXIT_CODES = 'Exit status: 0 done, 1 failed (Twilio refused, or the breaker Function is not deployed), 2 bad options, 130 interrupted.';

interface Session {
  readonly credentials: TwilioCredentials;
  readonly twilio: TwilioSdk.Twilio;
  /** The deployed breaker Function's URL, and the deployed environment's variables. */
  readonly breakerUrl: string | undefined;
  readonly variables: ReadonlyMap<string, string>;
}

async function session(opts: CommonOptions): Promise<Session> {
  const credentials = credentialsFor(opts.env);
  const twilio = await twilioClient(credentials);
  const existing = await readExisting(twilio, opts.service, opts.env);
  const breakerUrl = existing.domainName && existing.functions.has(BREAKER_PATH) ? `https://${existing.domainName}${BREAKER_PATH}` : undefined;
  return { credentials, twilio, breakerUrl, variables: existing.variables };
}

/** Twilio's refusals, said plainly: the status and Twilio's error code; never a request's content. */
function twilioError(error: unknown): unknown {
  const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };
  if (typeof status !== 'number') return error;
  if (status === 401) return new UserError('Twilio refused the credentials (HTTP 401): check TWILIO_ACCOUNT_SID and TWILIO_API_KEY/TWILIO_API_SECRET (or TWILIO_AUTH_TOKEN)');
  return new UserError(`Twilio answered HTTP ${status}${typeof code === 'number' ? ` (Twilio error ${code}: https://www.twilio.com/docs/errors/${code})` : ''}; run the command again`);
}

const guarded = <A extends unknown[]>(run: (...args: A) => Promise<void>) => async (...args: A) => {
  try {
    await run(...args);
  } catch (error) {
    throw error instanceof UserError ? error : twilioError(error);
  }
};

function usage(run: () => { limit: Limit; period: Period }): { limit: Limit; period: Period } {
  try {
    return run();
  } catch (error) {
    if (error instanceof LimitError) throw new UserError(error.message, EXIT_USAGE);
    throw error;
  }
}

/** Where the sender's incoming messages go now, in words. */
async function senderState(s: Session): Promise<string> {
  const number = senderNumber(s.variables.get('BREAKER_SENDER') ?? '');
  if (!number) return 'unknown (BREAKER_SENDER is not deployed)';
  const owner = await senderOwner(s.twilio, number);
  if (!owner) return `${maskNumber(number)} is not in this account`;
  const where = owner.url === undefined ? 'answers nothing (no webhook)' : owner.url === s.breakerUrl ? 'HELD by the breaker (incoming messages get no answer)' : owner.url.startsWith(flowWebhook(s.credentials.accountSid, '')) ? `wired to flow ${owner.url.slice(-34)}` : 'points at another URL';
  return `${maskNumber(number)} (${owner.owner} ${owner.sid}): ${where}`;
}

/** The options every subcommand takes: which environment's credentials and deployment. */
function target(command: Command, envHelp = 'the environment: credentials from .env.<name>'): Command {
  return command.option('--env <name>', envHelp, 'dev').option('--service <name>', 'the Functions service\'s unique name', 'sealed-survey');
}

const flowsOf = (s: Session) => s.variables.get('BREAKER_FLOWS')?.split(',').map((f) => f.trim()).filter((f) => f !== '');

function addSet(breaker: Command): void {
  const set = breaker
    .command('set')
    .description('create (or bring up to date) the Usage Triggers at 50, 80 and 100% of a spending limit, calling the deployed breaker Function')
    .requiredOption('--limit <amount>', 'the limit with its currency, which must be the account\'s: 50USD, 120.50EUR')
    .option('--period <period>', 'the period the spend is counted over, in GMT: daily, monthly, yearly or alltime', 'daily');
  target(set, 'the environment: credentials and BREAKER_* variables from .env.<name>')
    .addHelpText(
      'after',
      `
The breaker Function must be deployed first, with its variables in
.env.<env> (deploy uploads them):
  BREAKER_SENDER      the survey's sender, as given to deploy --number
  BREAKER_NOTIFY_TO   an operator's number (+…: SMS from the sender's number;
                      whatsapp:+… needs an open 24-hour window, error 63016)
  BREAKER_NOTIFY_URL  and/or a webhook (https) that gets a JSON POST
  BREAKER_FLOWS       optional: the flows to stop (SIDs or names; default all)
  BREAKER_PARENT_API_KEY, BREAKER_PARENT_API_SECRET
                      in a subaccount: an API key of the parent account, the
                      only credentials Twilio lets suspend a subaccount
Running set again changes only what differs; it never adds duplicates.

${EXIT_CODES}

Examples:
  $ sealed-survey breaker set --limit 50USD
  $ sealed-survey breaker set --limit 400USD --period monthly --env prod
`,
    )
    .action(
      guarded(async (opts: CommonOptions & { limit: string; period: string }) => {
        const { limit, period } = usage(() => ({ limit: parseLimit(opts.limit), period: parsePeriod(opts.period) }));
        const s = await session(opts);
        if (!s.breakerUrl) throw new UserError(`the breaker Function is not deployed in the "${opts.env}" environment of the service "${opts.service}": add the BREAKER_* variables to .env.${opts.env} and run \`sealed-survey deploy --env ${opts.env}\` first (see --help)`);
        const missing = [...(s.variables.has('BREAKER_SENDER') ? [] : ['BREAKER_SENDER']), ...(s.variables.has('BREAKER_NOTIFY_TO') || s.variables.has('BREAKER_NOTIFY_URL') ? [] : ['BREAKER_NOTIFY_TO or BREAKER_NOTIFY_URL'])];
        if (missing.length > 0) throw new UserError(`the deployed breaker Function lacks ${missing.join(' and ')}: without them it cannot stop the survey or tell anyone. Add them to .env.${opts.env}, run \`sealed-survey deploy --env ${opts.env}\`, then set again (see --help)`);
        const currency = await accountCurrency(s.twilio, s.credentials.accountSid);
        if (currency !== undefined && currency !== limit.currency) throw new UserError(`the account's prices are in ${currency}, and Usage Triggers count in that currency: give the limit in ${currency}, e.g. --limit ${limit.amount}${currency}`, EXIT_USAGE);
        if (currency === undefined) warn(`Twilio did not say the account's currency; the limit is taken as ${limit.currency}: check it in the Console (Billing)`);
        const account = await accountFacts(s.twilio, s.credentials.accountSid);
        const { changes, removed } = await setBreaker(s.twilio, s.credentials.accountSid, limit, period, s.breakerUrl);
        const lines = [
          `Breaker set: ${limit.amount} ${limit.currency} ${period} on ${account.parentSid ? 'subaccount' : 'main account'} ${account.sid}`,
          ...changes.map((c) => `  ${`${c.level}%`.padEnd(5)} at ${c.value} ${limit.currency}  ${c.action.padEnd(9)} ${c.sid}`),
          `  calls ${s.breakerUrl}`,
          account.parentSid
            ? '  at 100%: notifies, then suspends the subaccount'
            : '  at 100%: holds the sender, ends the survey\'s active executions, notifies (a main account cannot be suspended)',
        ];
        if (removed > 0) lines.push(`  removed ${plural(removed, 'other breaker trigger')}`);
        process.stdout.write(`${lines.join('\n')}\n`);
        if (account.parentSid && !s.variables.has('BREAKER_PARENT_API_KEY')) warn('this is a subaccount, but BREAKER_PARENT_API_KEY/BREAKER_PARENT_API_SECRET are not deployed: at 100% the breaker can only stop the survey inside it, not suspend it');
        if (!account.parentSid) warn('in a main account, launches already running on your machine are not stopped: run surveys in a subaccount, which the breaker suspends');
        warn('Twilio evaluates triggers about once a minute, and usage can take longer to count: spending can pass the limit before the breaker trips, so leave a margin');
      }),
    );
}

function addStatus(breaker: Command): void {
  target(breaker.command('status').description('show the breaker\'s triggers, the account\'s status, where the sender points and the executions still active'))
    .addHelpText('after', `\n${EXIT_CODES}\n\nExamples:\n  $ sealed-survey breaker status\n  $ sealed-survey breaker status --env prod\n`)
    .action(
      guarded(async (opts: CommonOptions) => {
        const s = await session(opts);
        const triggers = await breakerTriggers(s.twilio, s.credentials.accountSid);
        const account = await accountFacts(s.twilio, s.credentials.accountSid);
        const lines = [`account  ${account.sid}: ${account.parentSid ? 'subaccount' : 'main account'}, ${account.status.toUpperCase()}`];
        if (triggers.length === 0) lines.push('triggers none: no breaker is set (sealed-survey breaker set --limit 50USD)');
        for (const t of triggers) {
          const what = t.plan ? `${t.plan.level}%`.padEnd(5) : '?    ';
          const currency = t.plan?.limit.currency ?? '';
          const pointed = t.callbackUrl === s.breakerUrl ? '' : '  (calls another URL: run breaker set again)';
          lines.push(`trigger  ${what} at ${t.triggerValue} ${currency}, now ${t.currentValue}, ${t.recurring}, last fired ${t.dateFired ? t.dateFired.toISOString() : 'never'}  ${t.sid}${pointed}`);
        }
        const sender = await senderState(s);
        lines.push(`sender   ${sender}`);
        if (account.status === 'active') {
          const active = await activeExecutions(s.twilio, await surveyFlows(s.twilio, flowsOf(s)));
          lines.push(`executions ${active.length} active${active.length > 0 && sender.includes('HELD') ? ' (the breaker stopped the survey: end them with `sealed-survey breaker stop`)' : ''}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}

function addClear(breaker: Command): void {
  target(breaker.command('clear').description('delete the breaker\'s triggers; with --resume also reactivate a subaccount it suspended'))
    .option('--resume', 'reactivate the suspended subaccount (with BREAKER_PARENT_API_KEY/SECRET from the environment or .env.<env>)')
    .addHelpText(
      'after',
      `
A sender the breaker held stays held: pointing it back at the flow is
deploy's job (sealed-survey deploy --env <env> --number <sender>), as the
command prints. Set the breaker again afterwards.

${EXIT_CODES}

Examples:
  $ sealed-survey breaker clear
  $ sealed-survey breaker clear --resume --env prod
`,
    )
    .action(
      guarded(async (opts: CommonOptions & { resume?: boolean }) => {
        const s = await session(opts);
        const removed = await clearBreaker(s.twilio, s.credentials.accountSid);
        const lines = [`removed ${plural(removed, 'breaker trigger')}`];
        const account = await accountFacts(s.twilio, s.credentials.accountSid);
        if (account.status === 'suspended' && account.parentSid) {
          if (!opts.resume) lines.push(`subaccount ${account.sid} is still SUSPENDED: add --resume to reactivate it`);
          else {
            const values = { ...envFileValues(opts.env), ...process.env };
            const key = values.BREAKER_PARENT_API_KEY;
            const secret = values.BREAKER_PARENT_API_SECRET;
            if (!key || !secret) throw new UserError(`reactivating a subaccount takes its parent's credentials: set BREAKER_PARENT_API_KEY and BREAKER_PARENT_API_SECRET (an API key of ${account.parentSid}) in the environment or .env.${opts.env}, or reactivate it in the Console (parent account → Subaccounts)`, EXIT_USAGE);
            const parent = await twilioClient({ accountSid: account.parentSid, username: key, password: secret });
            await parent.api.v2010.accounts(account.sid).update({ status: 'active' });
            lines.push(`subaccount ${account.sid} reactivated`);
          }
        }
        const sender = await senderState(s);
        if (sender.includes('HELD')) {
          const number = senderNumber(s.variables.get('BREAKER_SENDER') ?? '') as string;
          lines.push(`sender   ${sender}`, `         point it back at the flow: sealed-survey deploy --env ${opts.env} --number <the sender ${maskNumber(number)}>`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}

function addStop(breaker: Command): void {
  target(breaker.command('stop').description('stop the survey now, as the breaker does at 100% in a main account: hold the sender and end every active execution of its flows'))
    .addHelpText(
      'after',
      `
The breaker Function ends at most 100 executions per callback (it has 10 s);
stop ends them all, and also works without any trigger. Resume as after the
breaker: sealed-survey deploy --env <env> --number <sender>.

${EXIT_CODES}

Examples:
  $ sealed-survey breaker stop --env prod
`,
    )
    .action(
      guarded(async (opts: CommonOptions) => {
        const s = await session(opts);
        if (!s.breakerUrl) throw new UserError(`the breaker Function is not deployed in the "${opts.env}" environment of the service "${opts.service}": run \`sealed-survey deploy --env ${opts.env}\` first`);
        const number = senderNumber(s.variables.get('BREAKER_SENDER') ?? '');
        if (!number) throw new UserError(`the deployed breaker Function has no BREAKER_SENDER: add it to .env.${opts.env} and deploy again`);
        const held = await pointSender(s.twilio, number, s.breakerUrl, false);
        const { ended, active } = await endExecutions(s.twilio, await surveyFlows(s.twilio, flowsOf(s)), { max: Number.POSITIVE_INFINITY });
        const lines = [`sender   ${maskNumber(number)} (${held.owner} ${held.sid}): ${held.changed ? 'now HELD by the breaker' : 'was already held by the breaker'}`, `ended    ${plural(ended, 'execution')}`];
        process.stdout.write(`${lines.join('\n')}\n`);
        if (active > 0) throw new UserError(`${plural(active, 'execution')} still active: run stop again`);
      }),
    );
}

export function addBreaker(program: Command): void {
  const breaker = program
    .command('breaker')
    .description('the spending circuit breaker: Usage Triggers that notify at 50/80% of a limit and stop the survey at 100%')
    .addHelpText('after', `\nExamples:\n  $ sealed-survey breaker set --limit 50USD --period daily\n  $ sealed-survey breaker status\n  $ sealed-survey breaker stop\n  $ sealed-survey breaker clear --resume\n\n${EXIT_CODES}\n`);
  addSet(breaker);
  addStatus(breaker);
  addClear(breaker);
  addStop(breaker);
}
