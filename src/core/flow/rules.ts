/**
 * Flow-control rules as users write them (`createJobwire({ flow })`, `jobwire.flow.set`), and
 * their validation into the stored shape (docs/flow-control.md).
 */
import { assertFlowRule, type FlowRule } from '../../driver/flow.js';
import { type Duration, parseDuration } from '../duration.js';
import { InvalidOptionError } from '../errors.js';
import { assertKnownOptions, optionNames } from '../known-options.js';
import { preview } from '../preview.js';

/** A rate limit as written: `limit` starts per `interval`, up to `burst` of them at once. */
export interface FlowRateDefinition {
  limit: number;
  /** ms, or text like "1s", "1m", "1h". */
  interval: Duration;
  /** Starts allowed at once after a quiet spell (default 1: evenly spaced starts). */
  burst?: number;
}

/** A limit rule as written. */
export interface FlowRuleDefinition {
  /** The queue the rule limits. */
  queue: string;
  /**
   * Which jobs of the queue: absent or null for the whole queue (a queue-wide limit); else a
   * `concurrencyKey`: exact (`"acme"`), a prefix pattern (`"tenant:*"`), or `"*"` for each key
   * (the default of every key with no more specific rule). Key rules apply per key.
   */
  key?: string | null;
  /** Most jobs running at once (per key for key rules). */
  concurrency?: number;
  /** Most starts per interval (per key for key rules). */
  rate?: FlowRateDefinition;
}

const KNOWN = optionNames<FlowRuleDefinition>({ queue: true, key: true, concurrency: true, rate: true });
const KNOWN_RATE = optionNames<FlowRateDefinition>({ limit: true, interval: true, burst: true });

/** Validate a rule as written and return its stored shape; throws `InvalidOptionError`. */
export function normalizeFlowRule(definition: FlowRuleDefinition, at = 'flow'): FlowRule {
  if (typeof definition !== 'object' || definition === null) {
    throw new InvalidOptionError(at, 'must be an object like { queue, key?, concurrency?, rate? }');
  }
  assertKnownOptions(at, definition, KNOWN, 'rule field');
  let rate: FlowRule['rate'] = null;
  if (definition.rate !== undefined) {
    const r = definition.rate;
    if (typeof r !== 'object' || r === null) {
      throw new InvalidOptionError(`${at}.rate`, `must be { limit, interval, burst? }, got ${preview(r)}`);
    }
    assertKnownOptions(`${at}.rate`, r, KNOWN_RATE, 'rate field');
    rate = {
      limit: r.limit,
      intervalMs: parseDuration(r.interval, `${at}.rate.interval`),
      burst: r.burst ?? 1,
    };
  }
  const rule: FlowRule = {
    queue: definition.queue,
    key: definition.key ?? null,
    concurrency: definition.concurrency ?? null,
    rate,
  };
  assertFlowRule(rule, at);
  return rule;
}
