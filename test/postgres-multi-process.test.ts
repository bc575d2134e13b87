/** Several OS processes sharing one PostgreSQL schema. */
import { runCrashingNeighbourSuite } from './suites/crashing-neighbour.js';
import { runMultiProcessSuite } from './suites/multi-process.js';
import { postgresDatabases } from './support/postgres.js';

runMultiProcessSuite(postgresDatabases, { processes: 4, jobs: 40_000 });
runCrashingNeighbourSuite(postgresDatabases, { processes: 2 });
