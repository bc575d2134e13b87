/**
 * `jobwire.flow`: concurrency limits, rate limits and fairness rules, stored in the database so
 * every process enforces the same ones (docs/flow-control.md). Claims read the rules on every
 * claim, so a change applies to the next job started by any process.
 */
import type { FlowRuleRecord } from '../../driver/flow.js';
import { assertFlowRuleName } from '../../driver/flow.js';
import { assertKnownOptions } from '../known-options.js';
import type { Runtime } from '../runtime.js';
import { type FlowRuleDefinition, normalizeFlowRule } from './rules.js';

/** A rule as `list` shows it. */
export interface FlowRuleInfo {
  queue: string;
  /** null: the queue-wide rule; else an exact key, a `prefix*` pattern or `*`. */
  key: string | null;
  concurrency: number | null;
  rate: { limit: number; intervalMs: number; burst: number } | null;
  updatedAt: Date;
}

const info = (record: FlowRuleRecord): FlowRuleInfo => ({
  queue: record.queue,
  key: record.key,
  concurrency: record.concurrency,
  rate: record.rate,
  updatedAt: new Date(record.updatedAt),
});

const REMOVE_FIELDS = new Set(['queue', 'key']);

/** See the module comment. One per client, exposed as `jobwire.flow`. */
export class FlowApi {
  readonly #runtime: Runtime;
  readonly #assertOpen: () => void;

  constructor(runtime: Runtime, assertOpen: () => void) {
    this.#runtime = runtime;
    this.#assertOpen = assertOpen;
  }

  /**
   * Create or replace rules (by queue and key), all or none; an unchanged rule writes nothing, so
   * every process may set its code's rules at start. Throws `InvalidOptionError` naming the field.
   */
  async set(...rules: FlowRuleDefinition[]): Promise<void> {
    this.#assertOpen();
    const normalized = rules.map((rule, i) =>
      normalizeFlowRule(rule, rules.length === 1 ? 'flow' : `flow[${i}]`),
    );
    if (normalized.length === 0) return;
    await this.#runtime.driver.flowRuleSet({ rules: normalized });
  }

  /** Remove the rule of `queue` for `key` (absent or null: the queue-wide rule). True if it existed. */
  async remove(rule: { queue: string; key?: string | null }): Promise<boolean> {
    this.#assertOpen();
    if (typeof rule === 'object' && rule !== null)
      assertKnownOptions('flow', rule, REMOVE_FIELDS, 'field of a rule to remove');
    const key = rule?.key ?? null;
    assertFlowRuleName(rule?.queue, key, 'flow');
    return this.#runtime.driver.flowRuleRemove({ queue: rule.queue, key });
  }

  /** Every rule, sorted by queue, then key (the queue-wide rule first). */
  async list(): Promise<FlowRuleInfo[]> {
    this.#assertOpen();
    return (await this.#runtime.driver.flowRuleList()).map(info);
  }
}
