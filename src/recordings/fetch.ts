// Recordings fetched through the Twilio API and decrypted into a folder:
// chosen by SID or by call and creation date, each checked (stored,
// encrypted, for the expected public key) before its media is downloaded,
// streamed through decryptToFile, and reported one by one, so one bad
// recording does not stop the rest.

import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type TwilioSdk from 'twilio';
import type { TwilioCredentials } from '../twilio/client.js';
import { decryptToFile, unwrapCek } from './decrypt.js';
import { type EncryptionDetails, parseEncryptionDetails } from './details.js';
import { RecordingError } from './errors.js';
import { NOT_STORED_CODES } from './fetch-codes.js';

export type MediaFormat = 'wav' | 'mp3';

export type Selection =
  | { readonly kind: 'sids'; readonly sids: readonly string[] }
  | { readonly kind: 'query'; readonly callSid?: string; readonly since?: Date; readonly until?: Date };

/** What decrypting needs to know of a Recording resource. */
export interface RecordingInfo {
  readonly sid: string;
  readonly status: string;
  readonly errorCode: number | null;
  readonly encryptionDetails: unknown;
}

export interface Outcome {
  readonly sid: string;
  readonly ok: boolean;
  /** The file written, or why nothing was. */
  readonly detail: string;
}

export { NOT_STORED_CODES };

/** A Twilio API error (twilio-node's RestException) as a RecordingError saying what was asked; anything else as it is. */
function apiFailure(error: unknown, what: string): unknown {
  const e = error as { status?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.status !== 'number') return error;
  if (e.status === 404) return new RecordingError(`${what}: not found on this account (check the SID and TWILIO_ACCOUNT_SID)`);
  if (e.status === 401) return new RecordingError(`${what}: Twilio refused the credentials (HTTP 401): check TWILIO_ACCOUNT_SID and TWILIO_API_KEY/TWILIO_API_SECRET or TWILIO_AUTH_TOKEN`);
  return new RecordingError(`${what}: Twilio answered HTTP ${e.status}${typeof e.code === 'number' ? ` (error ${e.code})` : ''}: ${String(e.message)}`);
}

/** The recordings a selection names, as the API returns them (paging included). */
export async function selectRecordings(twilio: TwilioSdk.Twilio, selection: Selection): Promise<RecordingInfo[]> {
  try {
    return await listSelected(twilio, selection);
  } catch (error) {
    throw apiFailure(error, selection.kind === 'sids' ? `fetching ${selection.sids.length === 1 ? selection.sids[0] : 'the recordings'}` : 'listing the recordings');
  }
}

async function listSelected(twilio: TwilioSdk.Twilio, selection: Selection): Promise<RecordingInfo[]> {
  const info = (r: { sid: string; status: string; errorCode: number | null; encryptionDetails: unknown }): RecordingInfo => ({
    sid: r.sid,
    status: r.status,
    errorCode: r.errorCode,
    encryptionDetails: r.encryptionDetails,
  });
  if (selection.kind === 'sids') return Promise.all(selection.sids.map(async (sid) => info(await twilio.recordings(sid).fetch())));
  const listed = await twilio.recordings.list({
    ...(selection.callSid !== undefined ? { callSid: selection.callSid } : {}),
    ...(selection.since !== undefined ? { dateCreatedAfter: selection.since } : {}),
    ...(selection.until !== undefined ? { dateCreatedBefore: selection.until } : {}),
  });
  return listed.map(info);
}

/** Why a recording cannot be decrypted before downloading anything, or its details. */
export function checkRecording(r: RecordingInfo, expectedKeySid: string | undefined): EncryptionDetails {
  if (r.status !== 'completed') {
    const code = r.errorCode ?? 0;
    const why = NOT_STORED_CODES.has(code)
      ? `Twilio did not store it (error ${code}): it had no usable public key to encrypt with. Register a key (sealed-survey recording-key register) and choose it in the Console`
      : `its status is ${r.status}${code ? ` (error ${code})` : ''}, so there is no media to decrypt`;
    throw new RecordingError(`${r.sid}: ${why}`);
  }
  if (r.encryptionDetails === null || r.encryptionDetails === undefined) {
    throw new RecordingError(`${r.sid}: the recording is not encrypted (Voice Recording Encryption was off when it was made); it was not downloaded`);
  }
  const details = parseEncryptionDetails(r.encryptionDetails, r.sid);
  if (expectedKeySid !== undefined && details.publicKeySid !== expectedKeySid) {
    throw new RecordingError(
      `${r.sid}: encrypted for public key ${details.publicKeySid}, not for ${expectedKeySid} (your key). Twilio uses another key when it cannot use the configured one (error 16107): decrypt it with the private key of ${details.publicKeySid}`,
    );
  }
  return details;
}

export interface FetchOptions {
  readonly twilio: TwilioSdk.Twilio;
  readonly credentials: TwilioCredentials;
  readonly privateKey: KeyObject;
  readonly expectedKeySid: string | undefined;
  readonly outDir: string;
  readonly format: MediaFormat;
  readonly onProgress?: (done: number, total: number) => void;
  /** Stops the download and decryption under way (its temp file removed) and the rest. */
  readonly signal?: AbortSignal;
}

/** Downloads, checks and decrypts each recording; never throws for one recording's problem. */
export async function fetchAndDecrypt(recordings: readonly RecordingInfo[], options: FetchOptions): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const { credentials } = options;
  const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  for (const [index, r] of recordings.entries()) {
    options.onProgress?.(index, recordings.length);
    try {
      const details = checkRecording(r, options.expectedKeySid);
      const outPath = join(options.outDir, `${r.sid}.${options.format}`);
      if (existsSync(outPath)) throw new RecordingError(`${outPath} already exists; refusing to overwrite it (move it away or choose another --out folder)`);
      const cek = unwrapCek(options.privateKey, details, r.sid);
      const url = `${options.twilio.api.baseUrl}/2010-04-01/Accounts/${credentials.accountSid}/Recordings/${r.sid}.${options.format}`;
      const res = await fetch(url, { headers: { authorization: auth }, ...(options.signal ? { signal: options.signal } : {}) });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new RecordingError(`${r.sid}: downloading the media answered HTTP ${res.status}; nothing was written`);
      }
      const written = await decryptToFile(res.body as AsyncIterable<Uint8Array>, cek, details, outPath, r.sid, undefined, options.signal);
      outcomes.push({ sid: r.sid, ok: true, detail: written.path });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (error instanceof RecordingError) outcomes.push({ sid: r.sid, ok: false, detail: error.message });
      // fetch() reports a lost connection as a TypeError ("fetch failed"); the temp file is already gone.
      else if (error instanceof TypeError) outcomes.push({ sid: r.sid, ok: false, detail: `${r.sid}: the download failed (${(error.cause as { code?: string } | undefined)?.code ?? error.message}); nothing was written` });
      else throw error;
    }
  }
  options.onProgress?.(recordings.length, recordings.length);
  return outcomes;
}
