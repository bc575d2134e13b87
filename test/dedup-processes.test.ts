/** Dedup rules under contention from several OS processes, on SQLite and PostgreSQL. */
import { runDedupProcessSuite } from './suites/dedup-processes.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';

runDedupProcessSuite(sqliteDatabases, { processes: 3, keys: 5, rounds: 4, rollbacks: false });
runDedupProcessSuite(postgresDatabases, { processes: 4, keys: 5, rounds: 4, rollbacks: true });
runDedupProcessSuite(sqliteDatabases, { processes: 3, keys: 5, rounds: 6, rollbacks: false, workers: true });
runDedupProcessSuite(postgresDatabases, { processes: 3, keys: 5, rounds: 6, rollbacks: true, workers: true });
