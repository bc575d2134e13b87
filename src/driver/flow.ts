/**
 * Flow control across the driver seam (docs/flow-control.md): the stored rules, their parameters,
 * the one validation both drivers run on them, and the GCRA arithmetic both drivers use for rate
 * limits (the SQLite driver calls `gcraAllowed` directly; the PostgreSQL claim computes the same
 * formula in SQL, and the conformance suite pins both to the same numbers).
 */
import { InvalidOptionError } from '../core/errors.js';
import { isName, NAME_RULE } from '../core/names.js';
import { preview } from '../core/preview.js';
import { unstorableTextReason } from '../core/storable.js';
import type { EpochMs } from '../core/types.js';
import type { LogEntry } from './event-codes.js';

/** A rate limit: `limit` starts per `intervalMs`, of which up to `burst` may start at once. */
export interface FlowRate {
  limit: number;
  intervalMs: number;
  burst: number;
}

/** One limit rule as stored. */
export interface FlowRule {
  queue: string;
  /**
   * null: the rule of the whole queue (every job of it, keyed or not). Otherwise the keys it
   * applies to: an exact key, a prefix pattern ending in `*` (`tenant:*`), or `*` (every key).
   * The most specific rule of a queue wins for a key: the exact one, else the longest prefix.
   */
  key: string | null;
  /** Most jobs running at once (per key for key rules), or null for no concurrency limit. */
  concurrency: number | null;
  /** Most starts per interval (per key for key rules), or null for no rate limit. */
  rate: FlowRate | null;
}

/** A stored rule with its last change. */
export interface FlowRuleRecord extends FlowRule {
  updatedAt: EpochMs;
}

/** Parameters of `Driver.flowRuleSet`. */
export interface FlowRuleSetParams {
  /** Rules to insert or replace (by queue and key), all in one transaction. */
  rules: readonly FlowRule[];
  now?: EpochMs;
}

/** Parameters of `Driver.flowRuleRemove`. */
export interface FlowRuleRemoveParams {
  queue: string;
  key: string | null;
}

/** Largest accepted concurrency, rate limit and burst. */
export const FLOW_MAX_COUNT = 1_000_000;
/** Longest accepted rate interval: one week. */
export const FLOW_MAX_INTERVAL_MS = 7 * 86_400_000;

function count(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > FLOW_MAX_COUNT) {
    throw new InvalidOptionError(
      field,
      `must be an integer from 1 to ${FLOW_MAX_COUNT}, got ${preview(value)}`,
    );
  }
  return value;
}

/** Check a rule's queue and key (the part that names it). */
export function assertFlowRuleName(queue: unknown, key: unknown, at = 'rule'): void {
  if (!isName(queue))
    throw new InvalidOptionError(`${at}.queue`, `queue names are ${NAME_RULE}, got ${preview(queue)}`);
  if (key === null) return;
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new InvalidOptionError(
      `${at}.key`,
      'must be a non-empty string of at most 512 characters, or null',
    );
  }
  const reason = unstorableTextReason(key);
  if (reason !== undefined)
    throw new InvalidOptionError(`${at}.key`, `contains ${reason}, which cannot be stored exactly`);
}

/** Check a rule as the driver receives it; throws `InvalidOptionError` naming the field. */
export function assertFlowRule(rule: FlowRule, at = 'rule'): void {
  if (typeof rule !== 'object' || rule === null) throw new InvalidOptionError(at, 'must be an object');
  assertFlowRuleName(rule.queue, rule.key, at);
  if (rule.concurrency !== null) count(`${at}.concurrency`, rule.concurrency);
  if (rule.rate !== null) {
    if (typeof rule.rate !== 'object')
      throw new InvalidOptionError(`${at}.rate`, 'must be an object or null');
    count(`${at}.rate.limit`, rule.rate.limit);
    count(`${at}.rate.burst`, rule.rate.burst);
    const ms = rule.rate.intervalMs;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > FLOW_MAX_INTERVAL_MS) {
      throw new InvalidOptionError(
        `${at}.rate.interval`,
        `must be from 1 ms to ${FLOW_MAX_INTERVAL_MS} ms (one week), got ${preview(ms)}`,
      );
    }
  }
  if (rule.concurrency === null && rule.rate === null) {
    throw new InvalidOptionError(at, 'needs a concurrency limit, a rate limit, or both');
  }
}

/**
 * GCRA (the generic cell rate algorithm): how many starts a rate allows at `now`, given the
 * stored theoretical arrival time `tat` (null: never started). The emission interval is
 * T = intervalMs / limit; a start is allowed while max(tat, now) ≤ now + (burst − 1)·T, and each
 * start moves tat to max(tat, now) + T. So n starts in a window from the first to the last of
 * them, W ms long, satisfy n ≤ burst + W / T: never more than `burst` at once, and `limit` per
 * interval in the long run, with no fixed windows (no double burst at a window's edge).
 */
export function gcraAllowed(rate: FlowRate, tat: number | null, now: EpochMs): number {
  const t = rate.intervalMs / rate.limit;
  const base = tat === null ? now : Math.max(tat, now);
  const allowed = Math.floor((now + (rate.burst - 1) * t - base) / t + 1e-9) + 1;
  return Math.max(0, allowed);
}

/** The theoretical arrival time after `started` starts at `now` (see `gcraAllowed`). */
export function gcraAdvance(rate: FlowRate, tat: number | null, now: EpochMs, started: number): number {
  const base = tat === null ? now : Math.max(tat, now);
  return base + (started * rate.intervalMs) / rate.limit;
}

