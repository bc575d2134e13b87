/**
 * The queue-health monitor, a leader-only service: every interval it reads the queues'
 * statistics from storage (`queueStats`), emits `queue:health` per queue, and evaluates the
 * configured thresholds with hysteresis (`health-thresholds.ts`), emitting `alert:fired`
 * (+ `queue:backlog`) and `alert:resolved`.
 *
 * Alert state lives in storage, not in the leader's memory: a new leader reads which alerts are
 * fired, so a hand-over neither fires an alert again nor forgets to resolve one. Each change is a
 * compare-and-set (`alertFire` stores an alert only if absent, `alertResolve` removes it only if
 * present) and the events follow only the write that changed it, so even two leaders
 * overlapping during a hand-over announce each change once.
 */

import { MAX_EXACT_UP_TO } from '../../driver/bounded-counts.js';
import type { LogEntry, StoredAlert } from '../../driver/driver.js';
import { emptyStats } from '../../driver/queue-stats.js';
import { InvalidOptionError } from '../errors.js';
import type { HealthAlertKind } from '../events.js';
import { emitEntries } from '../job-events.js';
import { DEFAULT_EXACT_UP_TO } from '../jobs-api.js';
import { assertKnownOptions, optionNames } from '../known-options.js';
import { validateQueueName } from '../options.js';
import type { Runtime } from '../runtime.js';
import type { EpochMs } from '../types.js';
import {
  evaluateThreshold,
  healthChecks,
  healthValue,
  type QueueHealthThresholds,
  queueHealth,
} from './health-thresholds.js';
import type { LeaderService } from './service.js';

export type { QueueHealthThresholds };

/** The `health` client option: the leader-only queue-health monitor runs when it is given. */
export interface HealthOptions {
  /** How often the leader reads the statistics and evaluates thresholds, in ms. Default 5000. */
  intervalMs?: number;
  /** The window of throughput, success and failure rates, in ms. Default 60 000. */
  windowMs?: number;
  /** Thresholds by queue name; a queue not listed uses `default`. */
  queues?: Record<string, QueueHealthThresholds>;
  /** Thresholds of every queue not listed in `queues`. Default: none (health events only). */
  default?: QueueHealthThresholds;
}

const HEALTH_OPTION_NAMES = optionNames<HealthOptions>({
  intervalMs: true,
  windowMs: true,
  queues: true,
  default: true,
});
const THRESHOLD_NAMES = optionNames<QueueHealthThresholds>({
  maxPending: true,
  maxOldestPendingMs: true,
  maxFailureRate: true,
});

/** Checked health options with their defaults applied. */
interface MonitorSettings {
  intervalMs: number;
  windowMs: number;
  queues: ReadonlyMap<string, QueueHealthThresholds>;
  default: QueueHealthThresholds;
}

function checkThresholds(field: string, value: QueueHealthThresholds | undefined): QueueHealthThresholds {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new InvalidOptionError(field, 'must be an object');
  assertKnownOptions(field, value, THRESHOLD_NAMES, 'threshold');
  const { maxPending, maxOldestPendingMs, maxFailureRate } = value;
  if (maxPending !== undefined && !(Number.isInteger(maxPending) && maxPending >= 0)) {
    throw new InvalidOptionError(`${field}.maxPending`, 'must be an integer >= 0');
  }
  if (
    maxOldestPendingMs !== undefined &&
    !(Number.isInteger(maxOldestPendingMs) && maxOldestPendingMs >= 0)
  ) {
    throw new InvalidOptionError(`${field}.maxOldestPendingMs`, 'must be an integer >= 0');
  }
  if (
    maxFailureRate !== undefined &&
    !(typeof maxFailureRate === 'number' && maxFailureRate >= 0 && maxFailureRate <= 1)
  ) {
    throw new InvalidOptionError(`${field}.maxFailureRate`, 'must be a number from 0 to 1');
  }
  return { maxPending, maxOldestPendingMs, maxFailureRate };
}

function checkOptions(options: HealthOptions): MonitorSettings {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('health', 'must be an object');
  assertKnownOptions('health', options, HEALTH_OPTION_NAMES, 'health option');
  const intervalMs = options.intervalMs ?? 5000;
  const windowMs = options.windowMs ?? 60_000;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new InvalidOptionError('health.intervalMs', 'must be an integer >= 10');
  }
  if (!Number.isInteger(windowMs) || windowMs < 1000) {
    throw new InvalidOptionError('health.windowMs', 'must be an integer >= 1000');
  }
  const queues = new Map<string, QueueHealthThresholds>();
  for (const [queue, thresholds] of Object.entries(options.queues ?? {})) {
    validateQueueName(queue, `health.queues.${queue}`);
    queues.set(queue, checkThresholds(`health.queues.${queue}`, thresholds));
  }
  return { intervalMs, windowMs, queues, default: checkThresholds('health.default', options.default) };
}

