/** Flow control across OS processes sharing one PostgreSQL schema. */
import { runFlowProcessSuite } from './suites/flow-processes.js';
import { postgresDatabases } from './support/postgres.js';

runFlowProcessSuite(postgresDatabases, { processes: 3 });
