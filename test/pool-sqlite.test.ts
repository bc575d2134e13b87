/**
 * The client/pool suites on the SQLite driver. The PostgreSQL driver runs the same suites.
 */
import { runBadInputSuite } from './suites/bad-input.js';
import { runBadOutcomeSuite } from './suites/bad-outcomes.js';
import { runClientServicesSuite } from './suites/client-services.js';
import { runAbortSuite } from './suites/pool-abort.js';
import { runInterruptionSuite } from './suites/pool-interruptions.js';
import { runLifecycleSuite } from './suites/pool-lifecycle.js';
import { runPoolWakeupSuite } from './suites/pool-wakeups.js';
import { runTaskDefaultsSuite } from './suites/task-defaults.js';
import { sqliteDatabases } from './support/sqlite.js';

runLifecycleSuite(sqliteDatabases);
runAbortSuite(sqliteDatabases);
runInterruptionSuite(sqliteDatabases);
runBadInputSuite(sqliteDatabases);
runBadOutcomeSuite(sqliteDatabases);
runClientServicesSuite(sqliteDatabases);
runTaskDefaultsSuite(sqliteDatabases);
runPoolWakeupSuite(sqliteDatabases);
