// The encrypt Function's core: seal every parameter of one Studio Run Function
// call into ss1 tokens, plus an optional respondent_id pseudonym.

import { FIELD_NAME, MAX_FIELDS, MAX_VALUE_BYTES, sealResponse, systemRandomness } from '../envelope/index.js';
import { fromB64 } from '../encoding.js';
import { KeyError, parsePublicKey, parseSharedKey, type Recipient } from '../keys/keys.js';
import { respondentId } from '../pseudonym.js';
import { isSid } from '../twilio/sid.js';
// Not sealed: the Studio execution ({{flow.sid}}) every token is bound to.
import { EXECUTION_SID } from '../publish/row.js';
import { ConfigError } from './config-error.js';
import { errorResult, type Env, type HttpResult, type Params } from './runtime.js';

export const RESPONDENT_PARAM = 'respondent';
export const RESPONDENT_ID = 'respondent_id';

interface EncryptConfig {
  readonly recipient: Recipient;
  readonly pseudonymKey: Buffer | undefined;
}

// Parsed once per warm instance; re-parsed only if the variables change.
let cache: { readonly fingerprint: string; readonly config: EncryptConfig } | undefined;

/** Throws ConfigError (the guard answers 500 CONFIG_INVALID naming the variable). */
export function loadEncryptConfig(env: Env): EncryptConfig {
  const pub = env.SURVEY_PUBLIC_KEY?.trim() || undefined;
  const secret = env.SURVEY_SECRET_KEY?.trim() || undefined;
  const pseudonym = env.SURVEY_PSEUDONYM_KEY?.trim() || undefined;
  const fingerprint = JSON.stringify([pub, secret, pseudonym]);
  if (cache?.fingerprint === fingerprint) return cache.config;
  if (pub && secret) {
    throw new ConfigError('both SURVEY_PUBLIC_KEY and SURVEY_SECRET_KEY are set; set exactly one (SURVEY_PUBLIC_KEY for sealed mode, recommended)', 'SURVEY_SECRET_KEY');
  }
  if (!pub && !secret) {
    throw new ConfigError('neither SURVEY_PUBLIC_KEY nor SURVEY_SECRET_KEY is set; set SURVEY_PUBLIC_KEY to the line printed by `sealed-survey keygen`', 'SURVEY_PUBLIC_KEY');
  }
  let recipient: Recipient;
  try {
    recipient = pub ? parsePublicKey(pub) : parseSharedKey(secret as string);
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    const variable = pub ? 'SURVEY_PUBLIC_KEY' : 'SURVEY_SECRET_KEY';
    throw new ConfigError(`${variable} is not valid: ${error.message}`, variable);
  }
  let pseudonymKey: Buffer | undefined;
  if (pseudonym) {
    pseudonymKey = fromB64(pseudonym);
    if (!pseudonymKey || pseudonymKey.length < 16) {
      throw new ConfigError('SURVEY_PSEUDONYM_KEY is not valid: it is the base64 form of at least 16 random bytes, as written by `sealed-survey keygen --mode pseudonym`', 'SURVEY_PSEUDONYM_KEY');
    }
  }
  const config = { recipient, pseudonymKey };
  cache = { fingerprint, config };
  return config;
}

/** Validates untrusted parameters; error messages name parameters, never values. */
export function validateFields(params: Params): Array<[string, string]> | HttpResult {
  const entries = Object.entries(params).filter(([name]) => name !== EXECUTION_SID);
  if (entries.length === 0) {
    return errorResult(400, 'NO_FIELDS', 'no parameters were sent: add the answers to seal as parameters of the Run Function widget');
  }
  if (entries.length > MAX_FIELDS) {
    return errorResult(400, 'TOO_MANY_FIELDS', `${entries.length} parameters were sent; at most ${MAX_FIELDS} can be sealed in one call`);
  }
  const fields: Array<[string, string]> = [];
  for (const [index, [name, value]] of entries.entries()) {
    if (!FIELD_NAME.test(name)) {
      return errorResult(400, 'BAD_FIELD_NAME', `parameter ${index + 1} has a name that is not an identifier: use letters, digits and _, not starting with a digit, at most 64 characters`);
    }
    if (name === RESPONDENT_ID) {
      return errorResult(400, 'RESERVED_FIELD', `"${RESPONDENT_ID}" is computed by this Function from "${RESPONDENT_PARAM}"; do not send it`);
    }
    if (typeof value !== 'string') {
      return errorResult(400, 'NOT_TEXT', `parameter "${name}" is not a single text value (sent more than once?)`);
    }
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
      return errorResult(413, 'VALUE_TOO_LARGE', `parameter "${name}" is larger than ${MAX_VALUE_BYTES} bytes of UTF-8`);
    }
    fields.push([name, value]);
  }
  return fields;
}

/** The execution to bind the tokens to; undefined when the flow does not pass one (older flows: unbound tokens). */
function readExecution(params: Params): string | undefined | HttpResult {
  const value = params[EXECUTION_SID];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isSid(value)) {
    return errorResult(400, 'BAD_EXECUTION_SID', `${EXECUTION_SID} is not a Twilio SID: set it to {{flow.sid}} (it binds the sealed answers to their row)`);
  }
  return value;
}

export function encryptCore(env: Env, params: Params): HttpResult {
  const config = loadEncryptConfig(env);
  const execution = readExecution(params);
  if (typeof execution === 'object') return execution;
  const fields = validateFields(params);
  if (!Array.isArray(fields)) return fields;
  const body: Record<string, string> = Object.fromEntries(sealResponse(fields, config.recipient, systemRandomness, execution));
  const respondent = params[RESPONDENT_PARAM];
  if (config.pseudonymKey && typeof respondent === 'string' && respondent.trim() !== '') {
    body[RESPONDENT_ID] = respondentId(config.pseudonymKey, respondent);
  }
  return { status: 200, body };
}
