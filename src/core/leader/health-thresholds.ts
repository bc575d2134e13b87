/**
 * The health monitor's pure parts: a queue's statistics turned into its health numbers, and the
 * hysteresis of a threshold. Kept free of I/O so the rules are tested on their own.
 */
import type { QueueStats } from '../../driver/driver.js';
import type { HealthAlertKind, QueueHealthEvent } from '../events.js';
import type { EpochMs } from '../types.js';

/**
 * A fired alert resolves once its value is at or below this share of its threshold. The gap
 * between the two keeps a value that hovers around the threshold from firing and resolving on
 * every run.
 */
export const RESOLVE_RATIO = 0.8;

/** What one evaluation does with an alert. */
export type ThresholdDecision = 'fire' | 'resolve' | 'hold';

/**
 * Hysteresis of one threshold: an alert that is not fired fires when `value` exceeds
 * `threshold`; a fired one resolves when `value` is at or below `threshold × resolveRatio`;
 * anything else holds the current state. A `lowerBound` value (a count flagged `atLeast`) can
 * prove the threshold exceeded, never the opposite: it fires, but does not resolve.
 */
export function evaluateThreshold(
  fired: boolean,
  value: number,
  threshold: number,
  resolveRatio: number = RESOLVE_RATIO,
  lowerBound = false,
): ThresholdDecision {
  if (!fired) return value > threshold ? 'fire' : 'hold';
  return value <= threshold * resolveRatio && !lowerBound ? 'resolve' : 'hold';
}

/** The thresholds of one queue (see `HealthOptions`). */
export interface QueueHealthThresholds {
  /** Alert (`queue-backlog`) when more due jobs than this wait for a worker. */
  maxPending?: number;
  /** Alert (`queue-latency`) when the oldest due job has waited longer than this, in ms. */
  maxOldestPendingMs?: number;
  /** Alert (`queue-failure-rate`) when the failed share of attempts in the window exceeds this (0–1). */
  maxFailureRate?: number;
}

/** A queue's statistics as the `queue:health` payload at `at`. */
export function queueHealth(stats: QueueStats, windowMs: number, at: EpochMs): QueueHealthEvent {
  const ended = stats.completed + stats.failedAttempts;
  return {
    queue: stats.queue,
    paused: stats.paused,
    scheduled: stats.scheduled,
    pending: stats.pending,
    running: stats.running,
    precision: stats.precision,
    oldestPendingMs: stats.oldestPendingRunAt === null ? null : Math.max(0, at - stats.oldestPendingRunAt),
    windowMs,
    completed: stats.completed,
    failedAttempts: stats.failedAttempts,
    abandoned: stats.abandoned,
    throughputPerSec: stats.completed / (windowMs / 1000),
    successRate: ended === 0 ? null : stats.completed / ended,
    failureRate: ended === 0 ? null : stats.failedAttempts / ended,
    at,
  };
}

/** One threshold to evaluate for a queue. */
export interface HealthCheck {
  kind: HealthAlertKind;
  value: number;
  threshold: number;
}

/**
 * The value an alert of `kind` compares with its threshold. A measure with nothing to measure
 * counts as 0 (no job waits, no attempt ended), so an alert fired on it resolves once the queue
 * is quiet.
 */
export function healthValue(health: QueueHealthEvent, kind: HealthAlertKind): number {
  switch (kind) {
    case 'queue-backlog':
      return health.pending;
    case 'queue-latency':
      return health.oldestPendingMs ?? 0;
    case 'queue-failure-rate':
      return health.failureRate ?? 0;
  }
}

/** Which threshold option each alert kind compares with. */
const THRESHOLD_OF: Record<HealthAlertKind, keyof QueueHealthThresholds> = {
  'queue-backlog': 'maxPending',
  'queue-latency': 'maxOldestPendingMs',
  'queue-failure-rate': 'maxFailureRate',
};

/** The checks `thresholds` asks for on `health`, one per configured threshold. */
export function healthChecks(health: QueueHealthEvent, thresholds: QueueHealthThresholds): HealthCheck[] {
  const checks: HealthCheck[] = [];
  for (const kind of Object.keys(THRESHOLD_OF) as HealthAlertKind[]) {
    const threshold = thresholds[THRESHOLD_OF[kind]];
    if (threshold !== undefined) checks.push({ kind, value: healthValue(health, kind), threshold });
  }
  return checks;
}
