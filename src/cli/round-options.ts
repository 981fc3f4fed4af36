// Options reconcile and purge share: the flow, where the credentials and the
// sheet's configuration come from, and the dates that bound a round.

import type { Command } from 'commander';
import type TwilioSdk from 'twilio';
import { listExecutions, readSheetRows, resolveFlow, roundSheet, type RoundExecution, type RoundFlow, type SheetRows } from '../closing/round.js';
import type { PublishConfig } from '../publish/config.js';
import { EXIT_USAGE, stopSignal, UserError } from './common.js';
import { ENV_FILE_HELP, GOOGLE_KEY_HELP, sheetConfig } from './sheet-config.js';
import { twilioFor } from './twilio-session.js';

export interface RoundCliOptions {
  flow: string;
  env: string;
  envFile?: string;
  googleKey?: string;
}

export function roundOptions(command: Command): Command {
  return command
    .requiredOption('--flow <name|FW…>', 'the deployed flow: its name (the file name without .json) or its SID')
    .option('--env <name>', 'Twilio credentials from the environment or .env.<name>', 'dev')
    .option('--env-file <file>', ENV_FILE_HELP)
    .option('--google-key <file>', GOOGLE_KEY_HELP);
}

/** --since: a day (2026-05-01, UTC) or an ISO 8601 date-time. */
export function parseSince(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text.trim());
  const at = Date.parse(day ? `${text.trim()}T00:00:00Z` : text.trim());
  if (!Number.isFinite(at)) throw new UserError(`--since ${text} is not a date: give a day (2026-05-01) or an ISO 8601 date-time (2026-05-01T08:00:00Z)`, EXIT_USAGE);
  if (at > Date.now()) throw new UserError(`--since ${text} is in the future: give the day the round started`, EXIT_USAGE);
  return new Date(at);
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** --older-than: 90s, 30m, 1h, 2d, or 0. */
export function parseDuration(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase();
  if (!m || (unit === undefined && Number(m[1]) !== 0)) throw new UserError(`${option} ${text} is not a duration: give a number and a unit, e.g. 30m, 1h or 2d`, EXIT_USAGE);
  return Number(m[1]) * (unit === undefined ? 0 : (UNITS[unit] as number));
}

export interface OpenRound {
  readonly config: PublishConfig;
  readonly twilio: TwilioSdk.Twilio;
  readonly signal: AbortSignal;
  readonly flow: RoundFlow;
  readonly executions: readonly RoundExecution[];
  readonly sheet: SheetRows;
}

/** The configuration checked first (nothing is read before it is complete), then the flow, its executions and the sheet's rows. */
export async function openRound(opts: RoundCliOptions, since: Date | undefined): Promise<OpenRound> {
  const config = sheetConfig(opts.envFile, opts.googleKey);
  const { twilio } = await twilioFor(opts.env);
  const signal = stopSignal();
  const flow = await resolveFlow(twilio, opts.flow);
  const executions = await listExecutions(twilio, flow.sid, since, signal);
  const sheet = await readSheetRows(roundSheet(config));
  return { config, twilio, signal, flow, executions, sheet };
}
