// The Twilio credentials and client a command uses: the Twilio CLI's
// variables, from the environment (which wins) or the environment's file
// .env.<name>; a missing or malformed one is a usage error naming it.

import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type TwilioSdk from 'twilio';
import { configVariableOf } from '../functions/config-error.js';
import { twilioClient, twilioCredentials, type TwilioCredentials } from '../twilio/client.js';
import { EXIT_USAGE, UserError } from './common.js';

export function envFileValues(envName: string): Record<string, string> {
  const file = `.env.${envName}`;
  return existsSync(file) ? (parseEnv(readFileSync(file, 'utf8')) as Record<string, string>) : {};
}

export function credentialsFor(envName: string, fileValues: Readonly<Record<string, string>> = envFileValues(envName)): TwilioCredentials {
  try {
    return twilioCredentials({ ...fileValues, ...process.env });
  } catch (error) {
    if (configVariableOf(error)) throw new UserError(`${(error as Error).message}\n(set them in the environment or in .env.${envName})`, EXIT_USAGE);
    throw error;
  }
}

export async function twilioFor(envName: string): Promise<{ credentials: TwilioCredentials; twilio: TwilioSdk.Twilio }> {
  const credentials = credentialsFor(envName);
  return { credentials, twilio: await twilioClient(credentials) };
}
