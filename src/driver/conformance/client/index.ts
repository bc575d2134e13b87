/**
 * The client/pool conformance suites: the whole client (enqueue, pools, retries, events,
 * shutdown, services) on one driver, where `runDriverConformance` checks the driver alone.
 * A driver's test file calls `runClientConformance` once with a factory of fresh databases.
 */
import { runAbortSuite } from './abort.js';
import { runBadInputSuite } from './bad-input.js';
import { runBadOutcomeSuite } from './bad-outcomes.js';
import { runBulkAdminSuite } from './bulk-admin.js';
import { runClientServicesSuite } from './client-services.js';
import { runDatabaseAwaySuite } from './database-away.js';
import type { ConformanceDatabases } from './databases.js';
import { runDedupSuite } from './dedup.js';
import { runDependencySuite } from './dependencies.js';
import { runDependencyRetrySuite } from './dependency-retry.js';
import { runDirectStartSuite } from './direct-start.js';
import { runEnqueueAndQueuesSuite } from './enqueue-and-queues.js';
import { runEventLogSuite } from './event-log.js';
import { runEventLogProcessSuite } from './event-log-processes.js';
import { runEventOrderSuite } from './event-order.js';
import { runFlowHoldSuite } from './flow-holds.js';
import { runHealthSuite } from './health.js';
import { runInterruptionSuite } from './interruptions.js';
import { runLifecycleSuite } from './lifecycle.js';
import { runPoolRegistrySuite } from './pools.js';
import { runProgressSuite } from './progress.js';
import { runRetentionSuite } from './retention.js';
import { runScheduleSuite } from './schedules.js';
import { runTaskDefaultsSuite } from './task-defaults.js';
import { runPoolWakeupSuite } from './wakeups.js';

export type { CallerConnection, ConformanceDatabase, ConformanceDatabases } from './databases.js';
export { runConformanceChild } from './event-log-child.js';

/** The suites by name, in the order they run. */
const SUITES = {
  lifecycle: runLifecycleSuite,
  'enqueue and queues': runEnqueueAndQueuesSuite,
  dedup: runDedupSuite,
  'event order': runEventOrderSuite,
  abort: runAbortSuite,
  interruptions: runInterruptionSuite,
  'bad input': runBadInputSuite,
  'bad outcomes': runBadOutcomeSuite,
  progress: runProgressSuite,
  'client services': runClientServicesSuite,
  'task defaults': runTaskDefaultsSuite,
  wakeups: runPoolWakeupSuite,
  'direct starts': runDirectStartSuite,
  'pool registry': runPoolRegistrySuite,
  health: runHealthSuite,
  'event log': runEventLogSuite,
  'bulk admin': runBulkAdminSuite,
  retention: runRetentionSuite,
  schedules: runScheduleSuite,
  dependencies: runDependencySuite,
  'dependency retry': runDependencyRetrySuite,
  'flow holds': runFlowHoldSuite,
  'event log processes': runEventLogProcessSuite,
  'database away': runDatabaseAwaySuite,
} satisfies Record<string, (databases: ConformanceDatabases) => void>;

/** The name of one client/pool suite, for `ClientConformanceOptions.only`. */
export type ClientSuiteName = keyof typeof SUITES;

/** Every suite name, in the order `runClientConformance` registers them. */
export const CLIENT_SUITES = Object.keys(SUITES) as ClientSuiteName[];

/** Options of `runClientConformance`. */
export interface ClientConformanceOptions {
  /** Register only these suites (all by default), e.g. to try one area while writing a driver. */
  only?: readonly ClientSuiteName[];
}

/**
 * Register every client/pool suite with `node:test` for the driver behind `databases`.
 *
 * @example
 * runClientConformance({
 *   name: 'my-driver',
 *   async create() {
 *     const location = await makeEmptyDatabase();
 *     return { location, open: async () => myDriver(location), cleanup: () => dropDatabase(location) };
 *   },
 * });
 */
export function runClientConformance(
  databases: ConformanceDatabases,
  options: ClientConformanceOptions = {},
): void {
  const only = options.only ?? CLIENT_SUITES;
  // A misspelt name (from plain JavaScript) would otherwise run nothing and pass.
  const unknown = only.filter((name) => !(name in SUITES));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown client conformance suites: ${unknown.join(', ')} (known: ${CLIENT_SUITES.join(', ')})`,
    );
  }
  for (const name of CLIENT_SUITES) {
    if (only.includes(name)) SUITES[name](databases);
  }
}
