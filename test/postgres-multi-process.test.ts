/** Several OS processes sharing one PostgreSQL schema. */
import { runCrashingNeighbourSuite } from './suites/crashing-neighbour.js';
import { runMultiProcessSuite } from './suites/multi-process.js';
import { postgresDatabases } from './support/postgres.js';

// 10,000 jobs keep all four processes claiming side by side for seconds (the suite asserts every
// process ran jobs and reports how many each ran); more would only lengthen the run.
runMultiProcessSuite(postgresDatabases, { processes: 4, jobs: 10_000 });
runCrashingNeighbourSuite(postgresDatabases, { processes: 2 });
