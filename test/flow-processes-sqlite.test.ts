/** Flow control across OS processes sharing one SQLite file. */
import { runFlowProcessSuite } from './suites/flow-processes.js';
import { sqliteDatabases } from './support/sqlite.js';

runFlowProcessSuite(sqliteDatabases, { processes: 3 });
