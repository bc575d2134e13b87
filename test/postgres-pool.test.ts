/** The client/pool suites (the whole client, not just the driver) on PostgreSQL. */
import { runBadInputSuite } from './suites/bad-input.js';
import { runBadOutcomeSuite } from './suites/bad-outcomes.js';
import { runClientServicesSuite } from './suites/client-services.js';
import { runAbortSuite } from './suites/pool-abort.js';
import { runInterruptionSuite } from './suites/pool-interruptions.js';
import { runLifecycleSuite } from './suites/pool-lifecycle.js';
import { runPoolWakeupSuite } from './suites/pool-wakeups.js';
import { runTaskDefaultsSuite } from './suites/task-defaults.js';
import { postgresDatabases } from './support/postgres.js';

runLifecycleSuite(postgresDatabases);
runAbortSuite(postgresDatabases);
runInterruptionSuite(postgresDatabases);
runBadInputSuite(postgresDatabases);
runBadOutcomeSuite(postgresDatabases);
runClientServicesSuite(postgresDatabases);
runTaskDefaultsSuite(postgresDatabases);
runPoolWakeupSuite(postgresDatabases);
