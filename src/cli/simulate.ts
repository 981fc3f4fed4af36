import { join } from 'node:path';
import type { Command } from 'commander';
import { FAULT_KINDS } from '../dev/sheets-server.js';
import { startLocalStack, type LocalStack } from '../dev/stack.js';
import { PROJECT_ROOT, startFunctions, type RunningFunctions } from '../dev/functions-server.js';
import { readEnvFile } from './env-file.js';
import { piiAnswerWidgets } from '../flow/columns.js';
import { readFlow, takesOnlyCalls, type FlowDefinition } from '../flow/definition.js';
import { readStubs } from '../flow/stubs.js';
import { GeneratedChat, readScript, rng, ScriptedChat, triggerOf } from '../flow/respondents.js';
import { TerminalChat } from '../flow/terminal-chat.js';
import { formatSummary, simulate, type Job } from '../flow/simulate.js';
import { EXIT_FAILURE, EXIT_USAGE, plural, stopSignal, UserError } from './common.js';
import { ctrlCInterrupts } from './terminal.js';

interface SimulateOptions {
  answers?: string;
  respondents?: string;
  concurrency: string;
  seed: string;
  transcript?: string;
  functionsUrl?: string;
  keys: string;
  envFile?: string;
  faultRate: string;
  stubs?: string;
  liveHttp?: boolean;
  subflow: string[];
}

/** --subflow NAME=FILE, repeated: NAME is the run-subflow widget's name or its flow_sid. */
function subflowsOf(values: readonly string[]): Map<string, FlowDefinition> {
  const subflows = new Map<string, FlowDefinition>();
  for (const v of values) {
    const at = v.indexOf('=');
    if (at < 1 || at === v.length - 1) throw new UserError(`--subflow takes NAME=FILE (NAME: the run-subflow widget's name or flow_sid), e.g. --subflow ask_language=flows/language.json; got "${v}"`, EXIT_USAGE);
    subflows.set(v.slice(0, at), readFlow(v.slice(at + 1)));
  }
  return subflows;
}

function count(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UserError(`${flag} must be a whole number from 1 to ${max}`, EXIT_USAGE);
  return n;
}

