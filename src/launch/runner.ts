// Sends one Execution per contact at the bucket's rate: a `pending` tracker
// line before each request, `launched` or `failed` once it is answered. A 429
// pauses every send for Retry-After (or a backoff); 5xx and network errors
// are retried with backoff; any other refusal fails that contact only. When
// the signal aborts, no new request starts, those under way are answered
// and recorded, and a contact waiting to retry stays pending (a resume looks
// it up before sending it again).

import type { Contact } from './contacts.js';
import type { CreateResult } from './executions.js';
import { sleep, type TokenBucket } from './rate.js';
import type { Tracker } from './tracker.js';

export interface RunOptions {
  readonly contacts: readonly Contact[];
  readonly tracker: Tracker;
  readonly bucket: TokenBucket;
  readonly create: (contact: Contact) => Promise<CreateResult>;
  readonly signal: AbortSignal;
  /** Requests under way at once; enough for the rate at Twilio's latency. */
  readonly maxInFlight?: number;
  /** Tries for 5xx and network errors. */
  readonly maxAttempts?: number;
  /** Backoff unit in ms (doubled each try, with jitter). */
  readonly backoffMs?: number;
  readonly onSettled?: (outcome: Outcome) => void;
}

export type Outcome = 'launched' | 'failed' | 'stopped';
export interface RunSummary {
  launched: number;
  failed: number;
  stopped: number;
  throttled: number;
  retried: number;
}

const now = () => new Date().toISOString();
const MAX_THROTTLES = 20;

export async function runLaunch(options: RunOptions): Promise<RunSummary> {
  const { tracker, bucket, signal } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const backoffMs = options.backoffMs ?? 500;
  const summary: RunSummary = { launched: 0, failed: 0, stopped: 0, throttled: 0, retried: 0 };
  const backoff = (n: number) => backoffMs * 2 ** (n - 1) * (0.5 + Math.random() / 2);

  async function one(contact: Contact): Promise<Outcome> {
    const sentAt = now();
    tracker.write({ caseid: contact.caseid, status: 'pending', executionSid: '', error: '', sentAt });
    const fail = (error: string): Outcome => {
      tracker.write({ caseid: contact.caseid, status: 'failed', executionSid: '', error, sentAt });
      return 'failed';
    };
    let attempts = 0;
    let throttles = 0;
    for (;;) {
      const result = await options.create(contact);
      if (result.kind === 'created') {
        tracker.write({ caseid: contact.caseid, status: 'launched', executionSid: result.sid, error: '', sentAt });
        return 'launched';
      }
      if (result.kind === 'refused') return fail(result.error);
      let wait: number;
      if (result.kind === 'throttled') {
        summary.throttled++;
        if (++throttles > MAX_THROTTLES) return fail(`Twilio answered 429 (too many requests) ${MAX_THROTTLES} times: lower --rate`);
        // Without Retry-After, one second: Twilio's limit is counted per second.
        wait = result.retryAfterMs ?? 1000;
        bucket.pauseFor(wait);
      } else {
        if (++attempts >= maxAttempts) return fail(`${result.why}, ${maxAttempts} tries`);
        summary.retried++;
        wait = backoff(attempts);
      }
      try {
        await sleep(wait, signal);
        await bucket.take(signal);
      } catch {
        return 'stopped';
      }
    }
  }

  const inFlight = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 64;
  for (const contact of options.contacts) {
    try {
      await bucket.take(signal);
    } catch {
      break;
    }
    const p: Promise<void> = one(contact).then((outcome) => {
      summary[outcome]++;
      options.onSettled?.(outcome);
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return summary;
}
