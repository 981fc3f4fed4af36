// Injected faults: error statuses, dropped and held connections, writes that
// land after the client gave up, added latency, and Google's write quota.

import { prng } from '../prng.js';
import { ApiError } from './errors.js';

export type FaultKind = 429 | 500 | 502 | 503 | 504 | 'reset' | 'drop-after-write' | 'timeout-after-write' | 'late-write';
export const FAULT_KINDS: readonly FaultKind[] = [429, 500, 502, 503, 504, 'reset', 'drop-after-write', 'timeout-after-write', 'late-write'];

/** Kinds that act on writes only; a read they fall on is reset instead. */
export const WRITE_FAULTS: ReadonlySet<FaultKind> = new Set(['drop-after-write', 'timeout-after-write', 'late-write']);

export const DEFAULT_LATE_WRITE_MS = 200;

export interface FaultOptions {
  /** Share of API requests (0..1) that fail with one of `kinds`. */
  rate: number;
  /** Chosen uniformly for each failing request. */
  kinds: readonly FaultKind[];
  /** Added to every API answer. */
  latencyMs?: number;
  /** Makes the choice of failing requests and kinds repeatable. */
  seed?: number;
  /** Retry-After header on 429 answers. */
  retryAfterSeconds?: number;
  /** Google's write quota: per service account (JWT iss), sliding 60 s window; counts every writing request. */
  writeQuotaPerMinute?: number;
  /** late-write: how long after the client gave up the write is performed (default 200). */
  lateWriteMs?: number;
}

const MESSAGES: Record<number, string> = {
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'Internal error encountered.',
  502: 'The service is currently unavailable.',
  503: 'The service is currently unavailable.',
  504: 'The request timed out. Please try again.',
};

function check(f: FaultOptions): void {
  const bad = (what: string) => {
    throw new RangeError(`sheets-server faults: ${what}`);
  };
  if (!(f.rate >= 0 && f.rate <= 1)) bad('rate must be from 0 to 1');
  if (f.rate > 0 && f.kinds.length === 0) bad('kinds must name at least one fault when rate > 0');
  for (const k of f.kinds) if (!FAULT_KINDS.includes(k)) bad(`unknown fault kind ${String(k)}`);
  if (f.latencyMs !== undefined && !(f.latencyMs >= 0)) bad('latencyMs must be ≥ 0');
  if (f.retryAfterSeconds !== undefined && !(f.retryAfterSeconds >= 0)) bad('retryAfterSeconds must be ≥ 0');
  if (f.writeQuotaPerMinute !== undefined && !(Number.isInteger(f.writeQuotaPerMinute) && f.writeQuotaPerMinute > 0)) bad('writeQuotaPerMinute must be a whole number > 0');
  if (f.lateWriteMs !== undefined && !(f.lateWriteMs >= 0)) bad('lateWriteMs must be ≥ 0');
}

export class Faults {
  private options: FaultOptions | undefined;
  private random: () => number = Math.random;
  private readonly writeTimes = new Map<string, number[]>();
  /** Injected faults by kind; 'quota' for write-quota 429s. */
  readonly counts: Record<string, number> = {};

  /** Replaces the options (and restarts the seeded sequence); undefined turns faults off. Throws RangeError on bad options. */
  set(f: FaultOptions | undefined): void {
    if (f) check(f);
    this.options = f ? { ...f, kinds: [...f.kinds] } : undefined;
    this.random = f?.seed !== undefined ? prng(f.seed) : Math.random;
  }

  /** The fault for the next request, if any. */
  choose(): FaultKind | undefined {
    const f = this.options;
    if (!f || f.rate <= 0 || f.kinds.length === 0) return undefined;
    if (this.random() >= f.rate) return undefined;
    return f.kinds[Math.floor(this.random() * f.kinds.length)];
  }

  count(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  get latencyMs(): number {
    return this.options?.latencyMs ?? 0;
  }

  get lateWriteMs(): number {
    return this.options?.lateWriteMs ?? DEFAULT_LATE_WRITE_MS;
  }

  /** The answer of a status fault, in Google's shape. */
  statusError(kind: number): ApiError {
    return new ApiError(kind, MESSAGES[kind] ?? 'Error', kind === 429 ? this.retryAfter() : {});
  }

  /** Counts a write request against the service account's quota; Google's 429 when it is used up. */
  chargeWrite(iss: string): void {
    const quota = this.options?.writeQuotaPerMinute;
    if (quota === undefined) return;
    const now = Date.now();
    const times = (this.writeTimes.get(iss) ?? []).filter((t) => t > now - 60_000);
    this.writeTimes.set(iss, times);
    if (times.length >= quota) {
      this.count('quota');
      throw new ApiError(
        429,
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'.",
        this.retryAfter(),
      );
    }
    times.push(now);
  }

  private retryAfter(): Record<string, string> {
    const s = this.options?.retryAfterSeconds;
    return s !== undefined ? { 'retry-after': String(s) } : {};
  }
}
