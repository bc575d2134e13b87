/** What every area of the SQLite driver shares. */
import type BetterSqlite3 from 'better-sqlite3';
import type { EpochMs } from '../../core/types.js';
import type { Notifier } from '../../driver/driver.js';

/** The open connection plus the helpers each area file builds its methods from. */
export interface SqliteContext {
  readonly db: BetterSqlite3.Database;
  readonly notifier: Notifier;
  /**
   * The `now` param, else the process's wall clock (SQLite has no clock of its own worth asking).
   * For stored times (due times, timestamps, the displayed lease expiry); never to decide whether
   * a lease or a leadership is alive, which processes' clocks cannot agree on: see `livenessNow`.
   */
  now(given: EpochMs | undefined): EpochMs;
}

/**
 * The clock that decides liveness on SQLite: the `now` param when a test drives the clock, else
 * this process's monotonic clock (`performance.now()`). Only differences of its readings within
 * one process mean anything, so wall-clock steps (NTP, VM resume) and skew between processes
 * sharing the file cannot make a live lease look expired. `injected` tells the two apart, so
 * readings of one are never compared with readings of the other.
 */
export function livenessNow(given: EpochMs | undefined): { at: number; injected: boolean } {
  return given === undefined ? { at: performance.now(), injected: false } : { at: given, injected: true };
}

/**
 * A job is active — in a state it can still leave on its own — as equalities, not `state IN (…)`:
 * the unique-key indexes are partial on exactly this text (schema 17), and SQLite uses a partial
 * index only for a query that names its condition, so keep the two the same. (An IN list of more
 * than two constants also costs SQLite a temporary index per statement execution.)
 */
export const activeStateSql = (column = 'state'): string =>
  `(${column} = 'scheduled' OR ${column} = 'pending' OR ${column} = 'running')`;

/** A job is finished, in the form `jobwire_jobs_unique_key_finished` is partial on (see above). */
export const finishedStateSql = (column = 'state'): string =>
  `(${column} = 'completed' OR ${column} = 'abandoned' OR ${column} = 'cancelled')`;

/** The active job holding a unique key (through `jobwire_jobs_unique_key`). */
export const ACTIVE_BY_UNIQUE_KEY_SQL = `SELECT * FROM jobwire_jobs WHERE unique_key = ? AND ${activeStateSql()}`;

/**
 * The finished jobs that held a unique key and finished after a time, newest first (through
 * `jobwire_jobs_unique_key_finished`).
 */
export const FINISHED_BY_UNIQUE_KEY_SQL = `SELECT * FROM jobwire_jobs
  WHERE unique_key = ? AND ${finishedStateSql()} AND finished_at > ?
  ORDER BY finished_at DESC, id DESC`;

/**
 * Clear a finished or re-queued attempt's lease. The token stays: it only ever grows, so a
 * worker that still holds the old one is fenced off forever.
 */
export const CLEAR_LEASE_SQL = 'lease_expires_at = NULL, worker_id = NULL';

/**
 * Start an attempt: `running` under a new lease (the next token), for the pool `@poolId`, until
 * `@expiresAt`. Every claim statement (claim.ts, flow.ts) sets exactly this.
 */
export const START_ATTEMPT_SQL = `state = 'running', attempt = attempt + 1, lease_token = lease_token + 1,
  lease_expires_at = @expiresAt, lease_ms = @leaseMs, heartbeat_seq = 0, worker_id = @poolId, started_at = @now`;

/** Append one StoredError (bound as JSON text) to the `errors` array. */
export const APPEND_ERROR_SQL = `errors = json_insert(errors, '$[#]', json(?))`;

/** The guard on every write a worker makes: the job is still running under this lease. */
export const FENCE = `WHERE id = ? AND state = 'running' AND lease_token = ?`;
