/**
 * The client/pool suites on the SQLite driver. The PostgreSQL driver runs the same suites.
 */
import { runClientConformance } from '../src/driver/conformance/index.js';
import { sqliteDatabases } from './support/sqlite.js';

runClientConformance(sqliteDatabases);