/** See the module comment. Run by the `LeaderElector`, never directly. */
export class HealthMonitor implements LeaderService {
  readonly name = 'health-monitor';
  readonly operation = 'evaluate';
  readonly intervalMs: number;
  readonly #runtime: Runtime;
  readonly #settings: MonitorSettings;
  /**
   * The waiting counts' cap: at least the largest `maxPending`, so a count flagged `atLeast`
   * (the cap + 1) is above every backlog threshold and fires its alert; it never resolves one
   * (`evaluateThreshold`'s lower bound). The read costs at most the cap per queue.
   */
  readonly #exactUpTo: number;

  /** Throws InvalidOptionError for bad options (at client construction). */
  constructor(runtime: Runtime, options: HealthOptions) {
    this.#settings = checkOptions(options);
    this.intervalMs = this.#settings.intervalMs;
    this.#runtime = runtime;
    const maxPending = [...this.#settings.queues.values(), this.#settings.default].map(
      (t) => t.maxPending ?? 0,
    );
    this.#exactUpTo = Math.min(MAX_EXACT_UP_TO, Math.max(DEFAULT_EXACT_UP_TO, ...maxPending));
  }

  /** One evaluation of every queue. Rejects when storage fails. */
  async runOnce(): Promise<void> {
    const { driver, events, clock } = this.#runtime;
    const { windowMs, queues } = this.#settings;
    const stats = await driver.queueStats({
      windowMs,
      exactUpTo: this.#exactUpTo,
      now: this.#runtime.dbNow(),
    });
    const fired = new Map((await driver.alertList()).map((alert) => [alert.id, alert]));
    const at = clock.now();
    const byQueue = new Map(stats.map((entry) => [entry.queue, entry]));
    // A queue that emptied out (or a configured one never used) still gets evaluated, so its
    // alerts resolve and its health is reported.
    for (const queue of [...queues.keys(), ...[...fired.values()].map((alert) => alert.queue)]) {
      if (!byQueue.has(queue)) byQueue.set(queue, emptyStats(queue));
    }
    for (const entry of byQueue.values()) {
      const health = queueHealth(entry, windowMs, at);
      events.emit('queue:health', health);
      const thresholds = queues.get(entry.queue) ?? this.#settings.default;
      const checks = healthChecks(health, thresholds);
      for (const check of checks) {
        const alertId = `${check.kind}:${entry.queue}`;
        const stored = fired.get(alertId);
        const lowerBound = check.kind === 'queue-backlog' && entry.precision.pending === 'atLeast';
        const decision = evaluateThreshold(
          stored !== undefined,
          check.value,
          check.threshold,
          undefined,
          lowerBound,
        );
        const event = { alertId, queue: entry.queue, ...check, at };
        if (decision === 'fire') {
          const alert = { id: alertId, queue: entry.queue, ...check, firedAt: at };
          // Stored with the alert, so the log has it exactly once per cluster too.
          const entries: LogEntry[] = [];
          if (check.kind !== 'queue-failure-rate') {
            entries.push({ type: 'queue:backlog', data: { ...event, kind: check.kind } });
          }
          entries.push({ type: 'alert:fired', data: event });
          const log = this.#runtime.eventLog ? (stored: boolean) => (stored ? entries : []) : undefined;
          if (!(await driver.alertFire({ alert, log }))) continue;
          emitEntries(events, entries);
        } else if (decision === 'resolve' && stored) {
          // The threshold in force now: after a change, the one it fired on would contradict the
          // value (resolved at 51 "over" 50 when the threshold had become 100).
          await this.#resolve(stored, check.value, at, check.threshold);
        }
      }
      // A fired alert whose threshold is no longer configured (removed, or its queue dropped
      // from `queues`) would never be evaluated again: it would stay open at the receiver and,
      // stored as fired, silence the same threshold added back later. It resolves now.
      const checked = new Set(checks.map((check) => `${check.kind}:${entry.queue}`));
      for (const stored of fired.values()) {
        if (stored.queue !== entry.queue || checked.has(stored.id) || !isAlertKind(stored.kind)) continue;
        await this.#resolve(stored, healthValue(health, stored.kind), at);
      }
    }
  }

  /**
   * Remove a fired alert; announce `alert:resolved` only if this call removed it. `threshold`: the
   * one in force (the one it fired on when it is no longer configured).
   */
  async #resolve(
    stored: StoredAlert,
    value: number,
    at: EpochMs,
    threshold = stored.threshold,
  ): Promise<void> {
    const { driver, events } = this.#runtime;
    const data = {
      alertId: stored.id,
      queue: stored.queue,
      kind: stored.kind as HealthAlertKind,
      value,
      threshold,
      at,
      firedAt: stored.firedAt,
    };
    const entries: LogEntry[] = [{ type: 'alert:resolved', data }];
    const log = this.#runtime.eventLog ? (removed: boolean) => (removed ? entries : []) : undefined;
    if (await driver.alertResolve({ id: stored.id, log })) emitEntries(events, entries);
  }
}

const ALERT_KINDS: readonly string[] = ['queue-backlog', 'queue-latency', 'queue-failure-rate'];

/** Whether a stored kind is one this version evaluates (a row of another version is left alone). */
function isAlertKind(kind: string): kind is HealthAlertKind {
  return ALERT_KINDS.includes(kind);
}