// -- Fairness quantum (docs/flow-control.md, "Fairness") -------------------------------------------
//
// A claim's cost on the flow path is per key it serves (a key row locked and rewritten, its rule,
// slots and head read), not per job. One job per key per claim made a batch of 100 short jobs
// pay 100 keys' work: a third of unkeyed speed on PostgreSQL. So a large claim serves fewer keys
// and several jobs of each, no more than FLOW_QUANTUM of one key while other ready keys wait
// (only once every ready key was offered its share does a key with more give more); small
// claims (up to FLOW_MIN_KEYS jobs, the usual claim of a pool of slow jobs) take one job per key.
// Why 25: only claims of more than 10 × FLOW_MIN_KEYS jobs feel it — pools of sub-millisecond
// jobs claiming 500, which run in some 20 ms — and there 20 keys instead of 50 made a PostgreSQL
// keyed claim 15 % shorter (the claim is what such a keyed drain waits on); 50 saved only 4 % more
// (bench/results/2026-12-02-s27-keyed-claim.md).

/** The most jobs one key gives to a claim before the claim turns to keys that started later. */
export const FLOW_QUANTUM = 25;
/** A claim serves at least this many keys (all of them when fewer are ready). */
export const FLOW_MIN_KEYS = 10;

/**
 * How many ready keys a claim for `wanted` jobs takes, least recently started first: one job per
 * key for small claims, up to FLOW_QUANTUM per key for large ones. The claim shares `wanted`
 * among them round-robin and, when they have fewer due jobs than that, goes on to the next keys
 * (`nextFlowKeyBudget`).
 */
export function flowKeyBudget(wanted: number): number {
  return Math.max(1, Math.min(wanted, Math.max(FLOW_MIN_KEYS, Math.ceil(wanted / FLOW_QUANTUM))));
}

/**
 * The keys to take next when `keys` keys gave `started` jobs and `missing` are still wanted:
 * enough for `missing` at the yield per key just seen (at least one job per key assumed), so
 * keys with one due job each cost two rounds, not one per FLOW_MIN_KEYS keys.
 */
export function nextFlowKeyBudget(missing: number, started: number, keys: number): number {
  const perKey = keys > 0 ? Math.max(1, started / keys) : 1;
  return Math.max(1, Math.min(missing, Math.max(flowKeyBudget(missing), Math.ceil(missing / perKey))));
}

/** True when `pattern` (a rule's key) matches `key`: equal, or a `prefix*` pattern. */
export function flowPatternMatches(pattern: string, key: string): boolean {
  return pattern === key || (pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1)));
}

// -- Holds: `flow:held` / `flow:unheld` (docs/flow-control.md, "Events") --------------------------
//
// Why per key and not per job: a limit holds a KEY (or a queue), and every waiting job of it
// waits for the same reason; operators want "tenant:acme is at its limit", not one line per
// job. It is also what a claim can afford: the flow claim reads only the head job of each key,
// so the jobs behind it are never looked at, and a mark per job would cost a write per job. A
// key's hold is one nullable column (`held_since`) on the key row the claim already reads and
// locks: set by the first claim that passes the key over (a due job, no slot or no start its
// rate allows), cleared by the write that records the key's next start — so a hold costs one
// extra write when it begins and nothing when it ends, whatever the number of claim rounds or
// waiting jobs. Each write stores its event in the same transaction, so the log has exactly one
// `flow:held` and one `flow:unheld` per hold. Unkeyed jobs in queues without a queue-wide rule
// never reach this code.

/** Why a hold ended: a job of it started, or a claim found it no longer held with nothing of it to start. */
export type FlowUnheldReason = 'started' | 'cleared';

/** Which limit held a key or queue, from its rule and what a claim counted. */
export function flowHoldLimit(
  rule: { concurrency: number | null; rate: FlowRate | null },
  running: number,
): { limit: 'concurrency' | 'rate'; max: number; intervalMs: number | null } {
  if (rule.concurrency !== null && running >= rule.concurrency)
    return { limit: 'concurrency', max: rule.concurrency, intervalMs: null };
  return { limit: 'rate', max: rule.rate!.limit, intervalMs: rule.rate!.intervalMs };
}

/**
 * The `flow:held` entry of a key (or of a queue: key null). `running` is the key's (queue's)
 * running jobs at the claim; `max` the concurrency limit, or the rate's starts per `intervalMs`.
 */
export function flowHeldEntry(
  queue: string,
  key: string | null,
  hold: { limit: 'concurrency' | 'rate'; max: number; intervalMs: number | null },
  running: number,
  at: EpochMs,
): LogEntry {
  return {
    type: 'flow:held',
    data: { queue, key, scope: key === null ? 'queue' : 'key', ...hold, running, at },
  };
}

/** The `flow:unheld` entry of a key (or of a queue: key null) held since `heldSince`. */
export function flowUnheldEntry(
  queue: string,
  key: string | null,
  reason: FlowUnheldReason,
  heldSince: EpochMs,
  at: EpochMs,
): LogEntry {
  return {
    type: 'flow:unheld',
    data: {
      queue,
      key,
      scope: key === null ? 'queue' : 'key',
      reason,
      heldSince,
      heldMs: Math.max(0, at - heldSince),
      at,
    },
  };
}

/**
 * The order a claim stores its flow entries in (both drivers): by queue, then key (the queue's
 * own first), then type — so a claim's entries read the same on SQLite and PostgreSQL.
 */
export function compareFlowEntries(a: LogEntry, b: LogEntry): number {
  const x = a.data as { queue: string; key: string | null };
  const y = b.data as { queue: string; key: string | null };
  return (
    cmp(x.queue, y.queue) ||
    (x.key === y.key ? 0 : x.key === null ? -1 : y.key === null ? 1 : cmp(x.key, y.key)) ||
    cmp(a.type, b.type)
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
