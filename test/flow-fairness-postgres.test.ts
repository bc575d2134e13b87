/** Fairness under a 100,000-job backlog of one tenant, on PostgreSQL. */
import { runFlowFairnessSuite } from './suites/flow-fairness.js';
import { postgresDatabases } from './support/postgres.js';

runFlowFairnessSuite(postgresDatabases);
