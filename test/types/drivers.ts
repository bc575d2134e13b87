/**
 * Type tests of the driver options that take a database library's object. Their types are
 * declared by jobwire (so the published types need no @types/pg or @types/better-sqlite3); these
 * checks, against the real libraries' types, keep them accepting what the libraries create and
 * refusing what they do not. Checked by `tsc --noEmit` in `npm test`, never run.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { type PostgresPool, postgresDriver } from '../../src/drivers/postgres/index.js';
import { type SqliteConnection, sqliteDriver } from '../../src/drivers/sqlite/index.js';

export function driverOptions(): void {
  sqliteDriver({ database: new Database(':memory:') });
  postgresDriver({ pool: new pg.Pool() });
  const connection: SqliteConnection = new Database(':memory:');
  const pool: PostgresPool = new pg.Pool();
  connection.name.toUpperCase();
  pool.options.toString();
  // @ts-expect-error a pg.Client is not a pool
  postgresDriver({ pool: new pg.Client() });
  // @ts-expect-error a path is not a connection
  sqliteDriver({ database: 'jobs.db' });
  // @ts-expect-error nor is a pool
  sqliteDriver({ database: new pg.Pool() });
}
