/**
 * The conformance suites (`jobwire/conformance`): ONE set of behaviour tests that every driver
 * runs, so SQLite, PostgreSQL and any third driver are proven to behave the same.
 *
 * - `runDriverConformance` checks the driver alone: each test gets a fresh, migrated driver and
 *   closes it. Tests never name a driver and never read the wall clock.
 * - `runClientConformance` (see ./client) runs whole clients and pools on fresh databases of the
 *   driver: events, retries, shutdown, services.
 *
 * @example
 * runDriverConformance({
 *   name: 'my-driver',
 *   createDriver: async () => { const d = myDriver(); await d.migrate(); return d; },
 *   skip: [{ reason: 'no LISTEN on this server', tests: ['release, rescue and retry notify jobAvailable'] }],
 * });
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Driver } from '../driver.js';
import { adminTests } from './admin.js';
import { badInputTests } from './bad-input.js';
import { badOutcomeTests } from './bad-outcomes.js';
import { claimTests } from './claim.js';
import { dedupTests } from './dedup.js';
import { deleteAtCompletionTests } from './delete-at-completion.js';
import { directStartTests } from './direct-start.js';
import { finalizeTests } from './finalize.js';
import { flowTests } from './flow.js';
import { flowHoldTests } from './flow-holds.js';
import type { DefineTest } from './harness.js';
import { heartbeatRescueReleaseTests } from './heartbeat-rescue-release.js';
import { insertTests } from './insert.js';
import { interruptionTests } from './interruptions.js';
import { jobListBoundedTests } from './job-list-bounded.js';
import { leaderTests } from './leader.js';
import { migrateTests } from './migrate.js';
import { notifierTests } from './notifier.js';
import { poolTests } from './pools.js';
import { queueCountTests } from './queue-counts.js';
import { queueStatsTests } from './queue-stats.js';
import { queueTests } from './queues.js';
import { retentionTests } from './retention.js';
import { scheduleTests } from './schedules.js';
import { taskDefaultsTests } from './task-defaults.js';

export {
  type CallerConnection,
  CLIENT_SUITES,
  type ClientConformanceOptions,
  type ClientSuiteName,
  type ConformanceDatabase,
  type ConformanceDatabases,
  runClientConformance,
  runConformanceChild,
} from './client/index.js';
export { T0 } from './harness.js';

/** Options of `runDriverConformance`. */
export interface DriverConformanceOptions {
  /** Shown in the test report. */
  name: string;
  /** A fresh driver whose schema is migrated; the suite closes it after each test. */
  createDriver: () => Promise<Driver>;
  /** Tests this driver cannot pass, by exact title, each group with the reason. */
  skip?: { reason: string; tests: string[] }[];
}

const AREAS: [string, (test: DefineTest) => void][] = [
  ['insert', insertTests],
  ['dedup rules', dedupTests],
  ['claim', claimTests],
  ['direct start', directStartTests],
  ['finalize', finalizeTests],
  ['delete at completion', deleteAtCompletionTests],
  ['bad outcomes', badOutcomeTests],
  ['heartbeat, rescue, release', heartbeatRescueReleaseTests],
  ['interruptions', interruptionTests],
  ['admin', adminTests],
  ['bounded job list', jobListBoundedTests],
  ['queues', queueTests],
  ['queue stats', queueStatsTests],
  ['queue counts', queueCountTests],
  ['leader', leaderTests],
  ['task defaults', taskDefaultsTests],
  ['pools', poolTests],
  ['notifier', notifierTests],
  ['migrate and life cycle', migrateTests],
  ['bad input', badInputTests],
  ['retention', retentionTests],
  ['schedules', scheduleTests],
  ['flow control', flowTests],
  ['flow holds', flowHoldTests],
];

/** Register the whole suite with `node:test` for one driver. */
export function runDriverConformance(options: DriverConformanceOptions): void {
  const skipReasons = new Map<string, string>();
  for (const group of options.skip ?? []) {
    for (const title of group.tests) skipReasons.set(title, group.reason);
  }
  const titles = new Set<string>();

  const test: DefineTest = (title, body) => {
    // Skips name tests by title, so a title must identify one test.
    if (titles.has(title)) throw new Error(`Two conformance tests are titled "${title}"`);
    titles.add(title);
    const reason = skipReasons.get(title);
    it(title, reason === undefined ? {} : { skip: reason }, async () => {
      const driver = await options.createDriver();
      try {
        await body(driver);
      } finally {
        await driver.close();
      }
    });
  };

  describe(`driver conformance: ${options.name}`, () => {
    for (const [area, register] of AREAS) describe(area, () => register(test));

    // A skip entry that matches no test would silently skip nothing (a renamed test, a typo).
    it('every skipped test exists', () => {
      const unknown = [...skipReasons.keys()].filter((title) => !titles.has(title));
      assert.deepEqual(unknown, [], 'skip lists tests that do not exist');
    });
  });
}
