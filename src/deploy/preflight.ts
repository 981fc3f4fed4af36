// What deploy checks before any call that writes, all at once: every problem
// is listed with its fix, so an operator fixes them in one pass rather than
// one failed deploy at a time. Messages name variables and files, never
// their values.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { KeyError, parsePublicKey, parseSharedKey } from '../keys/keys.js';
import { parseServiceAccount, SheetsConfigError } from '../sheets/client.js';
import { CONTEXT_LIMIT_BYTES, contextBytes } from './context-size.js';

export interface Finding {
  /** What is wrong, naming the variable, file or widget. */
  readonly problem: string;
  readonly fix: string;
}

/** The Google key asset: deployed private, read by publish. */
export const GOOGLE_KEY_ASSET = 'google-service-account.private.json';

/** Set by Twilio itself ("Add my Twilio Credentials") or by deploy: never uploaded from the env file. */
const SET_BY_TWILIO = ['ACCOUNT_SID', 'AUTH_TOKEN'];
/** Development overrides that would send answers to a local server. */
const DEVELOPMENT_ONLY = ['SHEETS_API_URL', 'SYNC_API_URL', 'TWILIO_API_URL'];

/**
 * The Functions' variables as they will be uploaded: the env file's, less
 * the deploy credentials (TWILIO_*), which are the operator's and never the
 * Functions'.
 */
export function functionVariables(envFile: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(envFile).filter(([k]) => !k.startsWith('TWILIO_')));
}

export function checkVariables(variables: Readonly<Record<string, string>>, envFileName: string): Finding[] {
  const found: Finding[] = [];
  const pub = variables.SURVEY_PUBLIC_KEY?.trim();
  const secret = variables.SURVEY_SECRET_KEY?.trim();
  if (pub && secret) found.push({ problem: `${envFileName} sets both SURVEY_PUBLIC_KEY and SURVEY_SECRET_KEY`, fix: 'keep exactly one (SURVEY_PUBLIC_KEY, sealed mode, is recommended)' });
  else if (!pub && !secret) found.push({ problem: `${envFileName} sets neither SURVEY_PUBLIC_KEY nor SURVEY_SECRET_KEY`, fix: 'add the SURVEY_PUBLIC_KEY=… line printed by `sealed-survey keygen`' });
  else {
    try {
      if (pub) parsePublicKey(pub);
      else parseSharedKey(secret as string);
    } catch (error) {
      if (!(error instanceof KeyError)) throw error;
      found.push({ problem: `${pub ? 'SURVEY_PUBLIC_KEY' : 'SURVEY_SECRET_KEY'} in ${envFileName} is not valid: ${error.message}`, fix: 'copy the line `sealed-survey keygen` printed, whole' });
    }
  }
  if (!variables.SHEET_ID?.trim()) found.push({ problem: `${envFileName} does not set SHEET_ID`, fix: 'set SHEET_ID to the spreadsheet\'s ID or URL' });
  for (const name of SET_BY_TWILIO) {
    if (name in variables) found.push({ problem: `${envFileName} sets ${name}`, fix: `remove it: deploy has Twilio add the account's own credentials ("Add my Twilio Credentials"), so the auth token is never uploaded as a variable` });
  }
  for (const name of DEVELOPMENT_ONLY) {
    if (name in variables) found.push({ problem: `${envFileName} sets ${name}, a development override`, fix: `remove it from ${envFileName}: on Twilio it would send answers to a local test server` });
  }
  if ('GOOGLE_SERVICE_ACCOUNT_JSON' in variables) {
    found.push({ problem: `${envFileName} sets GOOGLE_SERVICE_ACCOUNT_JSON`, fix: `move the key into assets/${GOOGLE_KEY_ASSET} (deployed as a private asset): as a variable it fills most of the 3 KB context and any Console user can read it` });
  }
  return found;
}

export function checkContext(variables: Readonly<Record<string, string>>, account: Parameters<typeof contextBytes>[1]): { bytes: number; findings: Finding[] } {
  const bytes = contextBytes(variables, account);
  const findings =
    bytes >= CONTEXT_LIMIT_BYTES
      ? [{ problem: `the Functions' context would be ${bytes} bytes, over Twilio's ${CONTEXT_LIMIT_BYTES}-byte limit (error 82006: every call would fail)`, fix: 'remove variables the Functions do not read, or shorten them' }]
      : [];
  return { bytes, findings };
}

/** A file about to be uploaded that must never leave the operator's machine. */
export function checkUpload(files: ReadonlyArray<{ readonly path: string; readonly visibility: string }>): Finding[] {
  const found: Finding[] = [];
  let googleKey = false;
  for (const { path, visibility } of files) {
    const name = basename(path);
    if (/^\.env(\..*)?$/.test(name)) {
      found.push({ problem: `${path} is an env file and would be uploaded`, fix: 'move it out of functions/ and assets/' });
      continue;
    }
    if (/\.(pem|key)$/i.test(name)) {
      found.push({ problem: `${path} looks like a key file and would be uploaded`, fix: 'keep keys out of functions/ and assets/: the survey\'s private key stays on the analyst\'s machine' });
      continue;
    }
    const content = readFileSync(path, 'utf8');
    if (name === GOOGLE_KEY_ASSET) {
      googleKey = true;
      try {
        parseServiceAccount(content, `assets/${GOOGLE_KEY_ASSET}`);
      } catch (error) {
        if (!(error instanceof SheetsConfigError)) throw error;
        found.push({ problem: error.message, fix: 'replace it with the JSON key Google Cloud downloads for the service account' });
      }
      if (visibility !== 'private') found.push({ problem: `${path} would be deployed ${visibility}`, fix: 'deploy it private (its name must contain ".private.")' });
      continue;
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(content)) {
      found.push({ problem: `${path} contains a private key and would be uploaded`, fix: 'remove it: only the Google key, as a private asset, belongs on Twilio' });
    }
  }
  if (!googleKey) found.push({ problem: `assets/${GOOGLE_KEY_ASSET} is missing`, fix: 'put the Google service account\'s JSON key there (assets/README.md): publish reads it as a private asset' });
  return found;
}
