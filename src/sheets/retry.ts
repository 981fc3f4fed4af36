// What to do after a failed Sheets request: retry or give up. Every write this
// project makes is idempotent (a whole row at a fixed position), so whether a
// failed request may have taken effect anyway does not matter: it is repeated.
// Backoff is exponential with full jitter, honouring Retry-After.

export type Outcome =
  | { readonly retry: true; readonly retryAfterMs?: number; readonly reason: string }
  | { readonly retry: false; readonly status: number; readonly reason: string };

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

interface ErrorLike {
  readonly status?: unknown;
  readonly code?: unknown;
  readonly name?: unknown;
  readonly cause?: unknown;
  readonly response?: { readonly status?: unknown; readonly headers?: unknown };
}

function statusOf(error: ErrorLike): number | undefined {
  const status = error.response?.status ?? error.status;
  return typeof status === 'number' && status >= 100 ? status : undefined;
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (headers && typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  if (headers && typeof headers === 'object') {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function networkCode(error: ErrorLike): string | undefined {
  // gaxios wraps fetch errors; the system error code may sit on the cause chain.
  let e: ErrorLike | undefined = error;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && /^E[A-Z_]+$|^UND_ERR/.test(e.code)) return e.code;
    e = e.cause as ErrorLike | undefined;
  }
  return undefined;
}

/** Classifies a failed request: HTTP 429 and 5xx, resets, timeouts and unreachable hosts are worth retrying. */
export function classify(error: unknown): Outcome {
  const e = (error ?? {}) as ErrorLike;
  const status = statusOf(e);
  if (status !== undefined) {
    if (!RETRY_STATUSES.has(status)) return { retry: false, status, reason: `HTTP ${status}` };
    const after = retryAfterMs(headerOf(e.response?.headers, 'retry-after'));
    return { retry: true, reason: `HTTP ${status}`, ...(after === undefined ? {} : { retryAfterMs: after }) };
  }
  const code = networkCode(e);
  const reason = code ?? (typeof e.name === 'string' && e.name !== 'Error' ? e.name : 'connection failed');
  return { retry: true, reason };
}

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Full jitter: uniform in [0, min(cap, base * 2^attempt)], at least any Retry-After. */
export function backoffMs(policy: BackoffPolicy, attempt: number, retryAfter: number | undefined, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(retryAfter ?? 0, Math.floor(random() * ceiling));
}

export const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** A point in time work must finish by. */
export class Deadline {
  private readonly end: number;
  constructor(ms: number, private readonly now: () => number = Date.now) {
    this.end = now() + ms;
  }
  remaining(): number {
    return Math.max(0, this.end - this.now());
  }
  /** A deadline `ms` earlier than this one. */
  minus(ms: number): Deadline {
    return new Deadline(this.remaining() - ms, this.now);
  }
}
