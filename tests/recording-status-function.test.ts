// The recording-status Function through the real twilio-run server and the
// real runtime handler, called as Twilio calls a RecordingStatusCallback
// (form parameters, signed with the auth token).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFunctions } from '../src/dev/functions-server.js';
import { AUTH_TOKEN, signedPost, startTestFunctions } from './helpers/functions.js';

const hex = () => randomBytes(16).toString('hex');
const KEY_SID = `CR${hex()}`;
const OTHER_KEY_SID = `CR${hex()}`;
const CALLER = '+254700123456';
const CALLED = '+14155550123';
const details = (publicKeySid: string) =>
  JSON.stringify({ type: 'rsa-aes', public_key_sid: publicKeySid, encrypted_cek: randomBytes(256).toString('base64'), iv: randomBytes(12).toString('base64') });

/** A callback as Twilio sends it, with the numbers some callbacks carry (they must never be logged). */
const callback = (extra: Record<string, string>) => ({
  AccountSid: `AC${hex()}`,
  CallSid: `CA${hex()}`,
  RecordingSid: `RE${hex()}`,
  RecordingUrl: 'https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE',
  RecordingChannels: '1',
  RecordingSource: 'RecordVerb',
  RecordingDuration: '5',
  RecordingStartTime: 'Tue, 28 May 2019 02:18:02 +0000',
  ErrorCode: '0',
  From: CALLER,
  To: CALLED,
  ...extra,
});

let fn: RunningFunctions;
let unset: RunningFunctions;
let malformed: RunningFunctions;

beforeAll(async () => {
  [fn, unset, malformed] = await Promise.all([
    startTestFunctions({ RECORDING_PUBLIC_KEY_SID: KEY_SID }),
    startTestFunctions({}),
    startTestFunctions({ RECORDING_PUBLIC_KEY_SID: 'CR-not-a-sid' }),
  ]);
});

afterAll(async () => {
  const output = [fn, unset, malformed].map((s) => s?.output() ?? '').join('\n');
  await Promise.all([fn, unset, malformed].map((s) => s?.stop()));
  // No phone number (not even its last digits with the rest), no token, no encryption details in any log.
  for (const secret of [CALLER, CALLED, CALLER.slice(1), CALLED.slice(1), AUTH_TOKEN, 'encrypted_cek']) expect(output).not.toContain(secret);
});

describe('recording-status Function', () => {
  it('accepts a completed recording encrypted for RECORDING_PUBLIC_KEY_SID, echoing nothing', async () => {
    const params = callback({ RecordingStatus: 'completed', EncryptionDetails: details(KEY_SID) });
    const res = await signedPost(fn, '/recording-status', params);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, encrypted: true });
  });

  it('refuses a recording encrypted for another public key (16107) and logs its SID and the code only', async () => {
    const params = callback({ RecordingStatus: 'completed', EncryptionDetails: details(OTHER_KEY_SID) });
    const res = await signedPost(fn, '/recording-status', params);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('UNEXPECTED_PUBLIC_KEY');
    expect(res.text).not.toContain(OTHER_KEY_SID);
    expect(res.text).not.toContain(params.RecordingSid);
    await expect.poll(() => fn.output()).toContain(`recording-status: 16107 ${params.RecordingSid}`);
  });

  it('refuses a completed recording that is not encrypted', async () => {
    const params = callback({ RecordingStatus: 'completed' });
    const res = await signedPost(fn, '/recording-status', params);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('NOT_ENCRYPTED');
    await expect.poll(() => fn.output()).toContain(`recording-status: NOT_ENCRYPTED ${params.RecordingSid}`);
  });

  it('refuses encryption details that are not Twilio\'s', async () => {
    const res = await signedPost(fn, '/recording-status', callback({ RecordingStatus: 'completed', EncryptionDetails: '{"type":"rsa-aes","public_key_sid":"CRx"}' }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BAD_ENCRYPTION_DETAILS');
  });

  for (const [status, code] of [['absent', '16105'], ['failed', '16104']] as const) {
    it(`raises an alarm when Twilio could not store a recording (${status}, error ${code})`, async () => {
      const params = callback({ RecordingStatus: status, ErrorCode: code });
      const res = await signedPost(fn, '/recording-status', params);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true, alarm: 'RECORDING_NOT_STORED' });
      await expect.poll(() => fn.output()).toContain(`recording-status: ALARM ${code} ${params.RecordingSid} was not stored`);
    });
  }

  it('refuses unsigned and wrongly signed callbacks with 403', async () => {
    const params = callback({ RecordingStatus: 'completed', EncryptionDetails: details(KEY_SID) });
    expect((await signedPost(fn, '/recording-status', params, { signWith: null })).status).toBe(403);
    expect((await signedPost(fn, '/recording-status', params, { signWith: hex() })).status).toBe(403);
  });

  it('answers 500 CONFIG_INVALID naming RECORDING_PUBLIC_KEY_SID when it is unset or malformed', async () => {
    const params = callback({ RecordingStatus: 'completed', EncryptionDetails: details(KEY_SID) });
    for (const server of [unset, malformed]) {
      const res = await signedPost(server, '/recording-status', params);
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('CONFIG_INVALID');
      expect(res.body.error.message).toContain('RECORDING_PUBLIC_KEY_SID');
    }
    expect((await signedPost(malformed, '/recording-status', params)).text).not.toContain('CR-not-a-sid');
  });
});
