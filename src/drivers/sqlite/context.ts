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

/** The SQL list of states a job can still leave on its own. */
export const ACTIVE_STATES_SQL = `('scheduled', 'pending', 'running')`;

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
