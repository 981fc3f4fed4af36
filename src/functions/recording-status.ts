// The recording-status Function's core: the target of a recording's
// RecordingStatusCallback. It refuses a completed recording that is not
// encrypted, or encrypted for another public key than RECORDING_PUBLIC_KEY_SID
// (Twilio falls back to another key when it cannot use the configured one, and
// says so with error 16107), and raises an alarm when Twilio could not store a
// recording for want of a usable key (16104 in Twilio's guide; 16105 named in
// the issue). Logs carry a code and the recording SID only: never numbers,
// the call, the details or the context. Answers never echo a value.

import { ConfigError } from './config-error.js';
import { errorResult, type Core, type HttpResult } from './runtime.js';
import { parseEncryptionDetails, PUBLIC_KEY_SID, RECORDING_SID } from '../recordings/details.js';
import { RecordingError } from '../recordings/errors.js';
import { NOT_STORED_CODES } from '../recordings/fetch-codes.js';

export const KEY_VARIABLE = 'RECORDING_PUBLIC_KEY_SID';

function expectedKey(env: Readonly<Record<string, string | undefined>>): string {
  const value = env[KEY_VARIABLE]?.trim();
  if (!value) throw new ConfigError(`${KEY_VARIABLE} is not set: set it to the public key SID (CR…) printed by \`sealed-survey recording-key register\``, KEY_VARIABLE);
  if (!PUBLIC_KEY_SID.test(value)) throw new ConfigError(`${KEY_VARIABLE} is not a public key SID (CR followed by 32 hex digits): copy the one printed by \`sealed-survey recording-key register\``, KEY_VARIABLE);
  return value;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const log = (line: string) => console.error(`recording-status: ${line}`);

export const recordingStatusCore: Core = (env, params): HttpResult => {
  const expected = expectedKey(env);
  const sid = text(params.RecordingSid);
  if (sid === undefined || !RECORDING_SID.test(sid)) return errorResult(400, 'RECORDING_SID', 'RecordingSid is missing or is not a recording SID: point only a RecordingStatusCallback at this Function');
  const status = text(params.RecordingStatus) ?? '';
  const errorCode = Number(text(params.ErrorCode) ?? '0');

  if (status === 'failed' || status === 'absent') {
    if (NOT_STORED_CODES.has(errorCode)) {
      log(`ALARM ${errorCode} ${sid} was not stored: Twilio had no usable public key to encrypt it with (register one and choose it for Voice Recording Encryption)`);
      return { status: 200, body: { received: true, alarm: 'RECORDING_NOT_STORED' } };
    }
    log(`RECORDING_FAILED ${sid} error ${Number.isInteger(errorCode) ? errorCode : 'unknown'}`);
    return { status: 200, body: { received: true, alarm: 'RECORDING_FAILED' } };
  }
  if (status !== 'completed') return { status: 200, body: { received: true } };

  const raw = text(params.EncryptionDetails);
  if (raw === undefined || raw === '' || raw === 'null') {
    log(`NOT_ENCRYPTED ${sid}`);
    return errorResult(409, 'NOT_ENCRYPTED', 'the recording is not encrypted: turn on Voice Recording Encryption in the Console and choose the registered public key');
  }
  let keySid: string;
  try {
    keySid = parseEncryptionDetails(raw, 'EncryptionDetails').publicKeySid;
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    log(`BAD_ENCRYPTION_DETAILS ${sid}`);
    return errorResult(400, 'BAD_ENCRYPTION_DETAILS', 'EncryptionDetails is not what Twilio sends (type, public_key_sid, encrypted_cek, iv)');
  }
  if (keySid !== expected) {
    log(`16107 ${sid} was encrypted for another public key than ${KEY_VARIABLE}`);
    return errorResult(409, 'UNEXPECTED_PUBLIC_KEY', `the recording was encrypted for another public key than ${KEY_VARIABLE} (Twilio's error 16107: it could not use the configured key): check the key chosen for Voice Recording Encryption in the Console`);
  }
  return { status: 200, body: { received: true, encrypted: true } };
};
