/**
 * What a driver's tests hand to `runClientConformance`: a way to make fresh, empty databases.
 * The client/pool suites build whole clients (and several "processes'" views of one database) on
 * them, so they need databases, not just drivers.
 */
import type { ChildProcess } from 'node:child_process';
import type { Driver } from '../../driver.js';

/**
 * A connection of the database's own client library, outside any jobwire client, so the suite
 * can enqueue inside a transaction the caller owns and then commit or roll it back.
 */
export interface CallerConnection {
  /** What the driver accepts as the `transaction` enqueue option (for pg: a pool client). */
  readonly transaction: unknown;
  /** Run one statement on this connection: the suite sends `BEGIN`, `COMMIT` and `ROLLBACK`. */
  query(sql: string): Promise<unknown>;
  /** Give the connection back and close whatever `connect()` opened. */
  release(): Promise<void>;
}

/** One fresh, empty database (a SQLite file, a PostgreSQL schema). */
export interface ConformanceDatabase {
  /** What a child process needs to open the same database (a path or a connection string + schema). */
  location: string;
  /** A new driver instance on this database; call it twice to get two "processes'" views of it. */
  open(): Promise<Driver>;
  /** Drop the database. */
  cleanup(): Promise<void>;
  /**
   * A caller-owned connection to this database. Required when the driver's capabilities say
   * `callerTransactions`: the suite proves enqueue joins (and rolls back with) such a transaction.
   */
  connect?(): Promise<CallerConnection>;
  /**
   * Make this database refuse every write that completes a job (e.g. with a trigger) while other
   * writes, heartbeats included, still pass; resolves to a function that lifts the refusal. The
   * suite uses it to prove that outcome writes which keep failing for a reason other than an
   * outage never wedge a pool. Required: without it that test fails saying so.
   */
  refuseCompletions?(): Promise<() => Promise<void>>;
  /**
   * Take, from another connection of the database's own client library, a lock that makes every
   * write to the jobs wait (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: `LOCK TABLE … IN EXCLUSIVE
   * MODE` inside a transaction); resolves to a function that releases it and closes that
   * connection. The 'database away' suite proves calls wait for it without freezing the process.
   * Required by that suite: without it its tests fail saying so.
   */
  lockWrites?(): Promise<() => Promise<void>>;
  /**
   * Start another process (a `node` program of the driver's tests) that calls
   * `runConformanceChild` (exported by `jobwire/conformance`) with a driver on this database, with
   * `env` added to its environment and its stdout piped. The multi-process suite ('event log
   * processes') runs writers and readers this way, kills readers with SIGKILL and restarts them.
   * Required by that suite: without it its tests fail saying so.
   */
  startProcess?(env: Record<string, string>): ChildProcess;
}

/** Creates fresh databases for one driver. */
export interface ConformanceDatabases {
  /** Shown in the test report. */
  name: string;
  create(): Promise<ConformanceDatabase>;
}
