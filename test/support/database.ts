/**
 * The shape every driver's test support provides, so one suite runs on every driver.
 */
import type { Driver } from '../../src/index.js';

/** One fresh, empty database (a SQLite file, a PostgreSQL schema). */
export interface TestDatabase {
  /** What a child process needs to open the same database (a path or a connection string + schema). */
  location: string;
  /** A new driver instance on this database; call it twice to get two "processes'" views of it. */
  open(): Promise<Driver>;
  /** Drop the database. */
  cleanup(): Promise<void>;
}

/** Creates fresh test databases for one driver. */
export interface TestDatabaseFactory {
  name: string;
  create(): Promise<TestDatabase>;
}
