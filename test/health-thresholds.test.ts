/** The health monitor's pure rules: threshold hysteresis, health numbers, the checks asked for. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Jobwire } from '../src/core/client.js';
import { InvalidOptionError } from '../src/core/errors.js';
import type { HealthOptions } from '../src/core/leader/health-monitor.js';
import {
  evaluateThreshold,
  healthChecks,
  queueHealth,
  RESOLVE_RATIO,
} from '../src/core/leader/health-thresholds.js';
import { emptyStats } from '../src/driver/queue-stats.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

describe('health thresholds', () => {
  it('fires only above the threshold and resolves only at 80 % of it or below', () => {
    assert.equal(RESOLVE_RATIO, 0.8);
    // Not fired: at the threshold holds, above fires.
    assert.equal(evaluateThreshold(false, 9, 10), 'hold');
    assert.equal(evaluateThreshold(false, 10, 10), 'hold');
    assert.equal(evaluateThreshold(false, 11, 10), 'fire');
    // Fired: above, at, and between 80 % and the threshold hold; at 80 % or below resolves.
    assert.equal(evaluateThreshold(true, 11, 10), 'hold');
    assert.equal(evaluateThreshold(true, 10, 10), 'hold');
    assert.equal(evaluateThreshold(true, 8.5, 10), 'hold');
    assert.equal(evaluateThreshold(true, 8, 10), 'resolve');
    assert.equal(evaluateThreshold(true, 0, 10), 'resolve');
    // A custom ratio.
    assert.equal(evaluateThreshold(true, 6, 10, 0.5), 'hold');
    // A lower bound (a count flagged atLeast) fires, and never resolves.
    assert.equal(evaluateThreshold(false, 11, 10, RESOLVE_RATIO, true), 'fire');
    assert.equal(evaluateThreshold(true, 0, 10, RESOLVE_RATIO, true), 'hold');
    assert.equal(evaluateThreshold(true, 5, 10, 0.5), 'resolve');
  });

  it('a value hovering around the threshold fires once and resolves once', () => {
    const values = [5, 11, 9, 12, 10, 9, 8.1, 11, 8, 9, 11];
    let fired = false;
    const decisions: string[] = [];
    for (const value of values) {
      const decision = evaluateThreshold(fired, value, 10);
      if (decision === 'fire') fired = true;
      if (decision === 'resolve') fired = false;
      decisions.push(decision);
    }
    assert.deepEqual(decisions, [
      'hold',
      'fire',
      'hold',
      'hold',
      'hold',
      'hold',
      'hold',
      'hold',
      'resolve',
      'hold',
      'fire',
    ]);
  });

  it('turns statistics into health numbers over the window', () => {
    const at = 1_000_000;
    const stats = {
      ...emptyStats('mail'),
      pending: 4,
      oldestPendingRunAt: at - 2500,
      completed: 30,
      failedAttempts: 10,
    };
    assert.deepEqual(queueHealth(stats, 60_000, at), {
      queue: 'mail',
      paused: false,
      scheduled: 0,
      pending: 4,
      precision: { pending: 'exact', scheduled: 'exact' },
      running: 0,
      oldestPendingMs: 2500,
      windowMs: 60_000,
      completed: 30,
      failedAttempts: 10,
      abandoned: 0,
      throughputPerSec: 0.5,
      successRate: 0.75,
      failureRate: 0.25,
      at,
    });
    const quiet = queueHealth(emptyStats('idle'), 60_000, at);
    assert.equal(quiet.oldestPendingMs, null);
    assert.equal(quiet.failureRate, null);
    assert.equal(quiet.successRate, null);
  });

  it('checks only the thresholds configured, counting nothing measured as 0', () => {
    const quiet = queueHealth(emptyStats('idle'), 60_000, 0);
    assert.deepEqual(healthChecks(quiet, {}), []);
    assert.deepEqual(healthChecks(quiet, { maxPending: 5, maxOldestPendingMs: 1000, maxFailureRate: 0.1 }), [
      { kind: 'queue-backlog', value: 0, threshold: 5 },
      { kind: 'queue-latency', value: 0, threshold: 1000 },
      { kind: 'queue-failure-rate', value: 0, threshold: 0.1 },
    ]);
  });

  it('refuses bad health options at construction, naming the field', () => {
    const bad: [HealthOptions, string][] = [
      [{ intervalMs: 5 }, 'health.intervalMs'],
      [{ windowMs: 10 }, 'health.windowMs'],
      [{ default: { maxPending: -1 } }, 'health.default.maxPending'],
      [{ default: { maxOldestPendingMs: 1.5 } }, 'health.default.maxOldestPendingMs'],
      [{ queues: { mail: { maxFailureRate: 2 } } }, 'health.queues.mail.maxFailureRate'],
      [{ queues: { 'bad queue!': {} } }, 'health.queues.bad queue!'],
    ];
    for (const [health, field] of bad) {
      const driver = sqliteDriver({ path: ':memory:' });
      assert.throws(
        () => new Jobwire({ driver, health }),
        (error: unknown) => error instanceof InvalidOptionError && error.message.includes(field),
        field,
      );
      void driver.close();
    }
    const driver = sqliteDriver({ path: ':memory:' });
    assert.doesNotThrow(() => new Jobwire({ driver, health: { queues: { mail: { maxPending: 0 } } } }));
    void driver.close();
  });
});
