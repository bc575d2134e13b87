/**
 * When a pool should claim again because a rate limit lets another job start
 * (docs/flow-control.md, "Rate limits").
 *
 * A rate-limited key refuses a start until its next slot of time, and nothing announces that
 * slot: no job becomes due, no notification comes. A claim that came up short leaves the pool
 * idle until its next poll (1 s), so a limit of 10 per second with burst 1 ran one job per poll,
 * and with burst B, B per poll — not N per interval. So the pool claims again one emission
 * interval (interval / limit) after:
 *
 * - a claim that started jobs but came up short, when a served queue has a rate rule (the
 *   key it started may have more, allowed one interval later; the smallest interval of the
 *   served queues' rules is used, a bound known without asking which keys were served), and
 * - a claim that found a key or a queue newly held by its rate (`flow:held`, with the key's own
 *   interval).
 *
 * A claim that starts nothing and finds no new hold schedules nothing, so a pool whose rate-held
 * keys have no due jobs goes quiet; a hold another process marked is that process's to wake for
 * (it saw the event), and the poll remains the fallback.
 */
import type { Driver } from '../../driver/driver.js';

/** See the module comment. */
export class RateWakes {
  readonly #served: ReadonlySet<string>;
  /** The smallest emission interval (ms) of a rate rule of a served queue; Infinity for none. */
  #stepMs = Number.POSITIVE_INFINITY;

  constructor(served: ReadonlySet<string>) {
    this.#served = served;
  }

  /**
   * Read the served queues' rate rules (once, when the pool starts). Rules set later are learned
   * from the holds they cause. A failure only leaves the poll to find rate-allowed starts.
   * Resolves to whether a served queue has a rate rule.
   */
  async load(driver: Driver): Promise<boolean> {
    try {
      for (const rule of await driver.flowRuleList()) {
        if (rule.rate && this.#served.has(rule.queue)) this.#learn(rule.rate.intervalMs / rule.rate.limit);
      }
    } catch {
      // Storage away at start: the poll still claims; holds teach the interval later.
    }
    return this.#stepMs !== Number.POSITIVE_INFINITY;
  }

  /** A claim's hold event: the delay (ms) after which the held key's rate allows a start, or undefined. */
  held(data: { limit: string; max: number; intervalMs: number | null }): number | undefined {
    if (data.limit !== 'rate' || data.intervalMs === null || data.max <= 0) return undefined;
    const step = data.intervalMs / data.max;
    this.#learn(step);
    return Math.ceil(step);
  }

  /** After a claim of `claimed` of `limit` jobs: the delay (ms) before claiming again, or undefined. */
  afterClaim(claimed: number, limit: number): number | undefined {
    if (claimed === 0 || claimed >= limit || this.#stepMs === Number.POSITIVE_INFINITY) return undefined;
    return Math.ceil(this.#stepMs);
  }

  #learn(step: number): void {
    if (step > 0 && step < this.#stepMs) this.#stepMs = step;
  }
}