export function addSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run a Studio flow locally: its widgets, Liquid and transitions, against the real local Functions signed as Twilio signs')
    .argument('<flow.json>', 'a flow exported from Studio')
    .option('--answers <file>', 'scripted respondents: [{"from", "trigger"?, "message"?, "data"?, "parameters"?, "replies": [...]}] ("<timeout>" = no answer)')
    .option('--respondents <n>', 'generated respondents, answers drawn from the flow\'s own choices (some invalid, some silent)')
    .option('--concurrency <n>', 'executions at once', '10')
    .option('--seed <n>', 'seed for generated respondents', '1')
    .option('--transcript <dir>', 'write each execution\'s chat to <dir>/<execution sid>.txt (it holds what respondents typed: keep it private)')
    .option('--functions-url <url>', 'use Functions already running (sign with AUTH_TOKEN from the environment) instead of starting them')
    .option('--env-file <file>', 'the Functions\' variables (default ./.env if present); with SHEET_ID set, your sheet and keys are used instead of the local ones')
    .option('--keys <dir>', 'demo keys for the local Functions (created if absent)', join(PROJECT_ROOT, '.demo', 'keys'))
    .option('--fault-rate <r>', 'inject this share of failures (429/5xx/resets/lost answers) into the local Sheets server', '0')
    .option('--stubs <file>', 'answers for HTTP requests and other Run Functions, by URL: {"https://api.example.org/x": {"status": 200, "body": {...}}}')
    .option('--live-http', 'make HTTP requests and call other Run Functions for real (with the simulated answers!) instead of stubbing them')
    .option('--subflow <name=file>', 'run this flow file for the run-subflow widget NAME (its name or flow_sid); repeatable; others are stubbed', (v: string, all: string[]) => [...all, v], [] as string[])
    .addHelpText(
      'after',
      `
Without --answers or --respondents you chat with the flow yourself (type /timeout
to stay silent until the widget's time-out). Unless --functions-url is given, the
local Functions are started and stopped at the end: with your .env when it sets
SHEET_ID (your sheet, your keys), otherwise with demo keys, a local Sheets server
(a sheet laid out for the flow) and a Sync stand-in.
Offline by default: HTTP requests and Run Functions that are not this
project's Functions get a stub answer (200 and {} unless --stubs maps the URL),
and the transcript says so. Triggers: message, rest, conversation, call and
parent (a subflow run with "parameters"), per respondent in --answers; on a
call, a reply of digits (and * #) is keys pressed, other text is speech,
<hangup> hangs up; an outgoing call is <no-answer>, <busy>, or picked up.
Widgets: trigger, send-message, send-and-wait-for-reply, split-based-on,
set-variables, run-function, make-http-request, run-subflow, say-play,
gather-input-on-call, record-voicemail, connect-call-to, make-outgoing-call-v2,
add-twiml-redirect to this project's Functions (their TwiML is played: the
voice survey's voice-gather / voice-answer); send-to-flex, send-to-auto-pilot
and a TwiML redirect elsewhere end the execution as handed off; any other
type, or a trigger the flow does not route, fails the execution.
The summary counts executions by outcome (completed, handed off, failed), how
many publish stored, and where they ended.
Exit status: 0 when no execution failed, 1 when one did (each reason is listed
with its count: the Function's status, code and message, a time-out, a widget
it cannot run), 2 wrong usage, 130 Ctrl-C.

Examples:
  $ sealed-survey simulate flows/whatsapp-survey.json
  $ sealed-survey simulate flows/whatsapp-survey.json --answers flows/answers/demo.json --transcript out/
  $ sealed-survey simulate flows/whatsapp-survey.json --respondents 200 --concurrency 20 --fault-rate 0.3
  $ sealed-survey simulate flows/voice-survey.json --answers flows/answers/voice-demo.json
`,
    )
    .action(async (file: string, opts: SimulateOptions) => {
      const flow = readFlow(file);
      const stubs = opts.stubs ? readStubs(opts.stubs) : undefined;
      const subflows = subflowsOf(opts.subflow);
      if (stubs && opts.liveHttp) throw new UserError('give --stubs or --live-http, not both', EXIT_USAGE);
      const concurrency = count(opts.concurrency, '--concurrency', 1000);
      const faultRate = Number(opts.faultRate);
      if (!(faultRate >= 0 && faultRate <= 1)) throw new UserError('--fault-rate must be a share from 0 to 1, e.g. 0.3', EXIT_USAGE);
      if (opts.answers && opts.respondents) throw new UserError('give --answers or --respondents, not both', EXIT_USAGE);
      const interactive = !opts.answers && !opts.respondents;
      if (interactive && !process.stdin.isTTY) throw new UserError('no terminal to chat in: give --answers <file> or --respondents <n>', EXIT_USAGE);

      let jobs: Job[];
      let terminal: TerminalChat | undefined;
      // A flow that takes calls but not messages (the voice survey) is called instead.
      const byCall = takesOnlyCalls(flow);
      if (opts.answers) {
        jobs = readScript(opts.answers).map((r) => ({ trigger: triggerOf(r), chat: new ScriptedChat(r.replies) }));
      } else if (opts.respondents) {
        const random = rng(count(opts.seed, '--seed', 2 ** 31));
        const piiWidgets = piiAnswerWidgets(flow);
        jobs = Array.from({ length: count(opts.respondents, '--respondents', 100_000) }, (_, i) => ({
          trigger: byCall ? { kind: 'call' as const, from: `+2547${String(10_000_000 + i).slice(-8)}` } : { kind: 'message' as const, from: `whatsapp:+2547${String(10_000_000 + i).slice(-8)}`, body: 'Hi' },
          chat: new GeneratedChat(flow, { random, piiWidgets }),
        }));
      } else {
        terminal = new TerminalChat();
        jobs = [{ trigger: byCall ? { kind: 'call', from: '+254700000000' } : { kind: 'message', from: 'whatsapp:+254700000000', body: 'Hi' }, chat: terminal }];
        process.stdout.write(
          byCall
            ? 'You are the caller. Type digits to press keys, anything else is speech; /timeout stays silent, /hangup hangs up.\n'
            : 'You are the respondent. Type your answers; /timeout stays silent. The flow starts as if you had written "Hi".\n',
        );
      }

      let stack: LocalStack | undefined;
      let own: RunningFunctions | undefined;
      let functionsUrl = opts.functionsUrl;
      let authToken = process.env.AUTH_TOKEN ?? '';
      // Ctrl-C stops the executions; the finally below stops what was started.
      const stop = stopSignal();
      const undoCtrlC = terminal ? ctrlCInterrupts() : undefined;
      try {
        const fileEnv = readEnvFile(opts.envFile);
        if (functionsUrl) {
          authToken ||= fileEnv.AUTH_TOKEN ?? '';
          if (!authToken) throw new UserError('--functions-url needs AUTH_TOKEN (environment or env file) to sign requests as Twilio does', EXIT_USAGE);
        } else if (fileEnv.SHEET_ID) {
          // The operator's own configuration: their sheet (Google, or SHEETS_API_URL) and their keys.
          if (!fileEnv.AUTH_TOKEN) throw new UserError('the env file sets SHEET_ID but not AUTH_TOKEN, which signs the local requests: add AUTH_TOKEN', EXIT_USAGE);
          process.stderr.write('Starting the local Functions with your env file (your sheet, your keys) …\n');
          // The file's variables only: the Functions' context must not carry this shell's environment.
          own = await startFunctions({ env: fileEnv });
          functionsUrl = own.url;
          authToken = fileEnv.AUTH_TOKEN;
        } else {
          process.stderr.write('Starting the local Functions, Sheets server and Sync stand-in …\n');
          stack = await startLocalStack({ flow, keysDir: opts.keys, ...(faultRate > 0 ? { faults: { rate: faultRate, kinds: FAULT_KINDS } } : {}) });
          functionsUrl = stack.functions.url;
          authToken = stack.authToken;
        }
        stop.throwIfAborted();
        if (!interactive) process.stderr.write(`Running ${plural(jobs.length, 'execution')}, ${Math.min(concurrency, jobs.length)} at a time …\n`);
        const { summary } = await simulate(jobs, { flow, functionsUrl, authToken, concurrency: interactive ? 1 : concurrency, transcriptDir: opts.transcript, signal: stop, ...(stubs ? { stubs } : {}), ...(opts.liveHttp ? { liveHttp: true } : {}), subflows });
        process.stdout.write(`\n${formatSummary(summary)}\n`);
        if (stack) process.stdout.write(`rows in the local sheet: ${stack.sheets.rows(stack.spreadsheetId, stack.tab).length - 1}\n`);
        if (summary.failed > 0) {
          throw new UserError(`${summary.failed} of ${plural(summary.executions, 'execution')} failed; the reasons are listed above`, EXIT_FAILURE);
        }
      } finally {
        undoCtrlC?.();
        terminal?.close();
        await Promise.all([stack?.stop(), own?.stop()]);
      }
    });
}
