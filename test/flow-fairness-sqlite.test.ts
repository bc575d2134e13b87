/** Fairness under a 100,000-job backlog of one tenant, on SQLite. */
import { runFlowFairnessSuite } from './suites/flow-fairness.js';
import { sqliteDatabases } from './support/sqlite.js';

runFlowFairnessSuite(sqliteDatabases);
