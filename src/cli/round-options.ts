// Options reconcile and purge share: the flow, where the credentials and the
// sheet's configuration come from, and the dates that bound a round.

import type { Command } from 'commander';
import { EXIT_USAGE, UserError } from './common.js';
import { ENV_FILE_HELP, GOOGLE_KEY_HELP } from './sheet-config.js';

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
