import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { EXIT_USAGE, UserError } from './common.js';

/** The variables of the Functions' env file: the given one, else ./.env if present (as twilio-run reads it). */
export function readEnvFile(file: string | undefined): Record<string, string> {
  const path = file ?? (existsSync('.env') ? '.env' : undefined);
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`cannot read the env file ${path}: give the .env file of your Functions with --env-file`, EXIT_USAGE);
  }
  return parseEnv(text) as Record<string, string>;
}

/** The env file's variables with the process environment winning, for commands that act as the Functions would. */
export function loadEnv(file: string | undefined): Readonly<Record<string, string | undefined>> {
  return { ...readEnvFile(file), ...process.env };
}
