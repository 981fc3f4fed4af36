// API 2010-04-01 Recordings for the Twilio stand-in: list (CallSid and
// DateCreated / DateCreated< / DateCreated> filters), fetch, and the media
// (.wav, .mp3 or no extension, bytes rather than JSON; no OpenAPI document
// describes it, so tests/helpers/prism.ts routes it past Prism). Tests seed
// recordings with addRecording, which encrypts exactly as Voice Recording
// Encryption does (src/recordings/decrypt.ts encryptRecording) when given the
// public key and its CR… SID.

import type { KeyObject } from 'node:crypto';
import { formatEncryptionDetails } from '../../recordings/details.js';
import { encryptRecording } from '../../recordings/decrypt.js';
import { dateFilters } from './date-filter.js';
import { type ApiRequest, type Entry, newSid, notFound, page2010, rfc2822, type Route } from './http.js';

export interface RecordingSeed {
  readonly callSid: string;
  /** The audio as recorded (plaintext). */
  readonly media: Buffer;
  /** Encrypt as Twilio does for this public key (PEM or KeyObject) and its CR… SID; the media is served as it is when unset. */
  readonly encryptWith?: { readonly publicKeySid: string; readonly publicKey: string | KeyObject };
  /** Milliseconds since the epoch; the stand-in's clock when unset. */
  readonly dateCreated?: number;
  /** 'absent' with an error code: Twilio could not store it (e.g. no usable public key); no media then. */
  readonly status?: 'completed' | 'absent';
  readonly errorCode?: number;
  readonly durationSeconds?: number;
}

export interface RecordingSnapshot {
  readonly sid: string;
  readonly callSid: string;
  readonly status: 'completed' | 'absent';
  readonly dateCreated: number;
  /** What a media download serves (ciphertext ‖ tag when encrypted), or null when absent. */
  readonly served: Buffer | null;
  readonly encryptionDetails: Record<string, string> | null;
}

export interface Recordings {
  readonly routes: readonly Route[];
  /** A recording as Twilio would keep it after a call; returns its SID (RE…). */
  addRecording(seed: RecordingSeed): string;
  recordings(): RecordingSnapshot[];
}

interface Recording extends RecordingSnapshot {
  readonly seq: number;
  readonly errorCode: number | null;
  readonly duration: number;
}

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const MEDIA_TYPES: Readonly<Record<string, string>> = { '': 'audio/x-wav', '.wav': 'audio/x-wav', '.mp3': 'audio/mpeg' };

export function createRecordings(options: { readonly accountSid: string; readonly clock: () => number; readonly seq: () => number }): Recordings {
  const { accountSid, clock, seq } = options;
  const recordings = new Map<string, Recording>();
  const accountPath = `/2010-04-01/Accounts/${accountSid}`;

  const body = (r: Recording, base: string) => ({
    account_sid: accountSid,
    api_version: '2010-04-01',
    call_sid: r.callSid,
    conference_sid: null,
    date_created: rfc2822(r.dateCreated),
    date_updated: rfc2822(r.dateCreated),
    start_time: rfc2822(r.dateCreated - r.duration * 1000),
    duration: String(r.duration),
    sid: r.sid,
    price: null,
    price_unit: 'USD',
    status: r.status,
    channels: 1,
    source: 'RecordVerb',
    error_code: r.errorCode,
    uri: `${accountPath}/Recordings/${r.sid}.json`,
    encryption_details: r.encryptionDetails,
    subresource_uris: {
      add_on_results: `${accountPath}/Recordings/${r.sid}/AddOnResults.json`,
      transcriptions: `${accountPath}/Recordings/${r.sid}/Transcriptions.json`,
    },
    media_url: `${base}${accountPath}/Recordings/${r.sid}`,
  });

  const ownAccount = (r: ApiRequest, sid: string) => {
    if (sid !== accountSid) throw notFound(r.path);
  };
  const find = (r: ApiRequest, sid: string) => {
    const found = recordings.get(sid);
    if (!found) throw notFound(r.path);
    return found;
  };
  const media = (ext: string): Route => ({
    method: 'GET',
    pattern: `/2010-04-01/Accounts/:AccountSid/Recordings/:Sid${ext}`,
    handle: (r, p) => {
      ownAccount(r, p.AccountSid as string);
      const found = find(r, p.Sid as string);
      if (found.served === null) throw notFound(r.path);
      return { status: 200, body: found.served, contentType: MEDIA_TYPES[ext] ?? 'audio/x-wav' };
    },
  });

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:AccountSid/Recordings.json',
      handle: (r, p) => {
        ownAccount(r, p.AccountSid as string);
        const tests: Array<(x: Recording) => boolean> = [];
        const callSid = r.query.get('CallSid');
        if (callSid !== null) tests.push((x) => x.callSid === callSid);
        tests.push(...dateFilters<Recording>(r.query, 'DateCreated', (x) => x.dateCreated));
        const listed = [...recordings.values()].filter((x) => tests.every((t) => t(x)));
        return { status: 200, body: page2010('recordings', listed.map((x): Entry => ({ seq: x.seq, body: body(x, r.base) })), r) };
      },
    },
    {
      method: 'GET',
      pattern: '/2010-04-01/Accounts/:AccountSid/Recordings/:Sid.json',
      handle: (r, p) => {
        ownAccount(r, p.AccountSid as string);
        return { status: 200, body: body(find(r, p.Sid as string), r.base) };
      },
    },
    media('.wav'),
    media('.mp3'),
    media(''),
  ];

  return {
    routes,
    addRecording(seed) {
      if (!CALL_SID.test(seed.callSid)) throw new RangeError(`twilio-server: recording call SID ${seed.callSid} is not CA + 32 hex digits`);
      const status = seed.status ?? 'completed';
      const sid = newSid('RE');
      let served: Buffer | null = null;
      let encryptionDetails: Record<string, string> | null = null;
      if (status === 'completed') {
        if (seed.encryptWith) {
          const { details, encrypted } = encryptRecording(seed.media, seed.encryptWith.publicKey, seed.encryptWith.publicKeySid);
          served = encrypted;
          encryptionDetails = formatEncryptionDetails(details);
        } else {
          served = Buffer.from(seed.media);
        }
      }
      recordings.set(sid, {
        sid,
        seq: seq(),
        callSid: seed.callSid,
        status,
        dateCreated: seed.dateCreated ?? clock(),
        served,
        encryptionDetails,
        errorCode: seed.errorCode ?? null,
        duration: seed.durationSeconds ?? 1,
      });
      return sid;
    },
    recordings: () => [...recordings.values()].map(({ sid, callSid, status, dateCreated, served, encryptionDetails }) => ({ sid, callSid, status, dateCreated, served, encryptionDetails })),
  };
}
