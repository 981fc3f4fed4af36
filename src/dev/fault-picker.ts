// Which request of a local stand-in fails, and how: a seeded, repeatable draw
// over the requests a plan applies to, at most `count` of them, each failing
// with one of `kinds`. Shared by the Sync and Twilio stand-ins.

import { prng } from './prng.js';

export interface FaultPlan<K> {
  readonly kinds: readonly K[];
  /** Share (0–1) of the matching requests that fail; 1 when unset. */
  readonly rate?: number;
  /** Faults turn off after this many; unlimited when unset. */
  readonly count?: number;
  /** Makes the choice of failing requests and kinds repeatable. */
  readonly seed?: number;
}

export class FaultPicker<K, P extends FaultPlan<K>> {
  private plan: P | undefined;
  private left = Infinity;
  private random: () => number = Math.random;
  private readonly counts: Record<string, number> = {};

  /** Replaces the plan (restarting the seeded sequence and the count); undefined turns faults off. */
  set(plan: P | undefined): void {
    this.plan = plan ? { ...plan, kinds: [...plan.kinds] } : undefined;
    this.left = plan?.count ?? Infinity;
    this.random = plan?.seed !== undefined ? prng(plan.seed) : Math.random;
  }

  /** The plan in force, for its own settings (a Retry-After, say). */
  get current(): P | undefined {
    return this.plan;
  }

  /** The fault for this request, if any; `applies` says whether the plan's filter (method, path…) matches it. */
  pick(applies: (plan: P) => boolean): K | undefined {
    const plan = this.plan;
    if (!plan || this.left <= 0 || !applies(plan)) return undefined;
    if (plan.rate !== undefined && this.random() >= plan.rate) return undefined;
    this.left -= 1;
    const kind = plan.kinds[Math.floor(this.random() * plan.kinds.length)] as K;
    this.counts[String(kind)] = (this.counts[String(kind)] ?? 0) + 1;
    return kind;
  }

  /** Faults injected so far, by kind (set() does not reset it). */
  injected(): Record<string, number> {
    return { ...this.counts };
  }
}
