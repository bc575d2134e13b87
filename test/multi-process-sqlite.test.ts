/**
 * Several OS processes sharing one SQLite file.
 */
import { runCrashingNeighbourSuite } from './suites/crashing-neighbour.js';
import { runMultiProcessSuite } from './suites/multi-process.js';
import { sqliteDatabases } from './support/sqlite.js';

runMultiProcessSuite(sqliteDatabases, { processes: 2, jobs: 10_000 });
runCrashingNeighbourSuite(sqliteDatabases, { processes: 2 });
