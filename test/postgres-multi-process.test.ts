/** Several OS processes sharing one PostgreSQL schema. */
import { runMultiProcessSuite } from './suites/multi-process.js';
import { postgresDatabases } from './support/postgres.js';

runMultiProcessSuite(postgresDatabases, { processes: 4, jobs: 40_000 });
