// A token bucket: `perSecond` tokens a second, with a small reserve (one
// token, or 5% of a second's tokens at higher rates) that absorbs the
// timers' late wake-ups, so the achieved rate holds without a burst: no 1 s
// window gets more than the rate + 5% (+1). Twilio counts new executions a
// second, and at its 20/s the reserve is one token. A 429 pauses it for
// everyone (pauseFor).

/** Twilio's limit on new REST-triggered Studio Executions per account. */
export const EXECUTIONS_PER_SECOND = 20;

export class TokenBucket {
  private tokens = 1;
  private last = performance.now();
  private pausedUntil = 0;
  private readonly capacity: number;

  constructor(readonly perSecond: number) {
    this.capacity = Math.max(1, Math.floor(perSecond * 0.05));
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }

  /** Resolves when a send may start; rejects with the signal's reason once it aborts. */
  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const now = performance.now();
      if (now < this.pausedUntil) {
        await sleep(this.pausedUntil - now, signal);
        this.last = performance.now();
        continue;
      }
      this.refill(now);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(((1 - this.tokens) / this.perSecond) * 1000, signal);
    }
  }

  /** No send starts for `ms` (Twilio's Retry-After), and nothing is saved up meanwhile. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, performance.now() + ms);
    this.tokens = Math.min(this.tokens, 0);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    if (signal.aborted) return fail(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      fail(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      ok();
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** "10/s", "10", "600/min" → sends per second. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) / (m[2] && /^m/i.test(m[2]) ? 60 : 1);
  return n > 0 ? n : undefined;
}
