// The sheet and Sync configuration of the commands that act as the publish
// Function would (flush, reconcile, purge): the Functions' .env file (or
// ./.env) under the process environment, and the service account's key from
// --google-key, GOOGLE_SERVICE_ACCOUNT_JSON or the deployed asset's file.

import { existsSync } from 'node:fs';
import { PublishConfigError, readPublishConfig, type PublishConfig } from '../publish/config.js';
import { EXIT_USAGE, UserError } from './common.js';
import { loadEnv } from './env-file.js';

export const DEFAULT_KEY_ASSET = 'assets/google-service-account.private.json';

export const ENV_FILE_HELP = "the Functions' .env file to read SHEET_ID, PII_COLUMNS, ACCOUNT_SID, AUTH_TOKEN… from (default: ./.env if present)";
export const GOOGLE_KEY_HELP = `the service account's JSON key file (default: GOOGLE_SERVICE_ACCOUNT_JSON, else ${DEFAULT_KEY_ASSET})`;

/** The publish configuration for these options; a missing or malformed variable is a usage error naming it. */
export function sheetConfig(envFile: string | undefined, googleKey: string | undefined): PublishConfig {
  const env = loadEnv(envFile);
  const keyFile = googleKey ?? (env.GOOGLE_SERVICE_ACCOUNT_JSON ? undefined : existsSync(DEFAULT_KEY_ASSET) ? DEFAULT_KEY_ASSET : undefined);
  if (googleKey && !existsSync(googleKey)) throw new UserError(`--google-key: ${googleKey} does not exist`, EXIT_USAGE);
  try {
    return readPublishConfig(googleKey ? { ...env, GOOGLE_SERVICE_ACCOUNT_JSON: undefined } : env, keyFile);
  } catch (error) {
    if (error instanceof PublishConfigError) throw new UserError(error.message, EXIT_USAGE);
    throw error;
  }
}
